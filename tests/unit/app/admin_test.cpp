#include "app/admin.h"

#include <doctest/doctest.h>

#include <memory>

#include "app/event_text.h"
#include "store/catalogue.h"
#include "store/events.h"
#include "test_support.h"

namespace app = postern::app;
namespace store = postern::store;
using app::Actor;
using app::Admin;
using app::Answer;

namespace {

// A real store in a temporary folder, and an Admin for the command line or the page.
struct Fixture {
  postern::test::TempDir dir;
  std::unique_ptr<store::Env> env;
  app::Settings settings;
  std::unique_ptr<app::InPlaceRunner> runner;

  Fixture() {
    store::Options options;
    options.data_dir = dir.path();
    options.map_bytes = 64ull << 20;
    auto opened = store::Env::open(options);
    REQUIRE(opened.has_value());
    env = std::move(*opened);
    settings.pbkdf2_iterations = 10000;
    runner = std::make_unique<app::InPlaceRunner>(*env);
  }

  Admin admin(Actor actor = Actor::cli) { return Admin(*env, *runner, actor, settings); }

  std::vector<store::Event> events() {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto list = store::query_events(*txn, 100);
    REQUIRE(list.has_value());
    return *list;
  }
  // The newest event's sentence, after checking it is an admin event.
  std::string last_admin_event() {
    auto list = events();
    REQUIRE_FALSE(list.empty());
    CHECK(list.front().kind == "admin");
    return app::event_sentence(list.front().kind, list.front().text);
  }
};

// The answer of a verb run by the in-place runner (done has run when it returns).
template <class Verb>
Answer run(Verb verb) {
  std::optional<Answer> answer;
  verb([&](Answer a) { answer = std::move(a); });
  REQUIRE(answer.has_value());
  return *answer;
}

void check_ok(const Answer& a, const std::string& sentence) {
  INFO(a.sentence);
  CHECK(a.ok);
  CHECK(a.sentence == sentence);
}

void check_refused(const Answer& a, const std::string& sentence) {
  CHECK_FALSE(a.ok);
  CHECK(a.sentence == sentence);
}

}  // namespace

TEST_CASE("every catalogue verb answers one sentence and records who did it") {
  Fixture f;
  Admin admin = f.admin();
  check_ok(run([&](auto done) { admin.add_domain("Example.ORG", "", done); }),
           "added the domain example.org (duplicate rule content-or-message-id)");
  CHECK(f.last_admin_event() ==
        "Admin (cli) added the domain example.org (duplicate rule content-or-message-id).");
  check_ok(run([&](auto done) { admin.add_user("Bob@example.org", "secret-password", 0, done); }),
           "added the mailbox bob@example.org");
  CHECK(f.last_admin_event() == "Admin (cli) added the mailbox bob@example.org.");
  check_ok(run([&](auto done) { admin.set_password("bob@example.org", "another-secret", done); }),
           "changed the password of bob@example.org");
  CHECK(f.last_admin_event() == "Admin (cli) changed the password of bob@example.org.");
  check_ok(
      run([&](auto done) { admin.add_alias("postmaster@example.org", "bob@example.org", done); }),
      "routed postmaster@example.org to bob@example.org");
  CHECK(f.last_admin_event() == "Admin (cli) routed postmaster@example.org to bob@example.org.");
  check_ok(run([&](auto done) { admin.set_domain_rule("example.org", "off", done); }),
           "the duplicate rule of example.org is now off");
  CHECK(f.last_admin_event() ==
        "Admin (cli) changed the duplicate rule of example.org from content-or-message-id to off.");
  auto aliases = admin.list_aliases();
  REQUIRE(aliases.has_value());
  CHECK(aliases->size() == 1);
  check_ok(run([&](auto done) { admin.del_alias("postmaster@example.org", done); }),
           "removed the alias postmaster@example.org");
  CHECK(f.last_admin_event() == "Admin (cli) removed the alias postmaster@example.org.");
  check_ok(run([&](auto done) { admin.del_user("bob@example.org", done); }),
           "removed the mailbox bob@example.org and its mail");
  CHECK(f.last_admin_event() == "Admin (cli) removed the mailbox bob@example.org and its mail.");
  check_ok(run([&](auto done) { admin.del_domain("example.org", done); }),
           "removed the domain example.org");
  CHECK(f.last_admin_event() == "Admin (cli) removed the domain example.org.");
  CHECK(f.events().size() == 8);
}

