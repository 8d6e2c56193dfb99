// net::Timer: start, stop and the close-callback rule for a heap uv_timer_t.
#include "net/timer.h"

namespace postern::net {

Timer::Timer(uv_loop_t* loop) : handle_(new uv_timer_t) {
  uv_timer_init(loop, handle_);
  handle_->data = this;
}

Timer::~Timer() {
  // Callbacks check `data`: a firing already queued by libuv finds no owner. The handle is
  // freed in its close callback, never here (STYLE RAII trap 1).
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* handle) noexcept { delete reinterpret_cast<uv_timer_t*>(handle); });
}

void Timer::start(std::chrono::milliseconds timeout, std::chrono::milliseconds repeat,
                  std::function<void()> fn) {
  fn_ = std::move(fn);
  uv_timer_start(handle_, &Timer::on_timer, static_cast<std::uint64_t>(timeout.count()),
                 static_cast<std::uint64_t>(repeat.count()));
}

void Timer::stop() {
  uv_timer_stop(handle_);
}

bool Timer::active() const {
  return uv_is_active(reinterpret_cast<const uv_handle_t*>(handle_)) != 0;
}

void Timer::unref() {
  uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
}

void Timer::on_timer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<Timer*>(handle->data);
  if (self == nullptr || !self->fn_) return;
  // A copy: `fn` may destroy the Timer (its owner), and with it fn_.
  std::function<void()> fn = self->fn_;
  fn();
}

}  // namespace postern::net
