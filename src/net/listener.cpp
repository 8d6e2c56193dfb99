// Listener: bind, accept, admission limits, reject line, hand-off to the service.
#include "net/listener.h"

#include <algorithm>
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

// A refused client's connection after its reject line: the first bytes it sends (an HTTP
// request) are read and dropped, then it closes; its end (EOF) or silence closes it too.
// Stateless, so one serves every such connection.
struct Lingerer final : ConnectionHandler {
  void on_input(Connection& conn) override {
    conn.consume(conn.input().size());
    conn.close_after_flush();
  }
  void on_timeout(Connection& conn) override { conn.close_after_flush(); }
  void on_closed(Connection&) override {}
};
Lingerer g_lingerer;

}  // namespace

Listener::Listener(uv_loop_t* loop, ListenerOptions options, ConnectionFactory factory)
    : loop_(loop),
      options_(std::move(options)),
      factory_(std::move(factory)),
      policy_(options_.max_connections, options_.eviction) {}

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
  if (sweep_ != nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(sweep_),
             [](uv_handle_t* handle) noexcept { delete reinterpret_cast<uv_timer_t*>(handle); });
    sweep_ = nullptr;
    sweeping_ = false;
  }
  auto live = std::move(live_);
  live_.clear();
  for (Connection* conn : live) {
    conn->listener_ = nullptr;
    conn->abort();
  }
  admitted_ = evicting_ = lingering_ = 0;
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
  conn->serial_ = next_id_;
  if (!conn->accept(reinterpret_cast<uv_stream_t*>(server_))) return;
  conn->listener_ = this;
  live_.insert(conn);
  // Admission is decided after accept(): the peer's address is known only then,
  // and a pending connection left unaccepted would stall libuv's accept loop.
  // The per-address limit first, so nobody is evicted for a newcomer refused anyway.
  if (per_ip_[conn->peer_address()] >= options_.max_per_ip) return reject(*conn, "max-per-ip");
  if (policy_.full(admitted_ - evicting_) && !evict_for_newcomer()) {
    return reject(*conn, "max-connections");
  }
  ++per_ip_[conn->peer_address()];
  ++admitted_;
  conn->admitted_ = true;
  if (policy_.stressed(admitted_ - evicting_)) arm_sweep();
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
  conn.send(options_.reject_line);
  if (options_.reject_linger.count() > 0 && lingering_ < options_.max_connections) {
    ++lingering_;
    conn.set_timeout(options_.reject_linger);
    conn.start(&g_lingerer);
    return;
  }
  conn.set_timeout(options_.reject_timeout);
  conn.close_after_flush();
}

void Listener::release(Connection& conn) {
  live_.erase(&conn);
  if (conn.handler_ == &g_lingerer) --lingering_;
  if (!conn.admitted_) return;
  --admitted_;
  if (conn.evicted_) --evicting_;
  auto it = per_ip_.find(conn.peer_address());
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

// In accept order, so that among connections silent since the same loop tick (uv_now has
// millisecond steps) the policy's tie-break picks the oldest.
std::vector<Connection*> Listener::candidates(std::vector<IdleCandidate>& seen) const {
  std::vector<Connection*> conns;
  for (Connection* conn : live_) {
    if (conn->admitted_ && !conn->evicted_ && conn->handler_ != nullptr) conns.push_back(conn);
  }
  std::sort(conns.begin(), conns.end(),
            [](const Connection* a, const Connection* b) { return a->serial_ < b->serial_; });
  seen.clear();
  for (Connection* conn : conns) {
    const bool open = conn->state_ == Connection::State::open;
    seen.push_back({open && conn->handler_->idle_evictable(*conn), conn->silent_since_ms()});
  }
  return conns;
}

bool Listener::evict_for_newcomer() {
  std::vector<IdleCandidate> seen;
  std::vector<Connection*> conns = candidates(seen);
  auto victim = policy_.victim_for_newcomer(seen);
  if (!victim) return false;
  evict(*conns[*victim], "full");
  return true;
}

void Listener::evict(Connection& conn, const char* reason) {
  conn.evicted_ = true;
  ++evicting_;
  POSTERN_LOG_INFO("net %s event=evicted reason=%s idle_ms=%llu peer=%s", conn.id().c_str(), reason,
                   static_cast<unsigned long long>(uv_now(loop_) - conn.silent_since_ms()),
                   conn.peer_address().c_str());
  conn.handler_->on_evict(conn);
  // The goodbye's flush is bounded like a reject line's, not by the protocol's timeout.
  if (conn.state_ == Connection::State::flushing) conn.set_timeout(options_.reject_timeout);
}

void Listener::arm_sweep() {
  if (sweeping_ || server_ == nullptr) return;
  if (sweep_ == nullptr) {
    sweep_ = new uv_timer_t;
    uv_timer_init(loop_, sweep_);
    sweep_->data = this;
  }
  // A tenth of the stressed timeout (at least 100 ms): closes within 10% of it.
  const auto period = std::max<std::uint64_t>(
      100, static_cast<std::uint64_t>(policy_.stressed_idle_timeout().count()) / 10);
  uv_timer_start(sweep_, &Listener::on_sweep, period, period);
  sweeping_ = true;
}

void Listener::on_sweep(uv_timer_t* timer) noexcept {
  auto* self = static_cast<Listener*>(timer->data);
  std::vector<IdleCandidate> seen;
  std::vector<Connection*> conns = self->candidates(seen);
  if (!self->policy_.stressed(conns.size())) {
    uv_timer_stop(timer);
    self->sweeping_ = false;
    return;
  }
  // on_evict only queues bytes and starts the close: no connection leaves live_ here.
  for (std::size_t i : self->policy_.expired(seen, uv_now(self->loop_))) {
    self->evict(*conns[i], "stressed-idle");
  }
}

}  // namespace postern::net
