// net::Timer: once, repeating, stop, destruction from inside its callback, and a loop that
// closes cleanly (the handle freed in its close callback).
#include "net/timer.h"

#include <doctest/doctest.h>

#include <memory>

#include "net_test_support.h"

using namespace postern;
using std::chrono::milliseconds;

TEST_CASE("a Timer fires once, or repeatedly until stopped") {
  test::Loop loop;
  net::Timer once(loop.get());
  net::Timer every(loop.get());
  int once_fired = 0;
  int every_fired = 0;
  once.start(milliseconds(1), milliseconds(0), [&] { ++once_fired; });
  every.start(milliseconds(1), milliseconds(1), [&] {
    if (++every_fired == 3) every.stop();
  });
  CHECK(once.active());
  CHECK(loop.run_until([&] { return once_fired == 1 && every_fired == 3; }));
  CHECK_FALSE(once.active());
  CHECK_FALSE(every.active());
  // A restart replaces the callback.
  int replaced = 0;
  once.start(milliseconds(1), milliseconds(0), [&] { ++replaced; });
  CHECK(loop.run_until([&] { return replaced == 1; }));
  CHECK(once_fired == 1);
}

TEST_CASE("a Timer's owner may destroy it from inside the callback") {
  test::Loop loop;
  auto timer = std::make_unique<net::Timer>(loop.get());
  int fired = 0;
  timer->start(milliseconds(1), milliseconds(1), [&] {
    ++fired;
    timer.reset();  // the handle is freed later, in its close callback
  });
  CHECK(loop.run_until([&] { return timer == nullptr; }));
  CHECK(fired == 1);
}

TEST_CASE("a Timer destroyed while armed never calls back, and the loop closes") {
  test::Loop loop;
  int fired = 0;
  {
    net::Timer timer(loop.get());
    timer.start(milliseconds(0), milliseconds(0), [&] { ++fired; });
  }
  net::Timer background(loop.get());
  background.start(milliseconds(60'000), milliseconds(60'000), [&] { ++fired; });
  background.unref();
  uv_run(loop.get(), UV_RUN_DEFAULT);  // returns: only an unref'd timer is left
  CHECK(fired == 0);
}
