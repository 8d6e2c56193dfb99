// Background upkeep on a loop timer: expiring dedup ledger rows past the window.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>

#include "app/settings.h"
#include "core/clock.h"
#include "net/timer.h"
#include "store/writer.h"

namespace postern::app {

// Loop thread only. Borrows all three; they outlive it (the Writer also
// outlives the completion of a slice submitted before it was destroyed).
//
// A run expires the rows first seen before now - dedup_window in slices of
// store::kExpireSliceEntries, one Writer job per slice: each job holds the
// writer for a few milliseconds, and the deliveries queued meanwhile join the
// batch of the next slice. At 100 msgs/s a 10-minute run has about 120 000
// rows to expire, 60 slices.
class Housekeeping {
 public:
  Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
               const Settings& settings);
  ~Housekeeping();
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  // Starts a run unless one is still going (that one keeps its window).
  void run_now();
  bool running() const { return run_ && !run_->done; }

 private:
  // Shared with the slice completions, which may run after ~Housekeeping.
  struct Run {
    store::Writer* writer = nullptr;
    std::int64_t before = 0;    // the window start, fixed for the run
    std::uint64_t expired = 0;  // rows removed so far
    std::uint64_t slices = 0;   // jobs so far
    bool done = false;
    bool stopped = false;  // set by ~Housekeeping: no further slice
  };
  static void submit_slice(const std::shared_ptr<Run>& run);

  store::Writer& writer_;
  const core::Clock& clock_;
  const Settings& settings_;
  net::Timer timer_;
  std::shared_ptr<Run> run_;
};

}  // namespace postern::app
