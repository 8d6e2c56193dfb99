// Links: per-target bounded time series, newest-first queries, targets kept apart.
#include "store/links.h"

#include <doctest/doctest.h>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

TEST_CASE("link samples keep only the newest N per target, trimmed in the appending txn") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  for (int i = 0; i < 8; ++i) {
    REQUIRE(run_write(*env, [&](WriteTxn& t) {
      return append_link_sample(t, "192.168.1.1", 1'700'000'000'000 + i * 60'000, 400 + i, i % 2, 3,
                                5);
    }));
  }
  REQUIRE(
      run_write(*env, [&](WriteTxn& t) { return append_link_sample(t, "10.0.0.53", 5, 900, 0); }));
  auto txn = env->begin_read();
  REQUIRE(txn);
  CHECK(entry_count(*txn, Db::links).value_or(0) == 6);
  auto gateway = query_link_samples(*txn, "192.168.1.1", 0, 100);
  REQUIRE(gateway);
  REQUIRE(gateway->size() == 5);
  CHECK((*gateway)[0].time_ms == 1'700'000'000'000 + 7 * 60'000);
  CHECK((*gateway)[0].rtt_us == 407);
  CHECK((*gateway)[0].sent == 3);
  CHECK((*gateway)[0].lost == 1);
  CHECK((*gateway)[4].rtt_us == 403);
  auto dns = query_link_samples(*txn, "10.0.0.53", 0, 100);
  REQUIRE(dns);
  REQUIRE(dns->size() == 1);
  CHECK((*dns)[0].sent == 1);
  auto targets = link_targets(*txn);
  REQUIRE(targets);
  CHECK(*targets == std::vector<std::string>{"10.0.0.53", "192.168.1.1"});
}

TEST_CASE("link sample queries honour since and limit") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [&](WriteTxn& t) -> Result<void> {
    for (int i = 0; i < 10; ++i) {
      if (auto r = append_link_sample(t, "gw", 1000 * i, 10 * i, 0); !r) return r;
    }
    return {};
  }));
  auto txn = env->begin_read();
  auto recent = query_link_samples(*txn, "gw", 6000, 100);
  REQUIRE(recent);
  REQUIRE(recent->size() == 4);
  CHECK(recent->back().time_ms == 6000);
  auto two = query_link_samples(*txn, "gw", 0, 2);
  REQUIRE(two);
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].time_ms == 9000);
  auto none = query_link_samples(*txn, "g", 0, 100);  // a prefix of another target
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("link samples with a bad target or counts are refused") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  auto empty = run_write(*env, [&](WriteTxn& t) { return append_link_sample(t, "", 1, 1, 0); });
  CHECK(empty.error().where == std::string("link-target"));
  auto long_target = run_write(
      *env, [&](WriteTxn& t) { return append_link_sample(t, std::string(256, 'a'), 1, 1, 0); });
  CHECK(long_target.error().code == Errc::invalid);
  auto counts =
      run_write(*env, [&](WriteTxn& t) { return append_link_sample(t, "gw", 1, 1, 2, 1); });
  CHECK(counts.error().where == std::string("link-sample"));
  auto zero = run_write(*env, [&](WriteTxn& t) { return append_link_sample(t, "gw", 1, 1, 0, 0); });
  CHECK(zero.error().where == std::string("link-sample"));
}
