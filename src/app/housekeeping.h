// Background upkeep on a loop timer: expiring dedup ledger rows past the window.
#pragma once

#include <uv.h>

#include "app/settings.h"
#include "core/clock.h"
#include "store/writer.h"

namespace postern::app {

// Loop thread only. Borrows all three; they outlive it. The timer handle is
// freed in its close callback (STYLE RAII trap 1).
class Housekeeping {
 public:
  Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
               const Settings& settings);
  ~Housekeeping();
  Housekeeping(const Housekeeping&) = delete;
  Housekeeping& operator=(const Housekeeping&) = delete;

  void run_now();

 private:
  static void on_timer(uv_timer_t* timer) noexcept;
  store::Writer& writer_;
  const core::Clock& clock_;
  const Settings& settings_;
  uv_timer_t* timer_;
};

}  // namespace postern::app
