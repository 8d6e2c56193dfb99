// smtp::Server: the SMTP listener and, per connection, the glue between
// net::Connection, smtp::Session and smtp::Delivery.
//
// Loop thread only. Typical call sequence:
//   auto server = Server::start(loop, options, deps);   // binds; ready for mail
//   server->set_limits(new_limits);                      // SIGHUP: new sessions only
//   server->stop();                                      // closes every connection
#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/executor.h"
#include "dedup/policy.h"
#include "net/listener.h"
#include "net/session_server.h"
#include "smtp/limits.h"
#include "store/env.h"
#include "store/writer.h"
#include "tls/server_config.h"

namespace postern::smtp {

// What the server borrows; everything outlives it.
struct ServerDeps {
  store::Env& env;
  store::Writer& writer;
  core::Executor& executor;
  const core::Clock& clock;
  const tls::ServerConfig* tls;                      // null: no STARTTLS
  std::function<void(const core::Error&)> on_fatal;  // the store latched a fatal error
  // The owner's dedup settings, asked per message (SIGHUP may change them);
  // empty: dedup::Settings{} defaults.
  std::function<dedup::Settings()> dedup_settings = {};
  // A DATA phase broke off (drop or timeout): the link service may trace the peer.
  std::function<void(const std::string& peer)> on_broken_session = {};
};

struct ServerOptions {
  net::ListenerOptions listen;
  net::ConnectionLimits buffers;
  Limits limits;
};

class Server {
 public:
  static core::Result<std::unique_ptr<Server>> start(uv_loop_t* loop, ServerOptions options,
                                                     ServerDeps deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const { return sessions_.port(); }
  std::size_t connections() const { return sessions_.connections(); }
  void set_limits(const Limits& limits);
  // The listeners, their ports and connections (app::ServerService reads them).
  const net::SessionServer& sessions() const { return sessions_; }
  void stop();

 private:
  Server(ServerOptions options, ServerDeps deps);
  net::ConnectionHandler* accept(net::Connection& conn, std::string session_id);

  ServerDeps deps_;
  net::SessionLimits<Limits> limits_;  // sessions keep the Limits they started with
  net::SessionServer sessions_;        // the listener, buffers, session ids
};

}  // namespace postern::smtp
