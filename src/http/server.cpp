// The HTTP and HTTPS listeners and the once-a-second request-timeout sweep.
#include "http/server.h"

#include <vector>

namespace postern::http {
namespace {

// Over the connection limit (or one address's share of it): RFC 9110 §15.6.4 503 with
// Retry-After (§10.2.3), a static string sent without reading the request (net::Listener
// drops what the client sends, then closes). HTTPS is closed without it: a reply would
// cost a TLS handshake.
constexpr std::string_view kBusyBody =
    "postern is busy: too many connections. Try again in a few seconds.\n";
constexpr std::string_view kBusyResponse =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 67\r\n"
    "Retry-After: 5\r\n"
    "Cache-Control: no-store\r\n"
    "Connection: close\r\n"
    "\r\n"
    "postern is busy: too many connections. Try again in a few seconds.\n";
static_assert(kBusyResponse.ends_with(kBusyBody) && kBusyBody.size() == 67);

}  // namespace

Server::Server(ServerOptions options, Api& api, const core::Clock& clock)
    : options_(std::move(options)), api_(api), clock_(clock) {}

Server::~Server() {
  stop();
}

core::Result<std::unique_ptr<Server>> Server::start(uv_loop_t* loop, ServerOptions options,
                                                    Api& api, const core::Clock& clock,
                                                    const tls::ServerConfig* tls) {
  options.listen.reject_line = std::string(kBusyResponse);
  // Long enough for the request to arrive (it is dropped unread), short enough to bound
  // the sockets a flood of refused clients holds.
  options.listen.reject_linger = std::chrono::seconds(2);
  std::unique_ptr<Server> server(new Server(std::move(options), api, clock));
  Server* raw = server.get();
  auto plain = net::Listener::start(loop, raw->options_.listen, [raw](net::Connection& conn) {
    return raw->accept(conn, false);
  });
  if (!plain) return plain.error();
  raw->listener_ = std::move(*plain);
  if (tls != nullptr) {
    raw->options_.listen_tls.tls = tls;
    auto secure =
        net::Listener::start(loop, raw->options_.listen_tls,
                             [raw](net::Connection& conn) { return raw->accept(conn, true); });
    if (!secure) return secure.error();
    raw->tls_listener_ = std::move(*secure);
  }
  raw->sweep_ = std::make_unique<net::Timer>(loop);
  raw->sweep_->start(std::chrono::seconds(1), std::chrono::seconds(1), [raw] { raw->sweep(); });
  return server;
}

net::ConnectionHandler* Server::accept(net::Connection& conn, bool secure) {
  conn.set_limits(options_.buffers);
  RequestContext context{conn.peer_address(), secure,
                         secure ? tls_listener_->bound_port() : listener_->bound_port()};
  return new Exchange(conn, api_, clock_, options_.exchange, registry_, std::move(context));
}

void Server::sweep() {
  const core::TimePoint now = clock_.now();
  // check_deadline may close a connection, but on_closed (which edits the set)
  // runs on a later loop turn, never inside this loop.
  std::vector<Exchange*> live(registry_->live.begin(), registry_->live.end());
  for (Exchange* exchange : live) exchange->check_deadline(now);
}

std::uint16_t Server::port() const {
  return listener_ ? listener_->bound_port() : 0;
}
std::uint16_t Server::tls_port() const {
  return tls_listener_ ? tls_listener_->bound_port() : 0;
}
std::size_t Server::connections() const {
  return (listener_ ? listener_->connection_count() : 0) +
         (tls_listener_ ? tls_listener_->connection_count() : 0);
}

void Server::stop() {
  if (listener_) listener_->close();
  if (tls_listener_) tls_listener_->close();
  sweep_.reset();
}

}  // namespace postern::http
