// net::SessionServer: what every session protocol's server (SMTP, POP3) owns the same way:
// its listeners (one, or a plain and an implicit-TLS one), the buffer limits each admitted
// connection gets, the ids that tie a session's log lines together, the connection count
// and stop(). net::SessionLimits: the protocol limits new sessions start with.
//
// Typical use, inside smtp::Server / pop3::Server:
//   net::SessionServer sessions(clock, buffers);
//   sessions.listen(loop, options, [this](Connection& c, std::string id) { ... return h; });
//   sessions.port(0); sessions.connections(); sessions.stop();
// What stays in each protocol's server is what differs: its reject line (RFC 5321 §3.1
// 421, RFC 2449 §8 -ERR [SYS/TEMP]), which listeners it opens, and its Conversation.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "net/connection.h"
#include "net/listener.h"
#include "net/session_ids.h"

namespace postern::net {

// Loop thread only. Destroying (or stop()) closes every listener, which aborts every
// connection still open (each still reaches its handler's on_closed()).
class SessionServer {
 public:
  // Gets the connection (its buffer limits already set) and the session's id; returns the
  // handler, or nullptr to refuse (net::ConnectionFactory).
  using Accept = std::function<ConnectionHandler*(Connection& conn, std::string session_id)>;

  // Session ids start from the clock's time now: unique across restarts.
  SessionServer(const core::Clock& clock, ConnectionLimits buffers);
  ~SessionServer();
  SessionServer(const SessionServer&) = delete;
  SessionServer& operator=(const SessionServer&) = delete;

  // Binds one more listener (Listener::start's errors). The first is number 0.
  core::Result<void> listen(uv_loop_t* loop, ListenerOptions options, Accept accept);
  // The port listener `index` bound; 0 when there is no such listener.
  std::uint16_t port(std::size_t index = 0) const;
  // Admitted connections still open, over every listener.
  std::size_t connections() const;
  void stop();

 private:
  ConnectionLimits buffers_;
  SessionIds ids_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

// The limits new sessions start with. A session keeps the shared_ptr it was given, so a
// SIGHUP's set() changes only the sessions that start after it. Loop thread only.
template <class Limits>
class SessionLimits {
 public:
  explicit SessionLimits(Limits limits)
      : current_(std::make_shared<const Limits>(std::move(limits))) {}
  void set(Limits limits) { current_ = std::make_shared<const Limits>(std::move(limits)); }
  std::shared_ptr<const Limits> current() const { return current_; }

 private:
  std::shared_ptr<const Limits> current_;
};

}  // namespace postern::net
