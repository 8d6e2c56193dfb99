// Connection: libuv reads and writes, input cap, water marks, timeout, TLS filter.
#include "net/connection.h"

#include <algorithm>
#include <utility>

#include "core/log.h"
#include "net/address.h"
#include "net/listener.h"
#include "net/read_budget.h"
#include "tls/error.h"

namespace postern::net {
namespace {

struct Write {
  uv_write_t request;
  Connection* conn;
  std::string bytes;
};

// One read at a time per loop thread: libuv calls alloc_cb and read_cb back to
// back for a TCP stream, so one scratch buffer serves every connection.
constexpr std::size_t kScratchBytes = 16 * 1024;
thread_local char g_scratch[kScratchBytes];

Connection* owner(uv_handle_t* handle) {
  return static_cast<Connection*>(handle->data);
}

}  // namespace

void ConnectionHandler::on_eof(Connection& conn) {
  conn.close_after_flush();
}

void ConnectionHandler::on_evict(Connection& conn) {
  conn.close_after_flush();
}

Connection::Connection(uv_loop_t* loop, std::string id) : id_(std::move(id)) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  uv_idle_init(loop, &offer_);
  tcp_.data = timer_.data = offer_.data = this;
  open_handles_ = 3;
}

bool Connection::accept(uv_stream_t* server) {
  int rc = uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc != 0) {
    POSTERN_LOG_WARN("net %s event=accept-failed error=%s", id_.c_str(), uv_err_name(rc));
    abort();
    return false;
  }
  sockaddr_storage peer{};
  int length = sizeof peer;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&peer), &length) == 0) {
    peer_ = address_text(peer);
    loopback_ = net::is_loopback(peer);
  } else {
    peer_ = "unknown";
  }
  // Replies are small and latency-bound (pipelined SMTP, POP3): no Nagle delay.
  uv_tcp_nodelay(&tcp_, 1);
  silent_since_ms_ = uv_now(tcp_.loop);
  return true;
}

void Connection::start(ConnectionHandler* handler) {
  handler_ = handler;  // even if the factory already closed it: on_closed is still owed
  if (state_ != State::open) return;
  if (handler_ == nullptr) {
    abort();
    return;
  }
  update_reading();
}

void Connection::set_limits(const ConnectionLimits& limits) {
  limits_ = limits;
  update_reading();
}

void Connection::set_timeout(std::chrono::milliseconds timeout) {
  timeout_ = timeout;
  if (state_ == State::closing) return;
  if (timeout_.count() > 0) {
    uv_timer_start(&timer_, &Connection::on_timer, static_cast<std::uint64_t>(timeout_.count()), 0);
  } else {
    uv_timer_stop(&timer_);
  }
}

std::size_t Connection::room() const noexcept {
  return input_.size() < limits_.max_input_bytes ? limits_.max_input_bytes - input_.size() : 0;
}

void Connection::consume(std::size_t n) {
  input_.erase(0, std::min(n, input_.size()));
  // Plaintext still inside the TLS filter is moved over on a later turn.
  if (tls_ != nullptr && tls_->has_buffered_input() && room() > 0) schedule_offer();
  update_reading();
}

void Connection::resume_reading() {
  paused_ = false;
  if (!input_.empty() || (eof_ && !eof_offered_) || (tls_ && tls_->has_buffered_input())) {
    schedule_offer();
  }
  update_reading();
}

void Connection::schedule_offer() {
  if (state_ == State::open) uv_idle_start(&offer_, &Connection::on_offer);
}

