// The loop-lag probe: a periodic timer that measures how late it fires, and a
// prepare handle that measures each loop iteration.
#include "app/loop_lag.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <ctime>

#include "core/log.h"

namespace postern::app {
namespace {

std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

template <class Handle>
void close_and_free(Handle* handle) {
  handle->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

}  // namespace

void LoopLoad::include(const LoopLoad& other) {
  lag_us = std::max(lag_us, other.lag_us);
  busy_us = std::max(busy_us, other.busy_us);
  cpu_us = std::max(cpu_us, other.cpu_us);
}

LoopLag::LoopLag(uv_loop_t* loop)
    : loop_(loop), timer_(loop), usr1_(new uv_signal_t), prepare_(new uv_prepare_t) {
  uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
  last_ns_ = uv_hrtime();
  iteration_ns_ = last_ns_;
  iteration_idle_ns_ = uv_metrics_idle_time(loop);
  iteration_cpu_ns_ = thread_cpu_ns();
  const std::chrono::milliseconds period(kPeriodMs);
  timer_.start(period, period, [this] { record_lag(uv_hrtime()); });
  timer_.unref();
  uv_signal_init(loop, usr1_);
  usr1_->data = this;
  uv_signal_start(usr1_, &LoopLag::on_usr1, SIGUSR1);
  uv_unref(reinterpret_cast<uv_handle_t*>(usr1_));
  uv_prepare_init(loop, prepare_);
  prepare_->data = this;
  uv_prepare_start(prepare_, &LoopLag::on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
}

LoopLag::~LoopLag() {
  POSTERN_LOG_INFO(
      "app event=loop-lag max_ms=%.1f busy_max_ms=%.1f cpu_max_ms=%.1f samples=%" PRIu64
      " iterations=%" PRIu64,
      static_cast<double>(total_.lag_us) / 1000.0, static_cast<double>(total_.busy_us) / 1000.0,
      static_cast<double>(total_.cpu_us) / 1000.0, samples_, iterations_);
  close_and_free(usr1_);
  close_and_free(prepare_);
}

LoopLoad LoopLag::take_interval() {
  // A firing that is overdue now counts too: the stall that delays it may be the
  // very callback reading the probe (e.g. the page's status request).
  const std::uint64_t now_ns = uv_hrtime();
  const std::uint64_t expected = last_ns_ + kPeriodMs * 1000000;
  LoopLoad pending;
  pending.lag_us = now_ns > expected ? (now_ns - expected) / 1000 : 0;
  total_.include(pending);
  LoopLoad result = interval_;
  result.include(pending);
  interval_ = LoopLoad{};
  return result;
}

void LoopLag::record_lag(std::uint64_t now_ns) {
  // A repeating uv timer is due kPeriodMs after the loop time it last ran at;
  // anything beyond that is time the loop spent elsewhere. uv's own rounding to
  // whole milliseconds adds at most 1 ms.
  const std::uint64_t expected = last_ns_ + kPeriodMs * 1000000;
  LoopLoad sample;
  sample.lag_us = now_ns > expected ? (now_ns - expected) / 1000 : 0;
  last_ns_ = now_ns;
  ++samples_;
  interval_.include(sample);
  total_.include(sample);
}

void LoopLag::record_iteration() {
  // Called just before the poll: everything since the previous call is one
  // iteration, of which the poll wait (idle time) was not work.
  const std::uint64_t now_ns = uv_hrtime();
  const std::uint64_t idle_ns = uv_metrics_idle_time(loop_);
  const std::uint64_t cpu_ns = thread_cpu_ns();
  const std::uint64_t wall = now_ns - iteration_ns_;
  const std::uint64_t idle = idle_ns - iteration_idle_ns_;
  LoopLoad sample;
  sample.busy_us = (wall > idle ? wall - idle : 0) / 1000;
  sample.cpu_us = (cpu_ns - iteration_cpu_ns_) / 1000;
  iteration_ns_ = now_ns;
  iteration_idle_ns_ = idle_ns;
  iteration_cpu_ns_ = cpu_ns;
  // The first one holds the start-up between the constructor and uv_run (store
  // recovery, the TLS key): not a stall of a running loop.
  if (iterations_++ == 0) return;
  interval_.include(sample);
  total_.include(sample);
}

void LoopLag::on_prepare(uv_prepare_t* handle) noexcept {
  if (auto* self = static_cast<LoopLag*>(handle->data)) self->record_iteration();
}

void LoopLag::on_usr1(uv_signal_t* handle, int) noexcept {
  auto* self = static_cast<LoopLag*>(handle->data);
  if (self == nullptr) return;
  const LoopLoad interval = self->take_interval();
  POSTERN_LOG_INFO(
      "app event=loop-lag interval_max_ms=%.1f interval_busy_max_ms=%.1f"
      " interval_cpu_max_ms=%.1f max_ms=%.1f samples=%" PRIu64,
      static_cast<double>(interval.lag_us) / 1000.0, static_cast<double>(interval.busy_us) / 1000.0,
      static_cast<double>(interval.cpu_us) / 1000.0,
      static_cast<double>(self->total_.lag_us) / 1000.0, self->samples_);
}

}  // namespace postern::app
