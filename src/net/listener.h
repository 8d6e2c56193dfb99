// A listening TCP socket that admits connections within the service's limits
// and hands each one to the service's factory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <uv.h>

#include "core/result.h"
#include "net/connection.h"
#include "net/idle_eviction.h"
#include "tls/server_config.h"

namespace postern::net {

struct ListenerOptions {
  std::string name = "net";           // log prefix and connection id prefix, e.g. "smtp"
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6 ("::" is dual-stack)
  std::uint16_t port = 0;             // 0: the kernel picks; see bound_port()
  std::size_t max_connections = 64;   // admitted at once, all clients
  std::size_t max_per_ip = 8;         // admitted at once from one address
  // Written to a client over either limit before closing, e.g. the SMTP
  // service's "421 4.7.0 ..." line. Not used on TLS listeners: a plaintext line
  // means nothing to a TLS client, which is simply closed.
  std::string reject_line;
  // Bounds the reject line's flush against a client that does not read.
  std::chrono::milliseconds reject_timeout{10'000};
  // After the reject line, wait up to this long for what the client sends, drop it, then
  // close: closing with unread input makes the kernel answer with a reset, which can
  // destroy the reply before an HTTP client (who speaks first) reads it (RFC 9112 §9.6).
  // 0: close once the line is flushed. At most max_connections linger at once.
  std::chrono::milliseconds reject_linger{0};
  // Idle eviction under load (net/idle_eviction.h); the handlers say who is evictable.
  EvictionOptions eviction;
  // Implicit TLS (POP3S, HTTPS): every connection starts with a handshake.
  // Must outlive the listener and every connection it made.
  const tls::ServerConfig* tls = nullptr;
  int backlog = 128;
};

// Called once per admitted connection, on the loop thread. It sets limits and a
// timeout, may send a greeting (held until the handshake on TLS listeners), and
// returns the handler, which must stay valid until its on_closed(). nullptr
// refuses the connection (it is closed, no handler is called).
using ConnectionFactory = std::function<ConnectionHandler*(Connection&)>;

// REQUIRES: the process ignores SIGPIPE (main() does, before uv_run): libuv
// writes with write(2), so a write to a reset peer would otherwise kill it.
// Loop thread only. The listener owns its uv_tcp_t until its close callback
// (freed there even if the Listener is gone). Destroying (or close()) stops
// accepting and aborts every connection still open; each still reaches its
// handler's on_closed() on a later loop turn.
class Listener {
 public:
  // Binds and listens. Errors: Errc::invalid (address), Errc::busy (in use),
  // Errc::denied (privileged port), Errc::io; sys is the errno.
  static core::Result<std::unique_ptr<Listener>> start(uv_loop_t* loop, ListenerOptions options,
                                                       ConnectionFactory factory);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The port actually bound (the kernel's choice when options.port was 0).
  std::uint16_t bound_port() const noexcept { return port_; }
  // Admitted connections still open.
  std::size_t connection_count() const noexcept { return admitted_; }
  void close();

 private:
  friend class Connection;
  Listener(uv_loop_t* loop, ListenerOptions options, ConnectionFactory factory);
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_server_closed(uv_handle_t* handle) noexcept;
  void accept_one();
  void reject(Connection& conn, const char* reason);
  void release(Connection& conn);  // from Connection, once its handles are closed
  // Idle eviction: the admitted connections not being evicted, as the policy sees them.
  std::vector<Connection*> candidates(std::vector<IdleCandidate>& seen) const;
  bool evict_for_newcomer();
  void evict(Connection& conn, const char* reason);
  void arm_sweep();
  static void on_sweep(uv_timer_t* timer) noexcept;

  uv_loop_t* loop_;
  ListenerOptions options_;
  ConnectionFactory factory_;
  uv_tcp_t* server_ = nullptr;  // freed in on_server_closed
  std::uint16_t port_ = 0;
  std::uint64_t next_id_ = 1;
  std::size_t admitted_ = 0;
  std::size_t evicting_ = 0;   // admitted, evicted, not yet closed
  std::size_t lingering_ = 0;  // refused, reading the client's request before closing
  EvictionPolicy policy_;
  uv_timer_t* sweep_ = nullptr;  // runs while stressed; freed in its close callback
  bool sweeping_ = false;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::unordered_set<Connection*> live_;  // admitted and rejecting connections
};

}  // namespace postern::net
