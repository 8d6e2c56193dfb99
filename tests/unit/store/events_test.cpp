// Events: bounded retention, newest-first queries, since filter.
#include "store/events.h"

#include <doctest/doctest.h>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

TEST_CASE("events keep only the newest N, trimmed in the appending txn") {
  TempDir dir;
  Options o = options_for(dir.path());
  o.max_events = 5;
  auto env = open_store(o);
  for (int i = 0; i < 12; ++i) {
    REQUIRE(run_write(*env, [&](WriteTxn& t) {
      return append_event(t, "delivered", "n=" + std::to_string(i), 1000 + i / 3);
    }));
    auto txn = env->begin_read();
    CHECK(entry_count(*txn, Db::events).value_or(0) == std::min(i + 1, 5));
  }
  auto txn = env->begin_read();
  auto all = query_events(*txn, 100);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 5);
  CHECK((*all)[0].text == "n=11");
  CHECK((*all)[4].text == "n=7");
  CHECK((*all)[0].kind == "delivered");
  CHECK((*all)[0].time == 1003);
  CHECK((*all)[0].seq > (*all)[1].seq);
}

TEST_CASE("event queries honour limit and since") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& t) -> Result<void> {
    for (int i = 0; i < 10; ++i) {
      if (auto r = append_event(t, i % 2 ? "odd" : "even", "i=" + std::to_string(i), 100 + i); !r) {
        return r;
      }
    }
    return {};
  }));
  auto txn = env->begin_read();
  auto two = query_events(*txn, 2);
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].text == "i=9");
  CHECK((*two)[1].text == "i=8");
  auto recent = query_events(*txn, 100, 107);
  REQUIRE(recent->size() == 3);
  CHECK((*recent)[2].time == 107);
  CHECK(query_events(*txn, 0)->empty());
  auto bad = run_write(*env, [](WriteTxn& t) { return append_event(t, "", "x", 1); });
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::invalid);
}
