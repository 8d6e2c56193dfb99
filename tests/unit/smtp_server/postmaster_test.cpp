// smtp::postmaster_target: RFC 5321 §4.5.1 postmaster@ always reaches someone.
#include "smtp/postmaster.h"

#include <doctest/doctest.h>

#include "store/store_fixture.h"

namespace postern::smtp {
namespace {

using store::testing::add_users;
using store::testing::options_for;

std::string target(store::Env& env, std::string_view domain) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto t = postmaster_target(*txn, domain);
  return t ? *t : "error:" + std::string(t.error().where);
}

}  // namespace

TEST_CASE("postmaster is recognised in any letter case, and only as the whole local part") {
  CHECK(is_postmaster("postmaster"));
  CHECK(is_postmaster("PostMaster"));
  CHECK(is_postmaster("POSTMASTER"));
  CHECK_FALSE(is_postmaster("postmaster2"));
  CHECK_FALSE(is_postmaster("post"));
  CHECK_FALSE(is_postmaster(""));
}

TEST_CASE("postmaster goes to an alias, a mailbox of that name, the domain's oldest, any oldest") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  CHECK(target(*env, "x.org") == "error:no-mailbox");

  add_users(*env, {"zed@y.org"});           // oldest of all
  add_users(*env, {"b@x.org", "a@x.org"});  // b made before a: b is x.org's oldest
  CHECK(target(*env, "x.org") == "b@x.org");
  CHECK(target(*env, "y.org") == "zed@y.org");
  CHECK(store::run_write(*env, [](store::WriteTxn& txn) -> core::Result<void> {
          if (auto added = store::add_domain(txn, "z.org"); !added) return added.error();
          return {};
        }).has_value());
  CHECK(target(*env, "z.org") == "zed@y.org");  // a domain without mailboxes

  add_users(*env, {"postmaster@x.org"});
  CHECK(target(*env, "x.org") == "postmaster@x.org");
  CHECK(store::run_write(*env, [](store::WriteTxn& txn) {
          return store::add_alias(txn, "postmaster@y.org", "a@x.org");
        }).has_value());
  CHECK(target(*env, "y.org") == "a@x.org");
}

}  // namespace postern::smtp
