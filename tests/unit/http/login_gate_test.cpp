#include "http/login_gate.h"

#include <doctest/doctest.h>

#include <string>

using postern::core::ManualClock;
using postern::core::Seconds;
using postern::core::ThrottlePolicy;
using postern::http::LoginGate;

namespace {

ThrottlePolicy policy(std::size_t max_keys = 64) {
  ThrottlePolicy p;
  p.free_failures = 1;
  p.first_delay = Seconds(2);
  p.max_delay = Seconds(60);
  p.max_keys = max_keys;
  return p;
}

}  // namespace

TEST_CASE("a check in flight refuses another attempt for a second") {
  ManualClock clock;
  LoginGate gate(policy());
  const std::string ip = "ip:192.0.2.1", user = "user:bob@example.org";
  CHECK_FALSE(gate.wait_for({ip, user}, clock.now()));
  gate.begin({ip, user});
  REQUIRE(gate.wait_for({ip}, clock.now()));
  CHECK(*gate.wait_for({ip}, clock.now()) == Seconds(1));
  CHECK(*gate.wait_for({"ip:198.51.100.7", user}, clock.now()) == Seconds(1));
  CHECK_FALSE(gate.wait_for({"ip:198.51.100.7"}, clock.now()));
  gate.end({ip, user});
  CHECK_FALSE(gate.wait_for({ip, user}, clock.now()));
}

TEST_CASE("failures beyond the free one make every key wait the throttle's delay") {
  ManualClock clock;
  LoginGate gate(policy());
  const std::string ip = "ip:192.0.2.1", user = "user:bob@example.org";
  gate.failed({ip, user}, clock.now());  // the free failure: a typo
  CHECK_FALSE(gate.wait_for({ip, user}, clock.now()));
  gate.failed({ip, user}, clock.now());
  REQUIRE(gate.wait_for({ip}, clock.now()));
  CHECK(*gate.wait_for({ip}, clock.now()) == Seconds(2));
  CHECK(*gate.wait_for({"ip:198.51.100.7", user}, clock.now()) == Seconds(2));
  clock.advance(std::chrono::milliseconds(1500));
  CHECK(*gate.wait_for({ip}, clock.now()) == Seconds(1));  // rounded up
  clock.advance(std::chrono::milliseconds(500));
  CHECK_FALSE(gate.wait_for({ip, user}, clock.now()));
  gate.failed({ip, user}, clock.now());
  CHECK(*gate.wait_for({user}, clock.now()) == Seconds(4));  // doubles
}

TEST_CASE("a success forgets its own key and leaves the others counting") {
  ManualClock clock;
  LoginGate gate(policy());
  const std::string ip = "ip:192.0.2.1", user = "user:bob@example.org";
  gate.failed({ip, user}, clock.now());
  gate.failed({ip, user}, clock.now());
  gate.succeeded(user);
  CHECK_FALSE(gate.wait_for({"ip:198.51.100.7", user}, clock.now()));
  CHECK(gate.wait_for({ip}, clock.now()));
}

TEST_CASE("the table of waits stays within max_keys, dropping only waits that passed") {
  ManualClock clock;
  LoginGate gate(policy(4));
  for (const char* who : {"a", "b", "c"}) {
    const std::string ip = std::string("ip:") + who, user = std::string("user:") + who;
    gate.failed({ip, user}, clock.now());
    gate.failed({ip, user}, clock.now());
  }
  CHECK(gate.wait_for({"ip:a"}, clock.now()));
  CHECK(gate.wait_for({"user:b"}, clock.now()));
  CHECK_FALSE(gate.wait_for({"ip:c", "user:c"}, clock.now()));  // no room while a and b wait
  clock.advance(Seconds(61));
  gate.failed({"ip:c", "user:c"}, clock.now());  // the passed waits make room
  CHECK(gate.wait_for({"ip:c"}, clock.now()));
}
