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
      deps_(std::move(deps)),
      limits_(adjusted(std::move(options.limits), deps_.tls)),
      shared_(std::make_shared<SharedState>(options.throttle,
                                            dummy_hash(deps_.env.options().pbkdf2_iterations))),
      sessions_(deps_.clock, options.buffers) {}

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
  net::ListenerOptions listen = options.listen;
  std::optional<net::ListenerOptions> listen_tls = options.listen_tls;
  std::unique_ptr<Server> server(new Server(loop, std::move(options), std::move(deps)));
  Server* raw = server.get();
  auto listening =
      raw->sessions_.listen(loop, std::move(listen), [raw](net::Connection& conn, std::string id) {
        return raw->accept(conn, std::move(id), false);
      });
  if (!listening) return listening.error();
  if (listen_tls && raw->deps_.tls != nullptr) {
    listening = raw->sessions_.listen(loop, std::move(*listen_tls),
                                      [raw](net::Connection& conn, std::string id) {
                                        return raw->accept(conn, std::move(id), true);
                                      });
    if (!listening) return listening.error();  // ~Server closes the first listener
  }
  return server;
}

net::ConnectionHandler* Server::accept(net::Connection& conn, std::string session_id,
                                       bool implicit_tls) {
  // POP3S: the session starts with TLS active. net holds the greeting until the handshake
  // is done, and no command can arrive before it, so the session may rely on it.
  Peer peer{conn.peer_address(), conn.is_loopback(), implicit_tls, std::move(session_id)};
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
  return new Conversation(conn, std::move(context), limits_.current(), std::move(peer));
}

std::size_t Server::locked_maildrops() const {
  return shared_->locks.size();
}

void Server::set_limits(const Limits& limits) {
  limits_.set(adjusted(limits, deps_.tls));
}

void Server::stop() {
  sessions_.stop();
}

}  // namespace postern::pop3
