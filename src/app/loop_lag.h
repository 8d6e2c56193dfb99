// The loop-lag probe (issue 16 §3: no loop iteration may take more than 10 ms).
// Three figures, because a late timer alone cannot say whose fault it is:
//   lag   how late a periodic uv timer fires: what a session waiting on the loop sees;
//   busy  the wall time of one loop iteration outside its poll wait (libuv's idle-time
//         metric): callbacks, plus any time the thread waited for a CPU meanwhile;
//   cpu   the loop thread's CPU time in that iteration (CLOCK_THREAD_CPUTIME_ID): the
//         work postern itself did. busy >> cpu means the machine was short of CPUs.
#pragma once

#include <uv.h>

#include <cstdint>

#include "net/timer.h"

namespace postern::app {

// Maxima in microseconds, over an interval or since start.
struct LoopLoad {
  std::uint64_t lag_us = 0;
  std::uint64_t busy_us = 0;
  std::uint64_t cpu_us = 0;
  void include(const LoopLoad& other);
};

// Loop thread only. A timer every kPeriodMs measures lag = now - (previous
// firing + period) with uv_hrtime(); a prepare handle (run once per iteration,
// just before the poll) measures busy and cpu of the iteration that ends (from
// the second on). The maxima are kept twice: over the current interval (closed by
// take_interval(), which /api/status and SIGUSR1 call) and since start. The
// destructor logs the since-start maxima. All handles are unref'd: they never
// keep a stopping loop alive. The timer is a net::Timer; the other handles are
// freed in their close callbacks (STYLE RAII trap 1). The idle-time metric costs
// libuv one extra non-blocking epoll_wait per iteration.
class LoopLag {
 public:
  static constexpr std::uint64_t kPeriodMs = 50;

  // Turns on libuv's idle-time metric for `loop` (UV_METRICS_IDLE_TIME).
  explicit LoopLag(uv_loop_t* loop);
  ~LoopLag();
  LoopLag(const LoopLag&) = delete;
  LoopLag& operator=(const LoopLag&) = delete;

  // The maxima since the previous call (or start), the lag including how overdue
  // the next firing is now; then starts a new interval.
  LoopLoad take_interval();
  const LoopLoad& since_start() const { return total_; }
  std::uint64_t samples() const { return samples_; }
  std::uint64_t iterations() const { return iterations_; }

 private:
  static void on_usr1(uv_signal_t* handle, int signum) noexcept;
  static void on_prepare(uv_prepare_t* handle) noexcept;
  void record_lag(std::uint64_t now_ns);
  void record_iteration();

  uv_loop_t* loop_;
  net::Timer timer_;
  uv_signal_t* usr1_;
  uv_prepare_t* prepare_;
  std::uint64_t last_ns_ = 0;       // the timer's previous firing
  std::uint64_t iteration_ns_ = 0;  // the previous prepare: wall, idle and CPU
  std::uint64_t iteration_idle_ns_ = 0;
  std::uint64_t iteration_cpu_ns_ = 0;
  LoopLoad interval_;
  LoopLoad total_;
  std::uint64_t samples_ = 0;
  std::uint64_t iterations_ = 0;
};

}  // namespace postern::app
