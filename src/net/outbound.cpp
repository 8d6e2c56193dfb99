// Outgoing TCP (+ TLS client) connections on the loop.
#include "net/outbound.h"

#include <cstring>

namespace postern::net {
namespace {
struct WriteRequest {
  uv_write_t request;
  std::string bytes;
};
}  // namespace

const char* to_string(Ending ending) noexcept {
  switch (ending) {
    case Ending::local:
      return "local";
    case Ending::eof:
      return "eof";
    case Ending::timeout:
      return "timeout";
    case Ending::connect_failed:
      return "connect-failed";
    case Ending::io_error:
      return "io-error";
    case Ending::tls_error:
      return "tls-error";
  }
  return "unknown";
}

Outbound::Outbound(uv_loop_t* loop, OutboundHandler& handler, std::chrono::milliseconds timeout)
    : handler_(&handler), timeout_(timeout) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  tcp_.data = this;
  timer_.data = this;
  open_handles_ = 2;
}

Outbound* Outbound::connect(uv_loop_t* loop, const sockaddr* address, OutboundHandler& handler,
                            std::chrono::milliseconds timeout) {
  auto* self = new Outbound(loop, handler, timeout);
  self->connect_.data = self;
  const int rc = uv_tcp_connect(&self->connect_, &self->tcp_, address, &Outbound::on_connect);
  if (rc != 0) {
    // Reported from the timer, never from inside connect().
    self->ending_ = Ending::connect_failed;
    self->code_ = rc;
    self->closing_ = true;
    uv_timer_start(
        &self->timer_,
        [](uv_timer_t* t) {
          auto* o = static_cast<Outbound*>(t->data);
          o->closing_ = false;
          o->finish(o->ending_, o->code_);
        },
        0, 0);
    return self;
  }
  self->arm_timer();
  return self;
}

void Outbound::arm_timer() {
  if (timeout_.count() > 0 && !closing_) {
    uv_timer_start(&timer_, &Outbound::on_timer, static_cast<std::uint64_t>(timeout_.count()), 0);
  }
}

void Outbound::on_connect(uv_connect_t* request, int status) noexcept {
  auto* self = static_cast<Outbound*>(request->data);
  if (self->closing_) return;
  if (status != 0) return self->finish(Ending::connect_failed, status);
  self->connected_ = true;
  self->arm_timer();
  self->update_reading();
  self->handler_->on_connected(*self);
}

void Outbound::update_reading() {
  if (closing_ || !connected_) return;
  const bool want = input_.size() < kMaxInputBytes;
  if (want && !reading_) {
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Outbound::on_alloc,
                      &Outbound::on_read) == 0)
      reading_ = true;
  } else if (!want && reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
}

void Outbound::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) noexcept {
  auto* self = static_cast<Outbound*>(handle->data);
  *buf = uv_buf_init(self->scratch_, sizeof self->scratch_);
}

void Outbound::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<Outbound*>(stream->data);
  if (self == nullptr || self->closing_) return;
  if (nread == UV_EOF) return self->finish(Ending::eof, 0);
  if (nread < 0) return self->finish(Ending::io_error, static_cast<int>(nread));
  if (nread == 0) return;
  self->arm_timer();
  self->on_bytes(buf->base, static_cast<std::size_t>(nread));
}

void Outbound::on_bytes(const char* data, std::size_t size) {
  if (!tls_) {
    input_.append(data, size);
    update_reading();
    handler_->on_input(*this);
    return;
  }
  tls_->feed_ciphertext(std::string_view(data, size));
  const bool was_done = tls_->handshake_done();
  auto got = tls_->read_plaintext(input_, kMaxInputBytes + 64 * 1024 - input_.size());
  if (tls_->has_ciphertext()) write_raw(tls_->take_ciphertext());
  if (!got) return finish(Ending::tls_error, got.error().sys);
  if (!was_done && tls_->handshake_done()) {
    handler_->on_tls_ready(*this);
    if (closing_) return;
  }
  if (tls_->peer_closed()) {
    if (!input_.empty()) handler_->on_input(*this);
    if (!closing_) finish(Ending::eof, 0);
    return;
  }
  update_reading();
  if (*got > 0) handler_->on_input(*this);
}

void Outbound::consume(std::size_t n) {
  input_.erase(0, n);
  if (tls_ && tls_->has_buffered_input() && input_.size() < kMaxInputBytes) {
    // Plaintext held back by the cap: decrypt it now that there is room.
    auto got = tls_->read_plaintext(input_, kMaxInputBytes - input_.size());
    if (got && *got > 0) {
      // Offered with the next read event; the caller just consumed, so it
      // checks input() again after its own progress.
    }
  }
  update_reading();
}

void Outbound::send(std::string_view bytes) {
  if (closing_) return;
  if (tls_) {
    if (auto r = tls_->write_plaintext(bytes); !r) return finish(Ending::tls_error, r.error().sys);
    write_raw(tls_->take_ciphertext());
    return;
  }
  write_raw(std::string(bytes));
}

void Outbound::write_raw(std::string bytes) {
  if (bytes.empty() || closing_) return;
  auto* w = new WriteRequest{{}, std::move(bytes)};
  w->request.data = this;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned int>(w->bytes.size()));
  if (uv_write(&w->request, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, &Outbound::on_write) !=
      0) {
    delete w;
  }
}

void Outbound::on_write(uv_write_t* request, int status) noexcept {
  auto* w = reinterpret_cast<WriteRequest*>(request);
  auto* self = static_cast<Outbound*>(request->data);
  delete w;
  if (status != 0 && status != UV_ECANCELED && self != nullptr && !self->closing_) {
    self->finish(Ending::io_error, status);
  }
}

core::Result<void> Outbound::start_tls(const mbedtls_ssl_config* config,
                                       const std::string& hostname) {
  input_.clear();  // RFC 2595 §4, RFC 3207 §4.2 (CVE-2011-0411)
  auto filter = tls::Filter::create_client(config, hostname);
  if (!filter) return filter.error();
  tls_ = std::move(*filter);
  auto r = tls_->handshake();
  if (tls_->has_ciphertext()) write_raw(tls_->take_ciphertext());
  if (!r) return r.error();
  return {};
}

void Outbound::on_timer(uv_timer_t* timer) noexcept {
  auto* self = static_cast<Outbound*>(timer->data);
  if (self != nullptr && !self->closing_) self->finish(Ending::timeout, 0);
}

void Outbound::close() {
  if (!closing_) finish(Ending::local, 0);
}

void Outbound::detach() {
  handler_ = nullptr;
  close();
}

void Outbound::finish(Ending ending, int code) {
  if (closing_) return;
  closing_ = true;
  ending_ = ending;
  code_ = code;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Outbound::on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Outbound::on_handle_closed);
}

void Outbound::on_handle_closed(uv_handle_t* handle) noexcept {
  auto* self = static_cast<Outbound*>(handle->data);
  if (--self->open_handles_ > 0) return;
  if (self->handler_ != nullptr) self->handler_->on_closed(*self, self->ending_, self->code_);
  delete self;
}

}  // namespace postern::net
