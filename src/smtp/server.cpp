// The SMTP listener: admits connections and gives each a Conversation.
#include "smtp/server.h"

#include "smtp/conversation.h"

namespace postern::smtp {

Server::Server(ServerOptions options, ServerDeps deps)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      limits_(std::make_shared<const Limits>(options_.limits)),
      session_ids_(static_cast<std::uint64_t>(core::unix_seconds(deps_.clock.now()))) {}

Server::~Server() {
  stop();
}

core::Result<std::unique_ptr<Server>> Server::start(uv_loop_t* loop, ServerOptions options,
                                                    ServerDeps deps) {
  // RFC 5321 §3.1: a busy server may answer 421 and close.
  options.listen.reject_line = "421 4.7.0 Too many connections, try again later\r\n";
  options.limits.tls_available = deps.tls != nullptr;
  std::unique_ptr<Server> server(new Server(options, std::move(deps)));
  auto listener = net::Listener::start(
      loop, server->options_.listen,
      [raw = server.get()](net::Connection& conn) { return raw->accept(conn); });
  if (!listener) return listener.error();
  server->listener_ = std::move(*listener);
  return server;
}

net::ConnectionHandler* Server::accept(net::Connection& conn) {
  conn.set_limits(options_.buffers);
  Peer peer{conn.peer_address(), conn.tls_active(), session_ids_.next()};
  // Made before `peer` is moved: argument evaluation order is unspecified.
  Delivery delivery(deps_.env, deps_.writer, deps_.executor, deps_.clock, deps_.dedup_settings,
                    peer.address, peer.session_id);
  return new Conversation(conn, limits_, std::move(delivery), deps_.clock, deps_.tls,
                          std::move(peer), deps_.on_fatal, deps_.on_broken_session);
}

void Server::set_limits(const Limits& limits) {
  Limits next = limits;
  next.tls_available = deps_.tls != nullptr;
  limits_ = std::make_shared<const Limits>(std::move(next));
}

void Server::stop() {
  if (listener_) listener_->close();
}

}  // namespace postern::smtp
