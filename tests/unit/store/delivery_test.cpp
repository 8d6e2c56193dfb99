// Delivery: unique ids, restored ids, quota, unknown recipients.
#include "store/delivery.h"

#include <doctest/doctest.h>

#include <set>

#include "store/check.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

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
