// Mailboxes: single-instance bodies, chunking, unique ids, quota, deletion.
#include "store/mailbox.h"

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

TEST_CASE("unique ids are never reused after delete and reopen") {
  TempDir dir;
  const Options o = options_for(dir.path());
  std::set<std::uint64_t> seen;
  std::uint64_t highest = 0;
  for (int round = 0; round < 3; ++round) {
    auto env = open_store(o);
    if (round == 0) add_users(*env, {"a@x.org"});
    const std::uint64_t box = mailbox_of(*env, "a@x.org");
    for (int i = 0; i < 4; ++i) {
      auto out = deliver_now(*env, request_to(memory_body("same body"), {"a@x.org"}));
      REQUIRE(out.has_value());
      const std::uint64_t id = out->delivered[0].unique_id;
      CHECK(seen.insert(id).second);
      CHECK(id > highest);
      highest = id;
      CHECK(uidl(id).size() == 16);
    }
    auto list = list_messages(*env, box);
    REQUIRE(list.has_value());
    std::vector<std::uint32_t> uids;
    for (const auto& m : *list) uids.push_back(m.uid);
    REQUIRE(run_write(*env, [&](WriteTxn& t) { return delete_messages(t, box, uids); }));
  }
  CHECK(uidl(0x1a2bULL) == "0000000000001a2b");
}

TEST_CASE("an import may restore a unique id only above the sequence") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  auto req = request_to(memory_body("restored"), {"a@x.org"});
  req.unique_id = 500;
  auto first = deliver_now(*env, req);
  REQUIRE(first.has_value());
  CHECK(first->delivered[0].unique_id == 500);
  auto again = deliver_now(*env, req);  // 500 is taken: a fresh id, above it
  REQUIRE(again.has_value());
  CHECK(again->delivered[0].unique_id == 501);
  auto fresh = deliver_now(*env, request_to(memory_body("new"), {"a@x.org"}));
  CHECK(fresh->delivered[0].unique_id == 502);
}

TEST_CASE("a delivery over quota fails with full and changes nothing") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"small@x.org"}, 1000);
  add_users(*env, {"big@x.org"});
  REQUIRE(deliver_now(*env, request_to(memory_body(std::string(600, 'a')), {"small@x.org"})));
  auto over = deliver_now(
      *env, request_to(memory_body(std::string(600, 'b')), {"big@x.org", "small@x.org"}));
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().code == Errc::full);
  CHECK(std::string(over.error().where) == "quota");
  CHECK(list_messages(*env, mailbox_of(*env, "big@x.org"))->empty());
  CHECK(deliver_now(*env, request_to(memory_body(std::string(400, 'c')), {"small@x.org"})));
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("an unknown recipient fails the delivery with not_found") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  auto r = deliver_now(*env, request_to(memory_body("x"), {"a@x.org", "nobody@x.org"}));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::not_found);
  CHECK(list_messages(*env, mailbox_of(*env, "a@x.org"))->empty());
}

TEST_CASE("retrieved flags are set and deleting a missing uid changes nothing") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  auto one = deliver_now(*env, request_to(memory_body("one"), {"a@x.org"}));
  auto two = deliver_now(*env, request_to(memory_body("two"), {"a@x.org"}));
  REQUIRE(one.has_value());
  REQUIRE(two.has_value());
  const std::uint32_t uid1 = one->delivered[0].uid;
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return mark_retrieved(t, box, std::span<const std::uint32_t>(&uid1, 1));
  }));
  auto list = list_messages(*env, box);
  REQUIRE(list->size() == 2);
  CHECK(((*list)[0].flags & kFlagRetrieved) != 0);
  CHECK(((*list)[1].flags & kFlagRetrieved) == 0);
  const std::uint32_t uids[] = {uid1, 999};
  auto r = run_write(*env, [&](WriteTxn& t) { return delete_messages(t, box, uids); });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::not_found);
  CHECK(list_messages(*env, box)->size() == 2);
}

TEST_CASE("dedup rows are written with the delivery and expire by age") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  Fingerprint fp{};
  fp[0] = 7;
  auto req = request_to(memory_body("m"), {"a@x.org"}, 1000);
  req.recipients[0].record = {fp};
  auto out = deliver_now(*env, req);
  REQUIRE(out.has_value());
  const std::uint64_t box = out->delivered[0].mailbox_id;
  {
    auto txn = env->begin_read();
    auto row = find_dedup(*txn, box, fp);
    REQUIRE(row.has_value());
    CHECK(row->first_seen == 1000);
    CHECK(row->uid == out->delivered[0].uid);
  }
  auto none = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 1000); });
  CHECK(none.value_or(99) == 0);
  auto one = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 1001); });
  CHECK(one.value_or(99) == 1);
  auto txn = env->begin_read();
  CHECK(find_dedup(*txn, box, fp).error().code == Errc::not_found);
}

TEST_CASE("the consistency check finds a wrong refcount") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  SpooledBody body = memory_body("counted");
  const Digest hash = body.hash;
  REQUIRE(deliver_now(*env, request_to(body, {"a@x.org"})));
  REQUIRE(check_consistency(*env).has_value());
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return t.put(Db::bodies, as_view(hash), encode(BodyRecord{2, 7, 1}));
  }));
  auto r = check_consistency(*env);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::corrupt);
  CHECK(std::string(r.error().where) == "body-refcount");
}

TEST_CASE("store counts report rows, body bytes and map usage") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org", "c@y.org"});
  REQUIRE(
      deliver_now(*env, request_to(memory_body(pattern_bytes(70'000)), {"a@x.org", "b@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("tiny"), {"c@y.org"})));
  auto c = store_counts(*env);
  REQUIRE(c.has_value());
  CHECK(c->domains == 2);
  CHECK(c->users == 3);
  CHECK(c->mailboxes == 3);
  CHECK(c->messages == 3);
  CHECK(c->bodies == 2);
  CHECK(c->body_bytes == 70'004);
  CHECK(c->chunks == 3);
  CHECK(c->map_bytes == 64ull << 20);
  CHECK(c->map_used_bytes > 70'000);
  CHECK(c->map_used_bytes < c->map_bytes);
  // table_counts(): the same rows and map figures without walking the bodies.
  auto t = table_counts(*env);
  REQUIRE(t.has_value());
  CHECK(t->users == 3);
  CHECK(t->messages == 3);
  CHECK(t->bodies == 2);
  CHECK(t->chunks == 3);
  CHECK(t->body_bytes == 0);
  CHECK(t->map_used_bytes == c->map_used_bytes);
  CHECK(t->map_bytes == c->map_bytes);
}

TEST_CASE("the consistency check finds an extra chunk of a stored body") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  SpooledBody body = memory_body("one chunk");
  const Digest hash = body.hash;
  REQUIRE(deliver_now(*env, request_to(body, {"a@x.org"})));
  REQUIRE(run_write(*env, [&](WriteTxn& t) { return t.put(Db::chunks, chunk_key(hash, 1), "x"); }));
  auto r = check_consistency(*env);
  REQUIRE_FALSE(r.has_value());
  CHECK(std::string(r.error().where) == "chunk-extra");
}
