// Background upkeep on a loop timer: expiring dedup ledger rows past the window.
#pragma once

#include <uv.h>

#include "app/settings.h"
#include "core/clock.h"
#include "net/timer.h"
#include "store/writer.h"

namespace postern::app {

// Loop thread only. Borrows all three; they outlive it.
class Housekeeping {
 public:
  Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
               const Settings& settings);
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  void run_now();

 private:
  store::Writer& writer_;
  const core::Clock& clock_;
  const Settings& settings_;
  net::Timer timer_;
};

}  // namespace postern::app
