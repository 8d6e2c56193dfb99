// The loop-lag probe: a callback that blocks the loop shows up as the probe's lag.
#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>
#include <thread>

#include "app/loop_lag.h"

namespace {

using postern::app::LoopLag;
using postern::app::LoopLoad;

struct Blocker {
  uv_timer_t timer{};
  int block_ms = 0;
  bool spin = false;  // burn CPU instead of sleeping
};

// Runs the loop for about `run_ms`; one callback at 120 ms blocks the loop for `block_ms`,
// sleeping (wall time, no CPU) or spinning (CPU).
void run_with_stall(uv_loop_t* loop, int block_ms, int run_ms, bool spin = false) {
  Blocker blocker;
  blocker.block_ms = block_ms;
  blocker.spin = spin;
  uv_timer_init(loop, &blocker.timer);
  blocker.timer.data = &blocker;
  uv_timer_start(
      &blocker.timer,
      [](uv_timer_t* t) {
        auto* b = static_cast<Blocker*>(t->data);
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(b->block_ms);
        if (!b->spin) {
          std::this_thread::sleep_until(until);
        } else {
          while (std::chrono::steady_clock::now() < until) {
          }
        }
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
    const LoopLoad first = probe.take_interval();
    // The blocked 300 ms delays the next 50 ms firing by ~250-300 ms; the iteration
    // holding it was busy 300 ms, but a sleep uses no CPU.
    CHECK(first.lag_us >= 240'000);
    CHECK(first.busy_us >= 295'000);
    CHECK(first.cpu_us < 150'000);
    CHECK(probe.since_start().lag_us == first.lag_us);
    // A new interval without a stall: small figures, while the since-start maxima stay.
    run_with_stall(&loop, 0, 300);
    const LoopLoad second = probe.take_interval();
    CHECK(second.lag_us < first.lag_us);
    CHECK(second.busy_us < 100'000);
    CHECK(probe.since_start().busy_us == first.busy_us);
    CHECK(probe.iterations() >= 5);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // the probe's close callbacks
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("a callback burning CPU shows as iteration CPU time, not only as wall time") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    LoopLag probe(&loop);
    run_with_stall(&loop, 200, 400, /*spin=*/true);
    const LoopLoad load = probe.take_interval();
    CHECK(load.busy_us >= 195'000);
    // On a loaded machine the spinning thread may wait for a CPU part of the time.
    CHECK(load.cpu_us >= 50'000);
    CHECK(load.cpu_us <= load.busy_us + 5'000);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
