// Mailboxes: listing, the retrieved flag, deletion.
#include "store/mailbox.h"

#include <doctest/doctest.h>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

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

TEST_CASE("dropping a mailbox removes its messages, ledger rows, record and body references") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org"});
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  Fingerprint fp{};
  fp[0] = 9;
  auto req = request_to(memory_body("shared body"), {"a@x.org", "b@x.org"});
  for (auto& r : req.recipients) r.record = {fp};
  auto out = deliver_now(*env, req);
  REQUIRE(out.has_value());
  const Digest hash = memory_body("shared body").hash;
  REQUIRE(run_write(*env, [&](WriteTxn& t) { return drop_mailbox(t, box); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(find_mailbox(*txn, box).error().code == Errc::not_found);
  CHECK(list_messages(*txn, box)->empty());
  CHECK(find_dedup(*txn, box, fp).error().code == Errc::not_found);
  CHECK(find_dedup(*txn, mailbox_of(*env, "b@x.org"), fp).has_value());
  CHECK(find_body(*txn, hash)->refcount == 1);  // b@ still holds it
}
