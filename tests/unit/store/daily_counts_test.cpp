// Daily counters: one day adds up, the next restarts.
#include "store/daily_counts.h"

#include <doctest/doctest.h>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;

TEST_CASE("a daily counter adds within one day and restarts on the next") {
  postern::test::TempDir dir;
  auto env = open_store(options_for(dir.path()));
  const std::int64_t monday = 1'700'000'000, tuesday = monday + 86'400;
  auto add = [&](std::int64_t day, std::uint64_t n) {
    auto r = run_write(
        *env, [&](WriteTxn& txn) { return add_daily_count(txn, kStatRetrievedToday, day, n); });
    REQUIRE(r.has_value());
  };
  auto read = [&](std::int64_t day) {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto n = daily_count(*txn, kStatRetrievedToday, day);
    REQUIRE(n.has_value());
    return *n;
  };
  CHECK(read(monday) == 0);
  add(monday, 3);
  add(monday, 2);
  CHECK(read(monday) == 5);
  CHECK(read(tuesday) == 0);  // yesterday's count is not today's
  add(tuesday, 1);
  CHECK(read(tuesday) == 1);
  CHECK(read(monday) == 0);  // only the current day is kept
}