TEST_CASE("each refusal is one sentence, and a refused verb changes and records nothing") {
  Fixture f;
  Admin admin = f.admin();
  REQUIRE(run([&](auto done) { admin.add_domain("example.org", "", done); }).ok);
  REQUIRE(
      run([&](auto done) { admin.add_user("bob@example.org", "secret-password", 0, done); }).ok);
  const std::size_t before = f.events().size();

  check_refused(run([&](auto done) { admin.add_user("bob", "secret-password", 0, done); }),
                "'bob' is not a valid address: it needs a local part, '@' and a domain, like "
                "bob@example.org");
  check_refused(run([&](auto done) { admin.add_user("amy@example.net", "secret-pw", 0, done); }),
                "there is no domain example.net: add the domain first");
  check_refused(run([&](auto done) { admin.add_user("bob@example.org", "secret-pw", 0, done); }),
                "the mailbox bob@example.org already exists");
  check_refused(run([&](auto done) { admin.add_user("amy@example.org", "short", 0, done); }),
                "the password must have at least 8 characters");
  check_refused(run([&](auto done) { admin.set_password("amy@example.org", "secret-pw", done); }),
                "there is no mailbox amy@example.org");
  check_refused(run([&](auto done) { admin.del_user("amy@example.org", done); }),
                "there is no mailbox amy@example.org");
  check_refused(run([&](auto done) { admin.add_domain("not a domain!", "", done); }),
                "'not a domain!' is not a valid domain name: spaces are not allowed");
  check_refused(run([&](auto done) { admin.add_domain("example.org", "", done); }),
                "the domain example.org already exists");
  check_refused(run([&](auto done) { admin.add_domain("example.net", "maybe", done); }),
                "unknown duplicate rule 'maybe': use content, content-or-message-id or off");
  check_refused(run([&](auto done) { admin.set_domain_rule("example.org", "maybe", done); }),
                "unknown duplicate rule 'maybe': use content, content-or-message-id or off");
  check_refused(run([&](auto done) { admin.set_domain_rule("example.net", "off", done); }),
                "there is no domain example.net");
  check_refused(run([&](auto done) { admin.del_domain("example.net", done); }),
                "there is no domain example.net");
  check_refused(run([&](auto done) { admin.del_domain("example.org", done); }),
                "the domain example.org still has mailboxes: remove them first");
  check_refused(run([&](auto done) { admin.add_alias("a@example.org", "a@example.org", done); }),
                "an alias cannot point to itself");
  check_refused(run([&](auto done) { admin.add_alias("a@example.net", "bob@example.org", done); }),
                "there is no domain example.net: add the domain first");
  check_refused(run([&](auto done) { admin.add_alias("bob@example.org", "x@example.org", done); }),
                "bob@example.org is a mailbox: remove the mailbox first, or choose another "
                "address");
  check_refused(run([&](auto done) { admin.del_alias("a@example.org", done); }),
                "there is no alias a@example.org");
  CHECK(f.events().size() == before);
}

TEST_CASE("the page and the command line share defaults; the event says which one acted") {
  Fixture f;
  f.settings.dedup_rule = store::DedupRule::content;
  Admin page = f.admin(Actor::page);
  check_ok(run([&](auto done) { page.add_domain("example.org", "", done); }),
           "added the domain example.org (duplicate rule content)");
  CHECK(f.last_admin_event() ==
        "Admin (page) added the domain example.org (duplicate rule content).");
  auto domains = page.list_domains();
  REQUIRE(domains.has_value());
  REQUIRE(domains->size() == 1);
  CHECK(domains->front().dedup == store::DedupRule::content);
}

