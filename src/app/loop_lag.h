// The loop-lag probe: how late a periodic uv timer fires, i.e. how long the
// loop was stalled by the callback before it (issue 16 §3: nothing on the loop
// may stall it for more than 10 ms).
#pragma once

#include <uv.h>

#include <cstdint>

#include "net/timer.h"

namespace postern::app {

// Loop thread only. A timer every kPeriodMs; each firing measures
// lag = now - (previous firing + period) with uv_hrtime(). The maximum is kept
// twice: over the current interval (closed by take_interval_max_us(), which
// /api/status and SIGUSR1 call) and since start. SIGUSR1 logs and closes the
// interval; the destructor logs the since-start maximum. Both handles are
// unref'd: they never keep a stopping loop alive. The timer is a net::Timer; the
// signal handle is freed in its close callback (STYLE RAII trap 1).
class LoopLag {
 public:
  static constexpr std::uint64_t kPeriodMs = 50;

  explicit LoopLag(uv_loop_t* loop);
  ~LoopLag();
  LoopLag(const LoopLag&) = delete;
  LoopLag& operator=(const LoopLag&) = delete;

  // The largest lag since the previous call (or start), including how overdue the
  // next firing is now, then starts a new interval.
  std::uint64_t take_interval_max_us();
  std::uint64_t max_since_start_us() const { return max_total_us_; }
  std::uint64_t samples() const { return samples_; }

 private:
  static void on_usr1(uv_signal_t* handle, int signum) noexcept;
  void record(std::uint64_t now_ns);

  net::Timer timer_;
  uv_signal_t* usr1_;
  std::uint64_t last_ns_ = 0;
  std::uint64_t max_interval_us_ = 0;
  std::uint64_t max_total_us_ = 0;
  std::uint64_t samples_ = 0;
};

}  // namespace postern::app
