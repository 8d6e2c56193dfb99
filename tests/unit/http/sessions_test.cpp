// Sessions: idle expiry and the bounded table.
#include "http/sessions.h"

#include <doctest/doctest.h>

using namespace postern;

namespace {
std::function<std::string()> counter() {
  return [n = 0]() mutable { return "token" + std::to_string(++n); };
}
}  // namespace

TEST_CASE("A session expires after the idle limit and touching restarts the timer") {
  core::ManualClock clock;
  http::Sessions sessions(counter(), std::chrono::minutes(30), 4);
  auto s = sessions.create(clock.now());
  CHECK(s.id != s.csrf);
  clock.advance(std::chrono::minutes(29));
  REQUIRE(sessions.touch(s.id, clock.now()).has_value());
  clock.advance(std::chrono::minutes(29));
  CHECK(sessions.touch(s.id, clock.now())->csrf == s.csrf);
  clock.advance(std::chrono::minutes(31));
  CHECK_FALSE(sessions.touch(s.id, clock.now()).has_value());
  CHECK(sessions.size() == 0);
}

TEST_CASE("The least recently used session goes when the table is full") {
  core::ManualClock clock;
  http::Sessions sessions(counter(), std::chrono::minutes(30), 2);
  auto a = sessions.create(clock.now());
  clock.advance(std::chrono::seconds(1));
  auto b = sessions.create(clock.now());
  clock.advance(std::chrono::seconds(1));
  REQUIRE(sessions.touch(a.id, clock.now()));
  auto c = sessions.create(clock.now());
  CHECK(sessions.size() == 2);
  CHECK(sessions.touch(a.id, clock.now()).has_value());
  CHECK_FALSE(sessions.touch(b.id, clock.now()).has_value());
  CHECK(sessions.touch(c.id, clock.now()).has_value());
}
