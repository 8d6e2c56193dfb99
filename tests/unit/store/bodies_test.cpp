// Bodies: single instance with refcounts, chunking around the boundaries.
#include "store/bodies.h"

#include <doctest/doctest.h>

#include <set>

#include "store/check.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

TEST_CASE("the same mail to five mailboxes is one body with refcount five") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"});
  SpooledBody body = memory_body(pattern_bytes(200'000));
  const Digest hash = body.hash;
  auto out =
      deliver_now(*env, request_to(body, {"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"}));
  REQUIRE(out.has_value());
  REQUIRE(out->delivered.size() == 5);
  std::set<std::uint64_t> ids;
  for (const auto& d : out->delivered) ids.insert(d.unique_id);
  CHECK(ids.size() == 5);
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(find_body(*txn, hash)->refcount == 5);
    CHECK(entry_count(*txn, Db::bodies).value_or(0) == 1);
    CHECK(entry_count(*txn, Db::chunks).value_or(0) == chunk_count_for(200'000));
  }
  CHECK(check_consistency(*env, true).has_value());
  std::uint64_t left = 5;
  for (const auto& d : out->delivered) {
    const std::uint32_t uid = d.uid;
    REQUIRE(run_write(*env, [&](WriteTxn& t) {
      return delete_messages(t, d.mailbox_id, std::span<const std::uint32_t>(&uid, 1));
    }));
    --left;
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    if (left > 0) {
      CHECK(find_body(*txn, hash)->refcount == left);
    } else {
      CHECK(find_body(*txn, hash).error().code == Errc::not_found);
      CHECK(entry_count(*txn, Db::chunks).value_or(1) == 0);
    }
    CHECK(check_consistency(*env).has_value());
  }
}

TEST_CASE("bodies of every size around a chunk boundary read back byte for byte") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::size_t sizes[] = {
      0, 1, kChunkBytes - 1, kChunkBytes, kChunkBytes + 1, 3 * kChunkBytes + 5};
  std::uint32_t seed = 1;
  for (std::size_t size : sizes) {
    CAPTURE(size);
    const std::string bytes = pattern_bytes(size, seed++);
    auto out = deliver_now(*env, request_to(memory_body(bytes), {"a@x.org"}));
    REQUIRE(out.has_value());
    auto list = list_messages(*env, out->delivered[0].mailbox_id);
    REQUIRE(list.has_value());
    const MessageInfo& m = list->back();
    CHECK(m.size == size);
    CHECK(m.uid == out->delivered[0].uid);
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(find_body(*txn, m.body)->chunk_count == chunk_count_for(size));
    CHECK(read_body(*env, m.body, m.size) == bytes);
    CHECK(read_chunk(*env, m.body, chunk_count_for(size)).error().code == Errc::not_found);
  }
  CHECK(check_consistency(*env, true).has_value());
}
