// The loop-lag probe: a periodic timer that measures how late it fires.
#include "app/loop_lag.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <csignal>

#include "core/log.h"

namespace postern::app {

LoopLag::LoopLag(uv_loop_t* loop) : timer_(loop), usr1_(new uv_signal_t) {
  last_ns_ = uv_hrtime();
  const std::chrono::milliseconds period(kPeriodMs);
  timer_.start(period, period, [this] { record(uv_hrtime()); });
  timer_.unref();
  uv_signal_init(loop, usr1_);
  usr1_->data = this;
  uv_signal_start(usr1_, &LoopLag::on_usr1, SIGUSR1);
  uv_unref(reinterpret_cast<uv_handle_t*>(usr1_));
}

LoopLag::~LoopLag() {
  POSTERN_LOG_INFO("app event=loop-lag max_ms=%.1f samples=%" PRIu64,
                   static_cast<double>(max_total_us_) / 1000.0, samples_);
  usr1_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(usr1_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
}

std::uint64_t LoopLag::take_interval_max_us() {
  // A firing that is overdue now counts too: the stall that delays it may be the
  // very callback reading the probe (e.g. the page's status request).
  const std::uint64_t now_ns = uv_hrtime();
  const std::uint64_t expected = last_ns_ + kPeriodMs * 1000000;
  const std::uint64_t pending_us = now_ns > expected ? (now_ns - expected) / 1000 : 0;
  const std::uint64_t max = std::max(max_interval_us_, pending_us);
  max_total_us_ = std::max(max_total_us_, pending_us);
  max_interval_us_ = 0;
  return max;
}

void LoopLag::record(std::uint64_t now_ns) {
  // A repeating uv timer is due kPeriodMs after the loop time it last ran at;
  // anything beyond that is time the loop spent elsewhere. uv's own rounding to
  // whole milliseconds adds at most 1 ms.
  const std::uint64_t expected = last_ns_ + kPeriodMs * 1000000;
  const std::uint64_t lag_us = now_ns > expected ? (now_ns - expected) / 1000 : 0;
  last_ns_ = now_ns;
  ++samples_;
  max_interval_us_ = std::max(max_interval_us_, lag_us);
  max_total_us_ = std::max(max_total_us_, lag_us);
}

void LoopLag::on_usr1(uv_signal_t* handle, int) noexcept {
  auto* self = static_cast<LoopLag*>(handle->data);
  if (self == nullptr) return;
  const std::uint64_t interval = self->take_interval_max_us();
  POSTERN_LOG_INFO("app event=loop-lag interval_max_ms=%.1f max_ms=%.1f samples=%" PRIu64,
                   static_cast<double>(interval) / 1000.0,
                   static_cast<double>(self->max_total_us_) / 1000.0, self->samples_);
}

}  // namespace postern::app
