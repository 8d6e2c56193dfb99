// The loop-lag probe: a callback that blocks the loop shows up as the probe's lag.
#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>
#include <thread>

#include "app/loop_lag.h"

namespace {

using postern::app::LoopLag;

struct Blocker {
  uv_timer_t timer{};
  int block_ms = 0;
};

// Runs the loop for about `run_ms`; one callback at 120 ms blocks the loop for `block_ms`.
void run_with_stall(uv_loop_t* loop, int block_ms, int run_ms) {
  Blocker blocker;
  blocker.block_ms = block_ms;
  uv_timer_init(loop, &blocker.timer);
  blocker.timer.data = &blocker;
  uv_timer_start(
      &blocker.timer,
      [](uv_timer_t* t) {
        auto* b = static_cast<Blocker*>(t->data);
        if (b->block_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(b->block_ms));
      },
      120, 0);
  uv_timer_t stop{};
  uv_timer_init(loop, &stop);
  uv_timer_start(
      &stop, [](uv_timer_t* t) { uv_stop(t->loop); }, static_cast<std::uint64_t>(run_ms), 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&blocker.timer), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
}

}  // namespace

TEST_CASE("a stalled loop is reported by the probe, and the interval restarts on take") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    LoopLag probe(&loop);
    run_with_stall(&loop, 300, 500);
    CHECK(probe.samples() >= 3);
    const std::uint64_t first = probe.take_interval_max_us();
    // The blocked 300 ms delays the next 50 ms firing by ~250-300 ms.
    CHECK(first >= 240'000);
    CHECK(probe.max_since_start_us() == first);
    // A new interval without a stall: small lag, while the since-start maximum stays.
    run_with_stall(&loop, 0, 300);
    const std::uint64_t second = probe.take_interval_max_us();
    CHECK(second < first);
    CHECK(probe.max_since_start_us() == first);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the probe's close callbacks
  CHECK(uv_loop_close(&loop) == 0);
}
