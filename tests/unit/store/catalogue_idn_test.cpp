// Catalogue with international names: one key per domain and mailbox, found in every form.
#include <doctest/doctest.h>

#include "store/catalogue.h"
#include "store/check.h"
#include "store/maildir.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {

const char* const kNfdJoerg = "jo\xcc\x88rg";  // o + U+0308 COMBINING DIAERESIS

}  // namespace

TEST_CASE("a domain added as a U-label is found as its A-label and the other way round") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return add_domain(t, "bücher.example"); }));
  auto dup = run_write(*env, [](WriteTxn& t) { return add_domain(t, "XN--BCHER-KVA.example"); });
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == Errc::exists);
  REQUIRE(run_write(*env, [](WriteTxn& t) { return add_domain(t, "xn--mnchen-3ya.example"); }));
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto list = list_domains(*txn);
    REQUIRE(list.has_value());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].name == "xn--bcher-kva.example");
    CHECK((*list)[1].name == "xn--mnchen-3ya.example");
    for (const char* form :
         {"bücher.example", "BÜCHER.example", "xn--bcher-kva.example", "Xn--Bcher-Kva.Example",
          "bu\xcc\x88"
          "cher.example"}) {
      CAPTURE(form);
      CHECK(is_local_domain(*txn, form));
      auto d = find_domain(*txn, form);
      REQUIRE(d.has_value());
      CHECK(d->name == "xn--bcher-kva.example");
    }
    CHECK(is_local_domain(*txn, "münchen.example"));
    CHECK_FALSE(is_local_domain(*txn, "bucher.example"));
  }
  REQUIRE(run_write(
      *env, [](WriteTxn& t) { return set_domain_dedup(t, "bücher.example", DedupRule::off); }));
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_domain(t, "münchen.example"); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(find_domain(*txn, "xn--bcher-kva.example")->dedup == DedupRule::off);
  CHECK_FALSE(is_local_domain(*txn, "xn--mnchen-3ya.example"));
}

TEST_CASE("a UTF-8 mailbox is one key whatever the normalisation, case or domain form") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"jörg@xn--bcher-kva.example"});
  auto dup = run_write(*env, [](WriteTxn& t) {
    return add_user(t, std::string("JO\xcc\x88RG@bücher.example"), "!");
  });
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().code == Errc::exists);
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  for (std::string form : {std::string("jörg@bücher.example"), std::string("JÖRG@BÜCHER.EXAMPLE"),
                           std::string(kNfdJoerg) + "@xn--bcher-kva.example",
                           std::string("jörg@xn--bcher-kva.example")}) {
    CAPTURE(form);
    auto u = find_user(*txn, form);
    REQUIRE(u.has_value());
    CHECK(u->address == "jörg@xn--bcher-kva.example");
  }
  CHECK(find_user(*txn, "jorg@bücher.example").error().code == Errc::not_found);
  auto mine = list_users(*txn, "bücher.example");
  REQUIRE(mine.has_value());
  REQUIRE(mine->size() == 1);
  CHECK((*mine)[0].address == "jörg@xn--bcher-kva.example");
  CHECK(list_users(*txn, "xn--bcher-kva.example")->size() == 1);
}

TEST_CASE("aliases with UTF-8 local parts resolve in both forms") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"jörg@bücher.example"});
  REQUIRE(run_write(*env, [](WriteTxn& t) {
    return add_alias(t, "Verkauf@xn--bcher-kva.example", "JÖRG@bücher.example");
  }));
  auto loop = run_write(*env, [](WriteTxn& t) {
    return add_alias(t, "jörg@bücher.example", "jörg@xn--bcher-kva.example");
  });
  REQUIRE_FALSE(loop.has_value());
  {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto target = find_alias(*txn, "verkauf@bücher.example");
    REQUIRE(target.has_value());
    CHECK(*target == "jörg@xn--bcher-kva.example");
    CHECK(find_user(*txn, *target).has_value());
  }
  auto used = run_write(*env, [](WriteTxn& t) { return del_domain(t, "bücher.example"); });
  REQUIRE_FALSE(used.has_value());
  CHECK(used.error().code == Errc::exists);
  REQUIRE(run_write(*env, [](WriteTxn& t) { return del_alias(t, "VERKAUF@bücher.example"); }));
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return del_user(t, std::string(kNfdJoerg) + "@xn--bcher-kva.example");
  }));
  CHECK(run_write(*env, [](WriteTxn& t) { return del_domain(t, "xn--bcher-kva.example"); }));
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a delivery addressed in any form lands in the one mailbox") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"jörg@xn--bcher-kva.example"});
  REQUIRE(deliver_now(*env, request_to(memory_body("one"), {"JÖRG@bücher.example"})));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto listed = list_messages(*txn, mailbox_of(*env, "jörg@bücher.example"));
  REQUIRE(listed.has_value());
  CHECK(listed->size() == 1);
}

TEST_CASE("a UTF-8 mailbox survives Maildir export and import under its one key") {
  TempDir dir;
  {
    auto env = open_store(options_for(dir.path() + "/a"));
    add_users(*env, {"jörg@bücher.example"});
    REQUIRE(deliver_now(*env, request_to(memory_body("hej"), {"jörg@bücher.example"})));
    auto exported = export_maildir(*env, dir.path() + "/maildir");
    REQUIRE(exported.has_value());
    CHECK(exported->messages == 1);
  }
  auto env = open_store(options_for(dir.path() + "/b"));
  auto imported = import_maildir(*env, dir.path() + "/maildir");
  REQUIRE(imported.has_value());
  CHECK(imported->messages == 1);
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto user = find_user(*txn, "JÖRG@bücher.example");
  REQUIRE(user.has_value());
  CHECK(user->address == "jörg@xn--bcher-kva.example");
  CHECK(find_domain(*txn, "bücher.example").has_value());
}

TEST_CASE("a bad name is Errc::invalid with the reason in where") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  auto r = run_write(*env, [](WriteTxn& t) { return add_domain(t, "ex ample.org"); });
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::invalid);
  CHECK(std::string(r.error().where) == "domain-space");
  CHECK(std::string(normalize_address("a..b@x.org").error().where) == "local-part-dot");
  CHECK(std::string(normalize_address("bob@xn--zz.example").error().where) == "domain-idna");
  CHECK(std::string(normalize_address("j\xf6rg@x.org").error().where) == "local-part-utf8");
}