TEST_CASE("a settings change is validated once, saved atomically and recorded per value") {
  Fixture f;
  Admin admin = f.admin();
  app::SettingsAnswer answer;
  admin.change_settings({{"allow_duplicates", "on"}, {"pop3_port", "11111"}},
                        [&](app::SettingsAnswer a) { answer = std::move(a); });
  INFO(answer.sentence);
  REQUIRE(answer.ok);
  CHECK(answer.sentence ==
        "saved allow_duplicates = yes, pop3_port = 11111; a running postern applies "
        "allow_duplicates on SIGHUP; a running postern uses pop3_port only after a restart "
        "(ports and connection limits are bound at start)");
  CHECK(answer.next.allow_duplicates);
  CHECK(answer.next.origin_of("pop3_port") == app::Origin::saved);
  REQUIRE(answer.changed.size() == 2);
  {
    auto txn = f.env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(store::get_setting(*txn, "allow_duplicates").value_or("") == "yes");
    CHECK(store::get_setting(*txn, "pop3_port").value_or("") == "11111");
  }
  auto events = f.events();
  REQUIRE(events.size() == 2);
  std::vector<std::string> sentences;
  for (const auto& e : events) sentences.push_back(app::event_sentence(e.kind, e.text));
  CHECK(std::find(sentences.begin(), sentences.end(),
                  "Admin (cli) changed allow_duplicates from no to yes.") != sentences.end());
  CHECK(std::find(sentences.begin(), sentences.end(),
                  "Admin (cli) changed pop3_port from 1110 to 11111; a running postern uses it "
                  "after a restart.") != sentences.end());

  // One wrong value: nothing of the change is saved or recorded.
  admin.change_settings({{"max_message_bytes", "100000"}, {"dedup_window_h", "0"}},
                        [&](app::SettingsAnswer a) { answer = std::move(a); });
  CHECK_FALSE(answer.ok);
  CHECK(answer.sentence == "dedup_window_h: 0 is out of range; use 1 to 1440");
  admin.change_settings({{"data_dir", "/tmp"}}, [&](app::SettingsAnswer a) { answer = a; });
  CHECK(answer.sentence ==
        "data_dir comes from the board profile or the command line and cannot be saved");
  admin.change_settings({{"smtp_prot", "25"}}, [&](app::SettingsAnswer a) { answer = a; });
  CHECK(answer.sentence == "unknown setting 'smtp_prot': see `postern set` for the list");
  auto txn = f.env->begin_read();
  REQUIRE(txn.has_value());
  CHECK_FALSE(store::get_setting(*txn, "max_message_bytes").has_value());
  CHECK(f.events().size() == 2);
}

TEST_CASE("a change from the page says what is in use and what waits for a restart") {
  Fixture f;
  Admin page = f.admin(Actor::page);
  app::SettingsAnswer answer;
  page.change_settings({{"allow_duplicates", "yes"}},
                       [&](app::SettingsAnswer a) { answer = std::move(a); });
  CHECK(answer.sentence == "saved allow_duplicates = yes; allow_duplicates now in use");
  CHECK(f.last_admin_event() == "Admin (page) changed allow_duplicates from no to yes.");

  app::Settings started;
  app::Settings current = answer.next;
  REQUIRE(app::apply(current, "https_port", "9443", app::Origin::saved).has_value());
  auto pending = app::settings_waiting_for_restart(started, current);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].key == "https_port");
  CHECK(pending[0].running == "8443");
  CHECK(pending[0].saved == "9443");
}

TEST_CASE("an IDN is keyed as A-labels and shown as U-labels in answers and events") {
  Fixture f;
  Admin admin = f.admin();
  check_ok(run([&](auto done) { admin.add_domain("Bücher.example", "off", done); }),
           "added the domain bücher.example (xn--bcher-kva.example) (duplicate rule off)");
  CHECK(f.last_admin_event() ==
        "Admin (cli) added the domain bücher.example (duplicate rule off).");
  auto domains = admin.list_domains();
  REQUIRE(domains.has_value());
  REQUIRE(domains->size() == 1);
  CHECK(domains->front().name == "xn--bcher-kva.example");
  check_refused(run([&](auto done) { admin.add_domain("xn--BCHER-kva.example", "", done); }),
                "the domain bücher.example (xn--bcher-kva.example) already exists");
}
