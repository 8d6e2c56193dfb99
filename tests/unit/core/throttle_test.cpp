// Tests for core::Throttle: growth, cap, decay, success, eviction, all on a ManualClock.
#include "core/throttle.h"

#include <doctest/doctest.h>

#include <string>

using postern::core::ManualClock;
using postern::core::Seconds;
using postern::core::Throttle;
using postern::core::ThrottlePolicy;

TEST_CASE("an unknown key has no delay and no failures") {
  ManualClock clock;
  Throttle throttle;
  CHECK(throttle.delay_for("ip:192.0.2.1", clock.now()) == Seconds(0));
  CHECK(throttle.failures("ip:192.0.2.1", clock.now()) == 0);
  CHECK(throttle.size() == 0);
}

TEST_CASE("the delay doubles with each failure beyond the free ones and stops at the cap") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{1, Seconds(1), Seconds(60), Seconds(300), 16});
  const std::string key = "ip:192.0.2.1";
  throttle.record_failure(key, clock.now());
  CHECK(throttle.delay_for(key, clock.now()) == Seconds(0));  // one free mistake
  const int expected[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
  for (int want : expected) {
    throttle.record_failure(key, clock.now());
    CHECK(throttle.delay_for(key, clock.now()) == Seconds(want));
  }
}

TEST_CASE("each quiet period forgets one failure until the key is clean") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 16});
  const std::string key = "user:alice";
  for (int i = 0; i < 4; ++i) throttle.record_failure(key, clock.now());
  CHECK(throttle.delay_for(key, clock.now()) == Seconds(8));
  clock.advance(Seconds(299));
  CHECK(throttle.delay_for(key, clock.now()) == Seconds(8));
  clock.advance(Seconds(1));
  CHECK(throttle.delay_for(key, clock.now()) == Seconds(4));
  clock.advance(Seconds(600));
  CHECK(throttle.failures(key, clock.now()) == 1);
  clock.advance(Seconds(300));
  CHECK(throttle.failures(key, clock.now()) == 0);
  CHECK(throttle.delay_for(key, clock.now()) == Seconds(0));
}

TEST_CASE("a failure after a quiet spell restarts from the decayed count") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 16});
  for (int i = 0; i < 3; ++i) throttle.record_failure("k", clock.now());
  clock.advance(Seconds(600));  // two failures forgotten
  throttle.record_failure("k", clock.now());
  CHECK(throttle.failures("k", clock.now()) == 2);
  CHECK(throttle.delay_for("k", clock.now()) == Seconds(2));
}

TEST_CASE("success forgets the key") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 16});
  throttle.record_failure("user:bob", clock.now());
  throttle.record_failure("user:bob", clock.now());
  throttle.record_success("user:bob");
  CHECK(throttle.delay_for("user:bob", clock.now()) == Seconds(0));
  CHECK(throttle.size() == 0);
  throttle.record_success("user:never-seen");  // harmless
  CHECK(throttle.size() == 0);
}

TEST_CASE("keys are independent") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 16});
  for (int i = 0; i < 3; ++i) throttle.record_failure("ip:a", clock.now());
  throttle.record_failure("ip:b", clock.now());
  CHECK(throttle.delay_for("ip:a", clock.now()) == Seconds(4));
  CHECK(throttle.delay_for("ip:b", clock.now()) == Seconds(1));
}

TEST_CASE("a full table evicts the least recently failed key") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 3});
  throttle.record_failure("a", clock.now());
  throttle.record_failure("b", clock.now());
  throttle.record_failure("c", clock.now());
  throttle.record_failure("a", clock.now());  // "a" becomes the most recent
  throttle.record_failure("d", clock.now());  // evicts "b"
  CHECK(throttle.size() == 3);
  CHECK(throttle.failures("b", clock.now()) == 0);
  CHECK(throttle.failures("a", clock.now()) == 2);
  CHECK(throttle.failures("c", clock.now()) == 1);
  CHECK(throttle.failures("d", clock.now()) == 1);
  for (int i = 0; i < 100; ++i) throttle.record_failure("k" + std::to_string(i), clock.now());
  CHECK(throttle.size() == 3);
}

TEST_CASE("a clock that steps backwards neither decays nor breaks the count") {
  ManualClock clock;
  Throttle throttle(ThrottlePolicy{0, Seconds(1), Seconds(60), Seconds(300), 16});
  throttle.record_failure("k", clock.now());
  clock.advance(-Seconds(3600));
  throttle.record_failure("k", clock.now());
  CHECK(throttle.failures("k", clock.now()) == 2);
}
