// The ledger's expiry index (dedup_times): bounded slices, stale entries,
// rows overwritten after their window, and the schema step that indexes old rows.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "core/bytes.h"
#include "core/clock.h"
#include "store/catalogue.h"
#include "store/ledger.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::core::ManualClock;
using postern::core::unix_seconds;
using postern::test::TempDir;

namespace {

Fingerprint fp_n(std::uint32_t n) {
  Fingerprint fp{};
  fp[0] = static_cast<std::uint8_t>(n >> 24);
  fp[1] = static_cast<std::uint8_t>(n >> 16);
  fp[2] = static_cast<std::uint8_t>(n >> 8);
  fp[3] = static_cast<std::uint8_t>(n);
  fp[31] = 0xa5;
  return fp;
}

// `count` rows for mailbox `box`, fingerprints from `first`, first seen `at`.
void put_rows(Env& env, std::uint64_t box, std::uint32_t first, std::uint32_t count,
              std::int64_t at) {
  REQUIRE(run_write(env, [&](WriteTxn& t) -> Result<void> {
    for (std::uint32_t i = 0; i < count; ++i) {
      if (auto r = put_dedup(t, box, fp_n(first + i), DedupRecord{at, first + i}); !r) return r;
    }
    return {};
  }));
}

std::uint64_t count(Env& env, Db db) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto n = entry_count(*txn, db);
  REQUIRE(n.has_value());
  return *n;
}

ExpireSlice slice(Env& env, std::int64_t before, std::uint64_t max_entries,
                  std::chrono::microseconds budget = std::chrono::seconds(60)) {
  auto s = run_write(
      env, [&](WriteTxn& t) { return expire_dedup_slice(t, before, max_entries, budget); });
  REQUIRE(s.has_value());
  return *s;
}

}  // namespace

TEST_CASE("expiry runs in slices of at most max_entries, oldest first, and stops at the window") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  ManualClock clock;
  const std::int64_t t0 = unix_seconds(clock.now());
  put_rows(*env, box, 0, 1200, t0);  // the oldest
  put_rows(*env, box, 10'000, 1300, t0 + 60);
  put_rows(*env, box, 20'000, 500, t0 + 3600);  // inside the window below
  CHECK(count(*env, Db::dedup) == 3000);
  CHECK(count(*env, Db::dedup_times) == 3000);

  const std::int64_t before = t0 + 3600;
  auto first = slice(*env, before, 1000);
  CHECK(first.rows == 1000);
  CHECK(first.entries == 1000);
  CHECK(first.more);
  {
    // Oldest first: 200 of the t0 rows remain, all of t0 + 60.
    auto txn = env->begin_read();
    CHECK(find_dedup(*txn, box, fp_n(999)).error().code == Errc::not_found);
    CHECK(find_dedup(*txn, box, fp_n(10'000)).has_value());
  }
  auto second = slice(*env, before, 1000);
  CHECK(second.rows == 1000);
  CHECK(second.more);
  auto third = slice(*env, before, 1000);
  CHECK(third.rows == 500);
  CHECK_FALSE(third.more);
  auto idle = slice(*env, before, 1000);
  CHECK(idle.entries == 0);
  CHECK_FALSE(idle.more);
  CHECK(count(*env, Db::dedup) == 500);
  CHECK(count(*env, Db::dedup_times) == 500);
  auto txn = env->begin_read();
  CHECK(find_dedup(*txn, box, fp_n(20'000))->first_seen == t0 + 3600);
}

TEST_CASE("a slice past its time budget stops, after at least one check's worth of entries") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  put_rows(*env, box, 0, 100, 1000);
  auto s = slice(*env, 2000, 1000, std::chrono::microseconds(0));
  CHECK(s.entries == kExpireCheckEvery);
  CHECK(s.rows == kExpireCheckEvery);
  CHECK(s.more);
  // Slices add up to everything: whole expiry loops them.
  auto rest = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 2000); });
  CHECK(rest.value_or(0) == 100 - kExpireCheckEvery);
  CHECK(count(*env, Db::dedup) == 0);
  CHECK(count(*env, Db::dedup_times) == 0);
}

TEST_CASE("a row overwritten after its window keeps its new first seen; its old entry goes alone") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  ManualClock clock;
  const std::int64_t t0 = unix_seconds(clock.now());
  const Fingerprint fp = fp_n(7);
  auto req = request_to(memory_body("m\r\n"), {"a@x.org"}, t0);
  req.recipients[0].record = {fp};
  req.recipients[0].check = {{fp, "content"}};
  REQUIRE(deliver_now(*env, req).has_value());
  // Five days and an hour later, before housekeeping ran: the expired row is
  // overwritten by the new copy (FORMAT.md "dedup").
  clock.advance(std::chrono::hours(121));
  const std::int64_t t1 = unix_seconds(clock.now());
  auto again = request_to(memory_body("m\r\n"), {"a@x.org"}, t1);
  again.recipients[0].record = {fp};
  again.recipients[0].check = {{fp, "content"}};
  again.dedup_not_before = t1 - 120 * 3600;
  auto out = deliver_now(*env, again);
  REQUIRE(out.has_value());
  CHECK_FALSE(out->delivered[0].suppressed);
  const std::uint64_t box = out->delivered[0].mailbox_id;
  CHECK(count(*env, Db::dedup) == 1);
  CHECK(count(*env, Db::dedup_times) == 2);

  auto s = slice(*env, t1 - 120 * 3600, 1000);
  CHECK(s.entries == 1);
  CHECK(s.rows == 0);  // the stale entry went, the live row stayed
  {
    auto txn = env->begin_read();
    CHECK(find_dedup(*txn, box, fp)->first_seen == t1);
  }
  CHECK(count(*env, Db::dedup_times) == 1);
  clock.advance(std::chrono::hours(121));
  auto later = slice(*env, unix_seconds(clock.now()) - 120 * 3600, 1000);
  CHECK(later.rows == 1);
  CHECK(count(*env, Db::dedup) == 0);
  CHECK(count(*env, Db::dedup_times) == 0);
}

TEST_CASE("entries of rows removed with their mailbox are dropped when due") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org"});
  const std::uint64_t a = mailbox_of(*env, "a@x.org");
  const std::uint64_t b = mailbox_of(*env, "b@x.org");
  put_rows(*env, a, 0, 30, 1000);
  put_rows(*env, b, 0, 20, 1000);
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_user(t, "a@x.org"); }));
  CHECK(count(*env, Db::dedup) == 20);
  CHECK(count(*env, Db::dedup_times) == 50);
  auto s = slice(*env, 1001, 1000);
  CHECK(s.entries == 50);
  CHECK(s.rows == 20);
  CHECK(count(*env, Db::dedup_times) == 0);
}

