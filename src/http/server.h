// http::Server: the status page's listeners (HTTP and implicit-TLS HTTPS) and
// the request-timeout sweep, on the loop. The page itself is the Api.
//
// Loop thread only. Typical call sequence:
//   auto server = Server::start(loop, options, api, clock, &tls_config);
//   server->port(); server->tls_port();   // for the ready line
//   server->stop();                       // closes listeners, connections, the sweep timer
#pragma once

#include <uv.h>

#include <memory>

#include "core/clock.h"
#include "core/result.h"
#include "http/api.h"
#include "http/exchange.h"
#include "net/listener.h"
#include "net/timer.h"
#include "tls/server_config.h"

namespace postern::http {

struct ServerOptions {
  net::ListenerOptions listen;      // plain HTTP
  net::ListenerOptions listen_tls;  // HTTPS; its `tls` is set from start()'s argument
  net::ConnectionLimits buffers;
  ExchangeOptions exchange;
};

class Server {
 public:
  // Binds both listeners (HTTPS only when `tls` is not null). `api`, `clock`
  // and `tls` must outlive the Server and every connection it made.
  static core::Result<std::unique_ptr<Server>> start(uv_loop_t* loop, ServerOptions options,
                                                     Api& api, const core::Clock& clock,
                                                     const tls::ServerConfig* tls);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  std::uint16_t tls_port() const;  // 0 without HTTPS
  std::size_t connections() const;
  void stop();

 private:
  Server(ServerOptions options, Api& api, const core::Clock& clock);
  net::ConnectionHandler* accept(net::Connection& conn, bool secure);
  void sweep();

  ServerOptions options_;
  Api& api_;
  const core::Clock& clock_;
  std::shared_ptr<ExchangeRegistry> registry_ = std::make_shared<ExchangeRegistry>();
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<net::Listener> tls_listener_;
  std::unique_ptr<net::Timer> sweep_;  // request timeouts, once a second
};

}  // namespace postern::http
