// Listener: bind, accept, admission limits, reject line, hand-off to the service.
#include "net/listener.h"

#include <cerrno>
#include <utility>

#include "core/log.h"
#include "net/address.h"

namespace postern::net {
namespace {

core::Error bind_error(int uv_code, const char* where) {
  core::Errc code = core::Errc::io;
  if (uv_code == UV_EADDRINUSE) code = core::Errc::busy;
  if (uv_code == UV_EACCES || uv_code == UV_EPERM) code = core::Errc::denied;
  if (uv_code == UV_EADDRNOTAVAIL || uv_code == UV_EINVAL) code = core::Errc::invalid;
  return core::make_error(code, where, -uv_code);
}

}  // namespace

Listener::Listener(uv_loop_t* loop, ListenerOptions options, ConnectionFactory factory)
    : loop_(loop), options_(std::move(options)), factory_(std::move(factory)) {}

core::Result<std::unique_ptr<Listener>> Listener::start(uv_loop_t* loop, ListenerOptions options,
                                                        ConnectionFactory factory) {
  auto address = parse_address(options.address, options.port);
  if (!address) return address.error();
  std::unique_ptr<Listener> listener(new Listener(loop, std::move(options), std::move(factory)));
  listener->server_ = new uv_tcp_t;
  uv_tcp_init(loop, listener->server_);
  listener->server_->data = listener.get();
  // From here on a failure closes the handle through the destructor.
  int rc = uv_tcp_bind(listener->server_, reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener->server_), listener->options_.backlog,
                   &Listener::on_connection);
  }
  if (rc != 0) return bind_error(rc, "listen");
  sockaddr_storage bound{};
  int length = sizeof bound;
  rc = uv_tcp_getsockname(listener->server_, reinterpret_cast<sockaddr*>(&bound), &length);
  if (rc != 0) return bind_error(rc, "getsockname");
  listener->port_ = address_port(bound);
  POSTERN_LOG_INFO("net %s event=listening address=%s port=%u tls=%d",
                   listener->options_.name.c_str(), listener->options_.address.c_str(),
                   static_cast<unsigned>(listener->port_), listener->options_.tls != nullptr);
  return listener;
}

Listener::~Listener() {
  close();
}

void Listener::close() {
  if (server_ != nullptr) {
    server_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(server_), &Listener::on_server_closed);
    server_ = nullptr;
  }
  auto live = std::move(live_);
  live_.clear();
  for (Connection* conn : live) {
    conn->listener_ = nullptr;
    conn->abort();
  }
  admitted_ = 0;
  per_ip_.clear();
}

void Listener::on_server_closed(uv_handle_t* handle) noexcept {
  delete reinterpret_cast<uv_tcp_t*>(handle);
}

void Listener::on_connection(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<Listener*>(server->data);
  if (self == nullptr) return;
  if (status < 0) {
    // EMFILE and friends: log, keep listening; libuv retries on the next event.
    POSTERN_LOG_WARN("net %s event=accept-error error=%s", self->options_.name.c_str(),
                     uv_err_name(status));
    return;
  }
  self->accept_one();
}

void Listener::accept_one() {
  std::string id = options_.name + "/" + std::to_string(next_id_++);
  auto* conn = new Connection(loop_, std::move(id));  // owns itself from here (connection.h)
  if (!conn->accept(reinterpret_cast<uv_stream_t*>(server_))) return;
  conn->listener_ = this;
  live_.insert(conn);
  // Admission is decided after accept(): the peer's address is known only then,
  // and a pending connection left unaccepted would stall libuv's accept loop.
  if (admitted_ >= options_.max_connections) return reject(*conn, "max-connections");
  std::size_t& from_ip = per_ip_[conn->peer_address()];
  if (from_ip >= options_.max_per_ip) return reject(*conn, "max-per-ip");
  ++from_ip;
  ++admitted_;
  conn->admitted_ = true;
  POSTERN_LOG_DEBUG("net %s event=accepted peer=%s", conn->id().c_str(),
                    conn->peer_address().c_str());
  // Implicit TLS: the filter exists before the factory runs, so a greeting the
  // factory sends is held for the handshake instead of going out in clear.
  if (options_.tls != nullptr) {
    if (auto r = conn->start_tls(*options_.tls); !r) {
      POSTERN_LOG_ERROR("net %s event=tls-setup-failed sys=%d", conn->id().c_str(), r.error().sys);
      conn->abort();
      return;
    }
  }
  ConnectionHandler* handler = factory_(*conn);
  conn->start(handler);
}

void Listener::reject(Connection& conn, const char* reason) {
  if (per_ip_[conn.peer_address()] == 0) per_ip_.erase(conn.peer_address());
  POSTERN_LOG_INFO("net %s event=rejected reason=%s peer=%s", conn.id().c_str(), reason,
                   conn.peer_address().c_str());
  if (options_.tls != nullptr || options_.reject_line.empty()) return conn.abort();
  conn.set_timeout(options_.reject_timeout);
  conn.send(options_.reject_line);
  conn.close_after_flush();
}

void Listener::release(Connection& conn) {
  live_.erase(&conn);
  if (!conn.admitted_) return;
  --admitted_;
  auto it = per_ip_.find(conn.peer_address());
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

}  // namespace postern::net
