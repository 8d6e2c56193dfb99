#include "core/executor.h"
#include "core/bytes.h"
#include "core/clock.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("HeldExecutor runs jobs only when released, in order") {
  postern::core::HeldExecutor ex;
  std::vector<int> order;
  ex.submit([&] { order.push_back(1); }, [&] { order.push_back(2); });
  ex.submit([&] { order.push_back(3); }, [&] { order.push_back(4); });
  CHECK(order.empty());
  CHECK(ex.pending() == 2);
  ex.run_all();
  CHECK(order == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("big-endian keys sort numerically as bytes") {
  std::string a, b;
  postern::core::put_be64(a, 255);
  postern::core::put_be64(b, 256);
  CHECK(a < b);
  CHECK(postern::core::get_be64(b) == 256);
}

TEST_CASE("ManualClock moves only when advanced") {
  postern::core::ManualClock clock;
  auto t0 = clock.now();
  clock.advance(std::chrono::hours(120));
  CHECK(clock.now() - t0 == std::chrono::hours(120));
}
