// The SMTP listener: admits connections and gives each a Conversation.
#include "smtp/server.h"

#include "smtp/conversation.h"

namespace postern::smtp {

namespace {

Limits adjusted(Limits limits, const tls::ServerConfig* tls) {
  limits.tls_available = tls != nullptr;  // RFC 3207: offered only with a certificate
  return limits;
}

}  // namespace

Server::Server(ServerOptions options, ServerDeps deps)
    : deps_(std::move(deps)),
      limits_(adjusted(std::move(options.limits), deps_.tls)),
      sessions_(deps_.clock, options.buffers) {}

Server::~Server() {
  stop();
}

core::Result<std::unique_ptr<Server>> Server::start(uv_loop_t* loop, ServerOptions options,
                                                    ServerDeps deps) {
  // RFC 5321 §3.1: a busy server may answer 421 and close.
  options.listen.reject_line = "421 4.7.0 Too many connections, try again later\r\n";
  net::ListenerOptions listen = options.listen;
  std::unique_ptr<Server> server(new Server(std::move(options), std::move(deps)));
  auto listening = server->sessions_.listen(
      loop, std::move(listen), [raw = server.get()](net::Connection& conn, std::string id) {
        return raw->accept(conn, std::move(id));
      });
  if (!listening) return listening.error();
  return server;
}

net::ConnectionHandler* Server::accept(net::Connection& conn, std::string session_id) {
  Peer peer{conn.peer_address(), conn.tls_active(), std::move(session_id)};
  // Made before `peer` is moved: argument evaluation order is unspecified.
  Delivery delivery(deps_.env, deps_.writer, deps_.executor, deps_.clock, deps_.dedup_settings,
                    peer.address, peer.session_id);
  return new Conversation(conn, limits_.current(), std::move(delivery), deps_.clock, deps_.tls,
                          std::move(peer), deps_.on_fatal, deps_.on_broken_session);
}

void Server::set_limits(const Limits& limits) {
  limits_.set(adjusted(limits, deps_.tls));
}

void Server::stop() {
  sessions_.stop();
}

}  // namespace postern::smtp
