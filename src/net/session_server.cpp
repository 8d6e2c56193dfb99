// net::SessionServer: listeners, buffer limits, session ids and stop, once for SMTP and POP3.
#include "net/session_server.h"

#include <utility>

namespace postern::net {

SessionServer::SessionServer(const core::Clock& clock, ConnectionLimits buffers)
    : buffers_(buffers), ids_(static_cast<std::uint64_t>(core::unix_seconds(clock.now()))) {}

SessionServer::~SessionServer() {
  stop();
}

core::Result<void> SessionServer::listen(uv_loop_t* loop, ListenerOptions options, Accept accept) {
  auto listener = Listener::start(loop, std::move(options),
                                  [this, accept = std::move(accept)](Connection& conn) {
                                    conn.set_limits(buffers_);
                                    return accept(conn, ids_.next());
                                  });
  if (!listener) return listener.error();
  listeners_.push_back(std::move(*listener));
  return {};
}

std::uint16_t SessionServer::port(std::size_t index) const {
  return index < listeners_.size() ? listeners_[index]->bound_port() : 0;
}

std::size_t SessionServer::connections() const {
  std::size_t total = 0;
  for (const auto& listener : listeners_) total += listener->connection_count();
  return total;
}

void SessionServer::stop() {
  for (const auto& listener : listeners_) listener->close();
}

}  // namespace postern::net
