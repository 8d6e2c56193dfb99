// Collection accounts, sealed passwords and the collected-UIDL rows written by deliver.
#include "store/collect_accounts.h"

#include <sys/stat.h>

#include <fstream>

#include <doctest/doctest.h>

#include "store/sealed.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {
CollectAccount sample(const char* mailbox = "alice@example.org") {
  CollectAccount a;
  a.mailbox = mailbox;
  a.host = "pop.example.net";
  a.port = 110;
  a.tls = CollectTls::stls;
  a.user = "alice.remote";
  a.sealed_password = std::string("\x01sealed\0bytes", 13);
  a.interval_seconds = 300;
  a.keep = CollectKeep::delete_after_days;
  a.delete_after_days = 7;
  a.pin = std::string(64, 'a');
  return a;
}
}  // namespace

TEST_CASE("collect accounts round-trip, list in id order and drop with their rows") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"alice@example.org"});
  auto first = run_write(*env, [&](WriteTxn& t) { return add_collect_account(t, sample()); });
  auto second = run_write(*env, [&](WriteTxn& t) { return add_collect_account(t, sample()); });
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*first == 1);
  CHECK(*second == 2);
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return put_collect_status(t, 1, CollectStatus{10, 9, 3, 300, 1, true, "the server broke"});
  }));
  {
    auto txn = env->begin_read();
    auto all = list_collect_accounts(*txn);
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    const CollectAccount& a = (*all)[0];
    CHECK(a.id == 1);
    CHECK(a.host == "pop.example.net");
    CHECK(a.port == 110);
    CHECK(a.tls == CollectTls::stls);
    CHECK(a.sealed_password == sample().sealed_password);
    CHECK(a.keep == CollectKeep::delete_after_days);
    CHECK(a.delete_after_days == 7);
    CHECK(a.pin == sample().pin);
    auto status = collect_status(*txn, 1);
    REQUIRE(status);
    CHECK(status->mails == 3);
    CHECK(status->uid_from_headers);
    CHECK(status->error == "the server broke");
    CHECK(collect_status(*txn, 2)->last_run == 0);
  }
  REQUIRE(run_write(*env, [&](WriteTxn& t) { return drop_collect_account(t, 1); }));
  auto txn = env->begin_read();
  CHECK(list_collect_accounts(*txn)->size() == 1);
  CHECK(collect_status(*txn, 1)->last_run == 0);
  CHECK(find_collect_account(*txn, 1).error().code == Errc::not_found);
}

TEST_CASE("an account for a stranger mailbox is refused") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"alice@example.org"});
  auto r = run_write(
      *env, [&](WriteTxn& t) { return add_collect_account(t, sample("nobody@example.org")); });
  CHECK(!r);
}

TEST_CASE("a collected delivery records its UIDL in the same txn; a refused one does not") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"alice@example.org"}, /*quota=*/100);
  auto id = run_write(*env, [&](WriteTxn& t) { return add_collect_account(t, sample()); });
  REQUIRE(id);
  DeliveryRequest req =
      request_to(memory_body("Subject: x\r\n\r\nbody\r\n"), {"alice@example.org"});
  req.collect_account = *id;
  req.collect_uidl = "UID-1";
  auto out = deliver_now(*env, req);
  REQUIRE(out);
  DeliveryRequest big = request_to(memory_body(std::string(200, 'x')), {"alice@example.org"});
  big.collect_account = *id;
  big.collect_uidl = "UID-2";
  CHECK(!deliver_now(*env, big));  // over quota: nothing stored, nothing remembered
  auto txn = env->begin_read();
  auto rows = collected_uidls(*txn, *id);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK(rows->at("UID-1").uid == out->delivered[0].uid);
  CHECK(rows->at("UID-1").collected_at == 1'700'000'000);
}

TEST_CASE("sealed passwords open with their key only, and the key file is 0600") {
  TempDir dir;
  auto key = load_or_create_seal_key(dir.path());
  REQUIRE(key);
  struct stat st {};
  REQUIRE(::stat((dir.path() + "/collect.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = load_or_create_seal_key(dir.path());
  REQUIRE(again);
  CHECK(*again == *key);

  auto sealed = seal(*key, "hunter2");
  REQUIRE(sealed);
  CHECK(sealed->find("hunter2") == std::string::npos);
  CHECK(*seal(*key, "hunter2") != *sealed);  // a fresh nonce each time
  CHECK(*unseal(*key, *sealed) == "hunter2");
  SealKey other = *key;
  other[0] ^= 1;
  CHECK(unseal(other, *sealed).error().code == Errc::denied);
  std::string tampered = *sealed;
  tampered[15] ^= 1;
  CHECK(!unseal(*key, tampered));

  ::chmod((dir.path() + "/collect.key").c_str(), 0644);
  CHECK(load_or_create_seal_key(dir.path()).error().code == Errc::denied);
}
