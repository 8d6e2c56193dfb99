// pop3::Server: the POP3 (STLS) and POP3S (implicit TLS) listeners and, per connection, a
// Conversation gluing net::Connection, pop3::Session and the store.
//
// Loop thread only. Typical call sequence:
//   auto server = Server::start(loop, options, deps);   // binds both ports
//   server->port(), server->tls_port();                  // for the "ready" line
//   server->set_limits(new_limits);                      // SIGHUP: new sessions only
//   server->stop();                                      // closes every connection
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "core/clock.h"
#include "core/executor.h"
#include "core/throttle.h"
#include "net/listener.h"
#include "net/session_server.h"
#include "pop3/limits.h"
#include "store/credential_cache.h"
#include "store/env.h"
#include "store/writer.h"
#include "tls/server_config.h"

namespace postern::pop3 {

struct SharedState;

// What the server borrows; everything outlives the server and every connection it made.
struct ServerDeps {
  store::Env& env;
  store::Writer& writer;
  core::Executor& executor;  // PBKDF2 checks run there
  const core::Clock& clock;
  const tls::ServerConfig* tls;                      // null: no STLS and no POP3S
  std::function<void(const core::Error&)> on_fatal;  // the store latched a fatal error
  // A session ended without QUIT (drop or timeout): the link service may trace the peer.
  std::function<void(const std::string& peer)> on_broken_session = {};
  store::CredentialCache* credential_cache = nullptr;  // null: every login pays PBKDF2
};

struct ServerOptions {
  net::ListenerOptions listen;                     // POP3, STLS offered when deps.tls
  std::optional<net::ListenerOptions> listen_tls;  // POP3S; its `tls` is set from deps.tls
  net::ConnectionLimits buffers;
  Limits limits;
  core::ThrottlePolicy throttle;
};

class Server {
 public:
  // Binds every listener; the first bind error is returned and nothing stays open.
  static core::Result<std::unique_ptr<Server>> start(uv_loop_t* loop, ServerOptions options,
                                                     ServerDeps deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return sessions_.port(0); }
  // 0 when POP3S is not listening.
  std::uint16_t tls_port() const { return sessions_.port(1); }
  std::size_t connections() const { return sessions_.connections(); }
  // Maildrops locked by open sessions (for tests and the status page).
  std::size_t locked_maildrops() const;
  void set_limits(const Limits& limits);
  // The listeners, their ports and connections (app::ServerService reads them).
  const net::SessionServer& sessions() const { return sessions_; }
  void stop();

 private:
  Server(uv_loop_t* loop, ServerOptions options, ServerDeps deps);
  net::ConnectionHandler* accept(net::Connection& conn, std::string session_id, bool implicit_tls);

  uv_loop_t* loop_;
  ServerDeps deps_;
  net::SessionLimits<Limits> limits_;    // sessions keep the Limits they started with
  std::shared_ptr<SharedState> shared_;  // lock table + throttle; conversations share it
  net::SessionServer sessions_;          // listener 0: POP3; 1: POP3S; buffers, session ids
};

}  // namespace postern::pop3