TEST_CASE("schema step 4 indexes the rows of an older store, which then expire") {
  TempDir dir;
  const Options o = options_for(dir.path());
  const MigrationStep v2[] = {schema_steps()[0], schema_steps()[1]};
  std::uint64_t box = 0;
  {
    auto env = Env::open(o, v2);
    REQUIRE(env.has_value());
    add_users(**env, {"a@x.org"});
    box = mailbox_of(**env, "a@x.org");
    // Rows as versions 2 and 3 wrote them: no dedup_times entry.
    REQUIRE(run_write(**env, [&](WriteTxn& t) -> Result<void> {
      for (std::uint32_t i = 0; i < 40; ++i) {
        const std::int64_t at = i < 25 ? 1000 : 5000;
        if (auto r = t.put(Db::dedup, dedup_key(box, fp_n(i)), encode(DedupRecord{at, i})); !r)
          return r;
      }
      return {};
    }));
    CHECK(count(**env, Db::dedup_times) == 0);
  }
  auto env = open_store(o);
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(schema_version(*txn) == 4);
  }
  CHECK(count(*env, Db::dedup_times) == 40);
  auto gone = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 2000); });
  CHECK(gone.value_or(0) == 25);
  CHECK(count(*env, Db::dedup) == 15);
  CHECK(count(*env, Db::dedup_times) == 15);
}

TEST_CASE("a corrupt dedup_times key is reported, not skipped") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return t.put(Db::dedup_times, "short", {}); }));
  auto s = run_write(*env, [](WriteTxn& t) { return expire_dedup_slice(t, 1 << 30); });
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().code == Errc::corrupt);
}

TEST_CASE("entries of one second take sequences; a clock step back files among older ones") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  put_rows(*env, box, 0, 3, 2000);
  put_rows(*env, box, 100, 2, 1000);  // the clock went back
  put_rows(*env, box, 200, 1, 2000);
  put_rows(*env, box, 300, 1, 1000);
  CHECK(count(*env, Db::dedup_times) == 7);
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    std::vector<std::uint32_t> seqs;
    REQUIRE(for_each(*txn, Db::dedup_times, encode_u64(2000),
                     [&](std::string_view k, std::string_view v) {
                       CHECK(k.size() == 12);
                       CHECK(v.size() == 40);
                       seqs.push_back(postern::core::get_be32(k, 8));
                       return true;
                     }));
    CHECK(seqs == std::vector<std::uint32_t>{0, 1, 2, 3});
    std::size_t at_1000 = 0;
    REQUIRE(
        for_each(*txn, Db::dedup_times, encode_u64(1000), [&](std::string_view, std::string_view) {
          ++at_1000;
          return true;
        }));
    CHECK(at_1000 == 3);
  }
  auto early = slice(*env, 1500, 1000);
  CHECK(early.rows == 3);
  CHECK_FALSE(early.more);
  {
    auto txn = env->begin_read();
    CHECK(find_dedup(*txn, box, fp_n(100)).error().code == Errc::not_found);
    CHECK(find_dedup(*txn, box, fp_n(200))->first_seen == 2000);
  }
  auto rest = slice(*env, 2001, 1000);
  CHECK(rest.rows == 4);
  CHECK(count(*env, Db::dedup) == 0);
}
