// The POP3 listeners: admit connections and give each a Conversation.
#include "pop3/server.h"

#include <string>

#include "pop3/conversation.h"

namespace postern::pop3 {
namespace {

// store/password.h's encoding with a fixed salt and an all-zero key: verifying any password
// against it costs one PBKDF2 derivation at `iterations`, like a real user's check, and
// never matches (a derived key of 32 zero bytes has probability 2^-256).
std::string dummy_hash(unsigned iterations) {
  return "pbkdf2-sha256$" + std::to_string(iterations == 0 ? 1 : iterations) +
         "$cG9zdGVybi1uby11c2VyIQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
}

Limits adjusted(Limits limits, const tls::ServerConfig* tls) {
  limits.stls_available = limits.stls_available && tls != nullptr;
  return limits;
}

}  // namespace

Server::Server(uv_loop_t* loop, ServerOptions options, ServerDeps deps)
    : loop_(loop),
      options_(std::move(options)),
      deps_(std::move(deps)),
      limits_(std::make_shared<const Limits>(adjusted(options_.limits, deps_.tls))),
      shared_(std::make_shared<SharedState>(options_.throttle,
                                            dummy_hash(deps_.env.options().pbkdf2_iterations))),
      session_ids_(static_cast<std::uint64_t>(core::unix_seconds(deps_.clock.now()))) {}

Server::~Server() {
  stop();
}

core::Result<std::unique_ptr<Server>> Server::start(uv_loop_t* loop, ServerOptions options,
                                                    ServerDeps deps) {
  // RFC 2449 §8 SYS/TEMP: a busy server says so before closing (not on TLS listeners,
  // where a plaintext line means nothing; net just closes those).
  options.listen.reject_line = "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
  options.listen.tls = nullptr;
  if (options.listen_tls) {
    options.listen_tls->reject_line = options.listen.reject_line;
    options.listen_tls->tls = deps.tls;
  }
  std::unique_ptr<Server> server(new Server(loop, std::move(options), std::move(deps)));
  auto listener = net::Listener::start(
      loop, server->options_.listen,
      [raw = server.get()](net::Connection& conn) { return raw->accept(conn, false); });
  if (!listener) return listener.error();
  server->listener_ = std::move(*listener);
  if (server->options_.listen_tls && server->deps_.tls != nullptr) {
    auto tls_listener = net::Listener::start(
        loop, *server->options_.listen_tls,
        [raw = server.get()](net::Connection& conn) { return raw->accept(conn, true); });
    if (!tls_listener) return tls_listener.error();  // ~Server closes the first listener
    server->tls_listener_ = std::move(*tls_listener);
  }
  return server;
}

net::ConnectionHandler* Server::accept(net::Connection& conn, bool implicit_tls) {
  conn.set_limits(options_.buffers);
  // POP3S: the session starts with TLS active. net holds the greeting until the handshake
  // is done, and no command can arrive before it, so the session may rely on it.
  Peer peer{conn.peer_address(), conn.is_loopback(), implicit_tls, session_ids_.next()};
  ConversationContext context;
  context.loop = loop_;
  context.env = &deps_.env;
  context.writer = &deps_.writer;
  context.executor = &deps_.executor;
  context.clock = &deps_.clock;
  context.tls = deps_.tls;
  context.shared = shared_;
  context.credentials = deps_.credential_cache;
  context.on_fatal = deps_.on_fatal;
  context.on_broken_session = deps_.on_broken_session;
  return new Conversation(conn, std::move(context), limits_, std::move(peer));
}

std::size_t Server::connections() const {
  return (listener_ ? listener_->connection_count() : 0) +
         (tls_listener_ ? tls_listener_->connection_count() : 0);
}

std::size_t Server::locked_maildrops() const {
  return shared_->locks.size();
}

void Server::set_limits(const Limits& limits) {
  limits_ = std::make_shared<const Limits>(adjusted(limits, deps_.tls));
}

void Server::stop() {
  if (listener_) listener_->close();
  if (tls_listener_) tls_listener_->close();
}

}  // namespace postern::pop3
