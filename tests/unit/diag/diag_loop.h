// A uv loop for diag loop tests: bounded waits, and every handle closed at the end.
#pragma once

#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>
#include <functional>

#include "test_support.h"

namespace postern::test {

class DiagLoop {
 public:
  DiagLoop() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~DiagLoop() {
    for (int i = 0; i < 100 && uv_loop_alive(&loop_); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    CHECK_MESSAGE(uv_loop_close(&loop_) == 0, "a handle was left open");
  }
  DiagLoop(const DiagLoop&) = delete;
  DiagLoop& operator=(const DiagLoop&) = delete;
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until done() holds or the scaled limit passes (a guard timer wakes it).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    uv_timer_t guard;
    uv_timer_init(&loop_, &guard);
    bool expired = false;
    guard.data = &expired;
    uv_timer_start(
        &guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
        static_cast<std::uint64_t>(scaled(limit).count()), 0);
    while (!done() && !expired) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    return done();
  }

 private:
  uv_loop_t loop_;
};

}  // namespace postern::test