void Connection::update_reading() {
  bool want = state_ == State::open && handler_ != nullptr && !eof_ && !over_budget_ && room() > 0;
  if (want && !reading_) {
    int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::on_alloc,
                           &Connection::on_read);
    if (rc != 0) return fail("read-start-failed", uv_err_name(rc));
    reading_ = true;
  } else if (!want && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  Connection* self = owner(handle);
  // Plaintext: never read past the cap. TLS: ciphertext waits in the filter,
  // bounded because reading stops as soon as the plaintext buffer is full.
  std::size_t size = self->tls_ ? kScratchBytes : std::min(kScratchBytes, self->room());
  *buf = uv_buf_init(g_scratch, static_cast<unsigned int>(size));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  Connection* self = owner(reinterpret_cast<uv_handle_t*>(stream));
  if (self == nullptr || self->state_ != State::open) return;
  if (nread == UV_EOF) {
    self->eof_ = true;
    self->update_reading();
    self->deliver();
    return;
  }
  if (nread < 0) return self->fail("read-failed", uv_err_name(static_cast<int>(nread)));
  if (nread == 0) return;  // EAGAIN: nothing this time
  self->silent_since_ms_ = uv_now(stream->loop);
  if (self->timeout_.count() > 0) self->set_timeout(self->timeout_);
  if (self->tls_) {
    self->tls_->feed_ciphertext(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    self->pump_tls();
  } else {
    self->input_.append(buf->base, static_cast<std::size_t>(nread));
  }
  self->deliver();
  ReadBudget* budget = ReadBudget::current();
  if (budget != nullptr && !budget->spend(static_cast<std::size_t>(nread))) self->wait_for_budget();
}

// This iteration's read budget is spent: stop reading; on_offer, in the next
// iteration, reads again (net/read_budget.h).
void Connection::wait_for_budget() {
  if (state_ != State::open) return;
  over_budget_ = true;
  update_reading();
  uv_idle_start(&offer_, &Connection::on_offer);
}

// Drives the handshake, announces it once, and moves plaintext into input_.
void Connection::pump_tls() {
  if (tls_ == nullptr || state_ != State::open) return;
  if (!tls_->handshake_done()) {
    auto done = tls_->handshake();
    flush_tls();
    if (!done) return fail("tls-handshake-failed", tls::describe(done.error().sys).c_str());
    if (!*done) return;
    POSTERN_LOG_DEBUG("net %s event=tls-ready", id_.c_str());
    if (!held_plaintext_.empty()) {
      queued_ -= held_plaintext_.size();
      send(std::exchange(held_plaintext_, std::string()));
    }
    if (handler_ != nullptr) handler_->on_tls_ready(*this);
    if (state_ != State::open) return;
  }
  auto n = tls_->read_plaintext(input_, room());
  flush_tls();
  if (!n) return fail("tls-read-failed", tls::describe(n.error().sys).c_str());
  if (tls_->peer_closed()) {
    eof_ = true;
    update_reading();
  }
}

// Offers input, then a pending EOF, to the handler; then re-evaluates reading.
void Connection::deliver() {
  if (state_ != State::open || handler_ == nullptr) return;
  if (!paused_ && !input_.empty()) handler_->on_input(*this);
  if (state_ != State::open) return;
  if (eof_ && !eof_offered_ && !paused_) {
    eof_offered_ = true;
    handler_->on_eof(*this);
    if (state_ != State::open) return;
  }
  update_reading();
}

void Connection::on_offer(uv_idle_t* idle) noexcept {
  Connection* self = owner(reinterpret_cast<uv_handle_t*>(idle));
  uv_idle_stop(idle);
  if (self == nullptr || self->state_ != State::open) return;
  self->over_budget_ = false;
  if (self->tls_ && self->tls_->handshake_done()) self->pump_tls();
  self->deliver();
  if (self->state_ == State::open) self->update_reading();
}

core::Result<void> Connection::start_tls(const tls::ServerConfig& config) {
  if (tls_ != nullptr) return core::make_error(core::Errc::invalid, "start_tls twice");
  // RFC 3207 §4.2 / RFC 2595 §4: nothing received before the handshake may be
  // acted on afterwards, so bytes pipelined behind the command are dropped.
  if (!input_.empty()) {
    POSTERN_LOG_DEBUG("net %s event=tls-discard bytes=%zu", id_.c_str(), input_.size());
  }
  input_.clear();
  auto filter = tls::Filter::create(config);
  if (!filter) return filter.error();
  tls_ = std::move(*filter);
  update_reading();
  return {};
}

void Connection::send(std::string_view bytes) {
  if (state_ != State::open || bytes.empty()) return;
  if (tls_ != nullptr && !tls_->handshake_done()) {
    held_plaintext_.append(bytes);
    queued_ += bytes.size();
    return;
  }
  if (tls_ != nullptr) {
    auto r = tls_->write_plaintext(bytes);
    if (!r) return fail("tls-write-failed", tls::describe(r.error().sys).c_str());
    flush_tls();
    return;
  }
  write_raw(std::string(bytes));
}

void Connection::send(std::string&& bytes) {
  if (tls_ != nullptr || state_ != State::open) {
    send(std::string_view(bytes));  // the TLS filter copies into its records anyway
    return;
  }
  write_raw(std::move(bytes));
}

void Connection::flush_tls() {
  if (tls_ != nullptr && tls_->has_ciphertext()) write_raw(tls_->take_ciphertext());
}

void Connection::write_raw(std::string bytes) {
  if (bytes.empty() || state_ == State::closing) return;
  auto* write = new Write{{}, this, std::move(bytes)};
  write->request.data = write;
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned int>(write->bytes.size()));
  int rc = uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1,
                    &Connection::on_write);
  if (rc != 0) {
    delete write;
    return fail("write-failed", uv_err_name(rc));
  }
  queued_ += buf.len;
  ++writes_in_flight_;
  if (queued_ >= limits_.high_water_bytes) above_high_water_ = true;
}

