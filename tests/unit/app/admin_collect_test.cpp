// The collect verbs on a real store: the form's checks and sentences, the sealed
// password (never the clear text in the row or the event), del and pin by id.
#include "app/admin_collect.h"

#include <doctest/doctest.h>

#include <memory>

#include "app/event_text.h"
#include "store/catalogue.h"
#include "store/events.h"
#include "store/sealed.h"
#include "test_support.h"

namespace app = postern::app;
namespace store = postern::store;

namespace {

struct Fixture {
  postern::test::TempDir dir;
  std::unique_ptr<store::Env> env;
  std::unique_ptr<app::InPlaceRunner> runner;
  std::unique_ptr<app::CollectAdmin> admin;

  Fixture() {
    store::Options options;
    options.data_dir = dir.path();
    options.map_bytes = 64ull << 20;
    auto opened = store::Env::open(options);
    REQUIRE(opened.has_value());
    env = std::move(*opened);
    runner = std::make_unique<app::InPlaceRunner>(*env);
    admin = std::make_unique<app::CollectAdmin>(*env, *runner, app::Actor::page);
    auto r = store::run_write(*env, [](store::WriteTxn& t) -> postern::core::Result<void> {
      if (auto d = store::add_domain(t, "example.org", store::DedupRule::content); !d)
        return d.error();
      auto u = store::add_user(t, "bob@example.org", "x", 0);
      return u ? postern::core::Result<void>() : postern::core::Result<void>(u.error());
    });
    REQUIRE(r.has_value());
  }

  std::pair<app::Answer, std::uint64_t> add(const app::CollectForm& form) {
    std::optional<std::pair<app::Answer, std::uint64_t>> out;
    admin->add_account(form, [&](app::Answer a, std::uint64_t id) { out.emplace(a, id); });
    REQUIRE(out.has_value());
    return *out;
  }
  std::vector<store::CollectAccount> accounts() {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto list = store::list_collect_accounts(*txn);
    REQUIRE(list.has_value());
    return *list;
  }
};

app::CollectForm good() {
  app::CollectForm f;
  f.mailbox = "Bob@Example.org";
  f.host = "pop.example.net";
  f.user = "bob.remote";
  f.password = "remote secret";
  return f;
}

std::string problem(app::CollectForm f) {
  auto r = app::parse_collect_form(f);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("collect form: defaults and every field's check in words") {
  auto a = app::parse_collect_form(good());
  REQUIRE(a.has_value());
  CHECK(a->mailbox == "bob@example.org");
  CHECK(a->port == 995);
  CHECK(a->tls == store::CollectTls::pop3s);
  CHECK(a->interval_seconds == 900);
  CHECK(a->keep == store::CollectKeep::keep);

  auto f = good();
  f.tls = "stls";
  f.keep = "14d";
  f.interval = "60";
  a = app::parse_collect_form(f);
  REQUIRE(a.has_value());
  CHECK(a->port == 110);
  CHECK(a->keep == store::CollectKeep::delete_after_days);
  CHECK(a->delete_after_days == 14);
  f.keep = "delete";
  CHECK(app::parse_collect_form(f)->keep == store::CollectKeep::delete_once_collected);

  f = good();
  f.tls = "plain";
  CHECK(problem(f).find("clear text") != std::string::npos);
  f.allow_plain = true;
  CHECK(app::parse_collect_form(f)->tls == store::CollectTls::plain);

  f = good();
  f.host = "pop example";
  CHECK(problem(f) == "give the POP3 server's host name or IP address");
  f = good();
  f.port = "70000";
  CHECK(problem(f) == "the port is a number from 1 to 65535");
  f = good();
  f.interval = "5";
  CHECK(problem(f) == "the interval is 60 to 604800 seconds");
  f = good();
  f.keep = "0d";
  CHECK(problem(f).rfind("keep is leave", 0) == 0);
  f = good();
  f.pin = "abc";
  CHECK(problem(f) == "the pin is the 64 hex digits of the certificate's SHA-256");
  f = good();
  f.password = "two\r\nlines";
  CHECK(problem(f).find("one line") != std::string::npos);
  f = good();
  f.mailbox = "not an address";
  CHECK(problem(f).rfind("the local mailbox: ", 0) == 0);
}

TEST_CASE("collect add: the password sealed, never in the row or the event") {
  Fixture fx;
  auto [answer, id] = fx.add(good());
  INFO(answer.sentence);
  CHECK(answer.ok);
  CHECK(id == 1);
  CHECK(answer.sentence ==
        "added collect account 1: bob.remote@pop.example.net:995 (pop3s) into bob@example.org");
  auto list = fx.accounts();
  REQUIRE(list.size() == 1);
  CHECK(list[0].sealed_password.find("remote secret") == std::string::npos);
  auto key = store::load_or_create_seal_key(fx.dir.path());
  REQUIRE(key.has_value());
  CHECK(store::unseal(*key, list[0].sealed_password).value_or("") == "remote secret");
  auto txn = fx.env->begin_read();
  auto events = store::query_events(*txn, 10);
  REQUIRE(events.has_value());
  REQUIRE_FALSE(events->empty());
  CHECK(events->front().kind == "admin");
  CHECK(events->front().text.find("collect-add") != std::string::npos);
  CHECK(events->front().text.find("secret") == std::string::npos);
  CHECK(app::event_sentence("admin", events->front().text) ==
        "Admin (page) added collect account 1 from pop.example.net into bob@example.org.");
}

TEST_CASE("collect add: an unknown local mailbox is named") {
  Fixture fx;
  auto f = good();
  f.mailbox = "carol@example.org";
  auto [answer, id] = fx.add(f);
  CHECK_FALSE(answer.ok);
  CHECK(id == 0);
  CHECK(answer.sentence == "there is no local mailbox carol@example.org: add the user first");
}

TEST_CASE("collect del and pin: by id, with a sentence for an unknown one") {
  Fixture fx;
  fx.add(good());
  std::optional<app::Answer> a;
  const std::string pin(64, 'c');
  fx.admin->pin_account(1, pin, [&](app::Answer x) { a = x; });
  REQUIRE(a.has_value());
  CHECK(a->ok);
  CHECK(fx.accounts()[0].pin == pin);
  fx.admin->del_account(9, [&](app::Answer x) { a = x; });
  CHECK_FALSE(a->ok);
  CHECK(a->sentence == "there is no collect account 9 (see `postern collect list`)");
  fx.admin->del_account(1, [&](app::Answer x) { a = x; });
  CHECK(a->ok);
  CHECK(fx.accounts().empty());
}
