// The consistency check and the store's counts.
#include "store/check.h"

#include <doctest/doctest.h>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

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
