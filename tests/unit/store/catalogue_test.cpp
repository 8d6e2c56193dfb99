// Catalogue: domains, users, aliases, address validation.
#include "store/catalogue.h"

#include <doctest/doctest.h>

#include "store/check.h"
#include "store/password.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

TEST_CASE("addresses are validated and lowercased") {
  CHECK(normalize_address("Bob.Smith@Example.ORG").value_or("") == "bob.smith@example.org");
  CHECK(normalize_address("a+tag@x.y").value_or("") == "a+tag@x.y");
  for (const char* bad :
       {"", "@x.org", "bob@", "bob", "bo b@x.org", "bob@x..org", "bob@-x.org", ".bob@x.org",
        "bob.@x.org", "a..b@x.org", "bob@x.org\r\n", "bob@exa_mple.org"}) {
    CAPTURE(bad);
    auto r = normalize_address(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::invalid);
  }
  CHECK_FALSE(normalize_address(std::string(65, 'a') + "@x.org").has_value());
  CHECK(normalize_address(std::string(64, 'a') + "@x.org").has_value());
}

TEST_CASE("domains are added once, listed in order and deleted") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return add_domain(t, "B.example"); }));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return add_domain(t, "a.example", DedupRule::off); }));
  auto dup = run_write(*env, [](WriteTxn& t) { return add_domain(t, "b.EXAMPLE"); });
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == Errc::exists);
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto list = list_domains(*txn);
    REQUIRE(list.has_value());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].name == "a.example");
    CHECK((*list)[0].dedup == DedupRule::off);
    CHECK((*list)[1].name == "b.example");
    CHECK((*list)[0].id != (*list)[1].id);
    CHECK(is_local_domain(*txn, "A.Example"));
    CHECK_FALSE(is_local_domain(*txn, "c.example"));
  }
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_domain(t, "a.example"); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK_FALSE(is_local_domain(*txn, "a.example"));
}

TEST_CASE("a domain with users cannot be deleted") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"bob@x.org"});
  auto r = run_write(*env, [](WriteTxn& t) { return del_domain(t, "x.org"); });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::exists);
  CHECK(std::string(r.error().where) == "domain-has-users");
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_user(t, "bob@x.org"); }));
  CHECK(run_write(*env, [](WriteTxn& t) { return del_domain(t, "x.org"); }).has_value());
}

TEST_CASE("a user needs an existing domain and gets its own mailbox") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  auto none = run_write(*env, [](WriteTxn& t) { return add_user(t, "bob@x.org", "!"); });
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == Errc::not_found);
  CHECK(std::string(none.error().where) == "domain");
  add_users(*env, {"Bob@X.org", "ann@x.org"});
  auto dup = run_write(*env, [](WriteTxn& t) { return add_user(t, "BOB@x.org", "!"); });
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == Errc::exists);
  CHECK(mailbox_of(*env, "bob@x.org") != mailbox_of(*env, "ann@x.org"));
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("password and quota changes are stored") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"bob@x.org"});
  const std::string hash = hash_password("secret", 1000);
  REQUIRE(run_write(*env, [&](WriteTxn& t) { return set_password_hash(t, "bob@x.org", hash); }));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return set_quota(t, "bob@x.org", 4096); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto u = find_user(*txn, "BOB@x.org");
  REQUIRE(u.has_value());
  CHECK(verify_password("secret", u->record.password_hash));
  CHECK(u->record.quota_bytes == 4096);
  CHECK(find_user(*txn, "eve@x.org").error().code == Errc::not_found);
}

TEST_CASE("deleting a user removes its messages and drops body references") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"bob@x.org", "ann@x.org"});
  SpooledBody body = memory_body(pattern_bytes(100'000));
  const Digest hash = body.hash;
  REQUIRE(deliver_now(*env, request_to(body, {"bob@x.org", "ann@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("only bob"), {"bob@x.org"})));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_user(t, "bob@x.org"); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto b = find_body(*txn, hash);
  REQUIRE(b.has_value());
  CHECK(b->refcount == 1);
  CHECK(find_body(*txn, sha256("only bob")).error().code == Errc::not_found);
  CHECK(entry_count(*txn, Db::messages).value_or(99) == 1);
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("aliases map an address to a target and cannot shadow a user") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"bob@x.org"});
  REQUIRE(
      run_write(*env, [](WriteTxn& t) { return add_alias(t, "Postmaster@x.org", "bob@x.org"); }));
  auto shadow = run_write(*env, [](WriteTxn& t) { return add_alias(t, "bob@x.org", "ann@x.org"); });
  REQUIRE_FALSE(shadow.has_value());
  CHECK(shadow.error().code == Errc::exists);
  auto foreign = run_write(*env, [](WriteTxn& t) { return add_alias(t, "a@y.org", "bob@x.org"); });
  REQUIRE_FALSE(foreign.has_value());
  CHECK(foreign.error().code == Errc::not_found);
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(find_alias(*txn, "postmaster@X.ORG").value_or("") == "bob@x.org");
    CHECK(list_aliases(*txn)->size() == 1);
  }
  auto in_use = run_write(*env, [](WriteTxn& t) { return del_domain(t, "x.org"); });
  REQUIRE_FALSE(in_use.has_value());
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_alias(t, "postmaster@x.org"); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(find_alias(*txn, "postmaster@x.org").error().code == Errc::not_found);
}

TEST_CASE("listing users reports their message counts and bytes") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"bob@x.org", "ann@x.org", "cy@y.org"}, 1000);
  REQUIRE(deliver_now(*env, request_to(memory_body("12345"), {"bob@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("123"), {"bob@x.org", "cy@y.org"})));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto all = list_users(*txn);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].address == "ann@x.org");
  CHECK((*all)[0].message_count == 0);
  CHECK((*all)[1].address == "bob@x.org");
  CHECK((*all)[1].message_count == 2);
  CHECK((*all)[1].used_bytes == 8);
  CHECK((*all)[1].quota_bytes == 1000);
  auto y = list_users(*txn, "Y.org");
  REQUIRE(y.has_value());
  REQUIRE(y->size() == 1);
  CHECK((*y)[0].used_bytes == 3);
}