void Connection::on_write(uv_write_t* request, int status) noexcept {
  auto* write = static_cast<Write*>(request->data);
  Connection* self = write->conn;
  self->queued_ -= write->bytes.size();
  --self->writes_in_flight_;
  delete write;
  if (status == UV_ECANCELED || self->state_ == State::closing) return;
  if (status < 0) return self->fail("write-failed", uv_err_name(status));
  if (self->state_ == State::flushing) {
    if (self->writes_in_flight_ == 0) self->finish_flush();
    return;
  }
  if (self->above_high_water_ && self->queued_ <= self->limits_.low_water_bytes) {
    self->above_high_water_ = false;
    if (self->handler_ != nullptr) self->handler_->on_drain(*self);
  }
}

void Connection::close_after_flush() {
  if (state_ != State::open) return;
  if (tls_ != nullptr && !tls_->handshake_done()) return abort();  // nothing can be sent
  if (tls_ != nullptr) {
    if (tls_->close_notify()) flush_tls();
  }
  state_ = State::flushing;
  uv_idle_stop(&offer_);
  update_reading();
  if (writes_in_flight_ == 0) finish_flush();
}

// All bytes are written: send FIN, then close once the shutdown completes.
void Connection::finish_flush() {
  shutdown_.data = this;
  int rc = uv_shutdown(&shutdown_, reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::on_shutdown);
  if (rc != 0) close_handles();  // e.g. ENOTCONN: the peer is already gone
}

void Connection::on_shutdown(uv_shutdown_t* request, int) noexcept {
  auto* self = static_cast<Connection*>(request->data);
  self->close_handles();
}

void Connection::on_timer(uv_timer_t* timer) noexcept {
  Connection* self = owner(reinterpret_cast<uv_handle_t*>(timer));
  if (self == nullptr) return;
  if (self->state_ == State::flushing) return self->fail("flush-timeout", "peer-not-reading");
  if (self->state_ == State::open && self->handler_ != nullptr) self->handler_->on_timeout(*self);
}

void Connection::abort() {
  close_handles();
}

void Connection::fail(const char* event, const char* detail) {
  POSTERN_LOG_INFO("net %s event=%s peer=%s detail=%s", id_.c_str(), event, peer_.c_str(),
                   core::printable(detail).c_str());
  close_handles();
}

void Connection::close_handles() {
  if (state_ == State::closing) return;
  state_ = State::closing;
  reading_ = false;
  // Pending writes and the shutdown complete with UV_ECANCELED before close_cb.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Connection::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&offer_), &Connection::on_handle_closed);
}

void Connection::on_handle_closed(uv_handle_t* handle) noexcept {
  Connection* self = owner(handle);
  if (--self->open_handles_ > 0) return;
  if (self->listener_ != nullptr) self->listener_->release(*self);
  if (self->handler_ != nullptr) self->handler_->on_closed(*self);
  delete self;
}

}  // namespace postern::net
