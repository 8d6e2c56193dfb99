// MaildropStore against a real store: the lock and the snapshot off the loop, sizes as RETR
// sends them, keys that are no uid, and an UPDATE that outlives a message removed during the
// session (a kept partial superseded by its complete copy).
#include "pop3/maildrop_store.h"

#include <doctest/doctest.h>

#include <chrono>
#include <limits>

#include "core/clock.h"
#include "store/check.h"
#include "store/mailbox.h"
#include "store/pool_executor.h"
#include "store/spool.h"
#include "store/store_fixture.h"

namespace postern::pop3 {
namespace {

using store::testing::add_users;
using store::testing::deliver_now;
using store::testing::mailbox_of;
using store::testing::memory_body;
using store::testing::options_for;
using store::testing::request_to;

// open() through an executor that runs its jobs at once: the snapshot or the error.
core::Result<Maildrop> open_now(MaildropStore& drop, const char* user,
                                std::chrono::seconds login_delay = std::chrono::seconds(0)) {
  std::optional<core::Result<Maildrop>> out;
  drop.open(user, login_delay, [&](core::Result<Maildrop> r) { out = std::move(r); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

}  // namespace

TEST_CASE("a BDAT body without a final CRLF is listed at the size RETR sends") {
  test::TempDir dir;
  const store::Options o = options_for(dir.path());
  auto env = store::testing::open_store(o);
  add_users(*env, {"a@x.org"});
  core::InlineExecutor ex;
  store::Spool spool(o, ex);
  spool.append("Subject: bdat\r\n\r\nlast line without CRLF");
  std::optional<store::SpooledBody> body;
  spool.finish([&](store::Result<store::SpooledBody> b) { body = std::move(*b); });
  REQUIRE(body.has_value());
  REQUIRE(deliver_now(*env, request_to(*body, {"a@x.org"})));
  store::Writer writer(*env, ex);
  core::ManualClock clock;
  MaildropStore drop(*env, writer, ex, std::make_shared<LockTable>(), clock);
  auto snapshot = open_now(drop, "a@x.org");
  REQUIRE(snapshot.has_value());
  REQUIRE(snapshot->messages.size() == 1);
  std::string sent;
  for (std::size_t n = 0;; ++n) {
    auto chunk = drop.read_chunk(snapshot->messages[0], n);
    REQUIRE(chunk.has_value());
    if (chunk->empty()) break;
    sent += *chunk;
  }
  CHECK(sent == "Subject: bdat\r\n\r\nlast line without CRLF\r\n");
  CHECK(snapshot->messages[0].size == sent.size());
}

TEST_CASE("UPDATE skips a message removed during the session and still applies the rest") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, request_to(memory_body("one\r\n"), {"a@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("two\r\n"), {"a@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("three\r\n"), {"a@x.org"})));
  core::InlineExecutor ex;
  store::Writer writer(*env, ex);
  core::ManualClock clock;
  MaildropStore drop(*env, writer, ex, std::make_shared<LockTable>(), clock);
  auto snapshot = open_now(drop, "a@x.org");
  REQUIRE(snapshot->messages.size() == 3);
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  const std::uint32_t gone = static_cast<std::uint32_t>(snapshot->messages[0].key);
  REQUIRE(store::run_write(*env, [&](store::WriteTxn& t) {
    return store::delete_messages(t, box, std::span<const std::uint32_t>(&gone, 1));
  }));
  std::optional<core::Result<void>> outcome;
  drop.update({snapshot->messages[0].key, snapshot->messages[1].key},
              {snapshot->messages[0].key, snapshot->messages[2].key},
              [&](core::Result<void> r) { outcome = r; });
  REQUIRE(outcome.has_value());
  CHECK(outcome->has_value());
  auto list = store::list_messages(*env, box);
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].uid == snapshot->messages[2].key);
  CHECK(((*list)[0].flags & store::kFlagRetrieved) != 0);
  CHECK(store::check_consistency(*env).has_value());
}

TEST_CASE("the maildrop is locked before its snapshot is listed off the loop") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, request_to(memory_body("one\r\n"), {"a@x.org"})));
  REQUIRE(deliver_now(*env, request_to(memory_body("two two\r\n"), {"a@x.org"})));
  core::InlineExecutor inline_ex;
  store::Writer writer(*env, inline_ex);
  core::HeldExecutor pool;
  core::ManualClock clock;
  auto locks = std::make_shared<LockTable>();
  MaildropStore first(*env, writer, pool, locks, clock);
  std::optional<core::Result<Maildrop>> got;
  first.open("a@x.org", std::chrono::seconds(0),
             [&](core::Result<Maildrop> r) { got = std::move(r); });
  CHECK_FALSE(got.has_value());  // nothing answered from inside open()
  CHECK(first.is_open());        // RFC 1939 §4: locked before the listing runs
  CHECK(locks->size() == 1);

  // A second session of the same maildrop is refused, also through the executor.
  MaildropStore second(*env, writer, pool, locks, clock);
  std::optional<core::Result<Maildrop>> refused;
  second.open("a@x.org", std::chrono::seconds(0),
              [&](core::Result<Maildrop> r) { refused = std::move(r); });
  CHECK_FALSE(refused.has_value());
  REQUIRE(pool.pending() == 2);
  pool.run_all();
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  REQUIRE((*got)->messages.size() == 2);
  CHECK((*got)->messages[0].size == 5);
  CHECK((*got)->messages[1].size == 9);
  REQUIRE(refused.has_value());
  REQUIRE_FALSE(refused->has_value());
  CHECK(refused->error().code == core::Errc::busy);
  CHECK(first.is_open());
  CHECK_FALSE(second.is_open());
  first.release();
  CHECK(locks->size() == 0);
}

TEST_CASE("the snapshot carries the uid, the size and the store's UIDL of each message") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  for (int i = 0; i < 50; ++i) {
    REQUIRE(deliver_now(
        *env, request_to(memory_body("message " + std::to_string(i) + "\r\n"), {"a@x.org"})));
  }
  core::InlineExecutor ex;
  store::Writer writer(*env, ex);
  core::ManualClock clock;
  MaildropStore drop(*env, writer, ex, std::make_shared<LockTable>(), clock);
  auto snapshot = open_now(drop, "a@x.org");
  REQUIRE(snapshot.has_value());
  auto listed = store::list_messages(*env, mailbox_of(*env, "a@x.org"));
  REQUIRE(listed.has_value());
  REQUIRE(snapshot->messages.size() == listed->size());
  CHECK(snapshot->messages.capacity() == snapshot->messages.size());
  for (std::size_t i = 0; i < listed->size(); ++i) {
    const MessageEntry& entry = snapshot->messages[i];
    CHECK(entry.key == (*listed)[i].uid);
    CHECK(entry.size == (*listed)[i].size);
    CHECK(entry.unique_id.view() == store::uidl((*listed)[i].unique_id));
  }
}

TEST_CASE("a snapshot listed on a pool thread matches the store") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  for (int i = 0; i < 20; ++i) {
    REQUIRE(
        deliver_now(*env, request_to(memory_body(std::string(i + 1, 'x') + "\r\n"), {"a@x.org"})));
  }
  core::InlineExecutor inline_ex;
  store::Writer writer(*env, inline_ex);
  postern::test::PoolExecutor pool(2);
  core::ManualClock clock;
  MaildropStore drop(*env, writer, pool, std::make_shared<LockTable>(), clock);
  std::optional<core::Result<Maildrop>> got;
  drop.open("a@x.org", std::chrono::seconds(0),
            [&](core::Result<Maildrop> r) { got = std::move(r); });
  REQUIRE(pool.run_until([&] { return got.has_value(); }, std::chrono::seconds(10)));
  REQUIRE(got->has_value());
  REQUIRE((*got)->messages.size() == 20);
  for (std::size_t i = 0; i < 20; ++i) CHECK((*got)->messages[i].size == i + 3);
}

TEST_CASE("an unknown user, a login delay and a failed listing release the lock") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  core::InlineExecutor ex;
  store::Writer writer(*env, ex);
  core::ManualClock clock;
  auto locks = std::make_shared<LockTable>();
  MaildropStore drop(*env, writer, ex, locks, clock);
  auto unknown = open_now(drop, "nobody@x.org");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == core::Errc::not_found);
  CHECK(locks->size() == 0);

  REQUIRE(open_now(drop, "a@x.org").has_value());
  drop.release();
  auto early = open_now(drop, "a@x.org", std::chrono::seconds(60));  // RFC 2449 §6.5
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == core::Errc::denied);
  CHECK_FALSE(drop.is_open());
  clock.advance(std::chrono::seconds(61));
  REQUIRE(open_now(drop, "a@x.org", std::chrono::seconds(60)).has_value());
  CHECK(drop.is_open());
}

TEST_CASE("a key that is no store uid is refused, never truncated onto another message") {
  test::TempDir dir;
  auto env = store::testing::open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, request_to(memory_body("keep me\r\n"), {"a@x.org"})));
  core::InlineExecutor ex;
  store::Writer writer(*env, ex);
  core::ManualClock clock;
  MaildropStore drop(*env, writer, ex, std::make_shared<LockTable>(), clock);
  auto snapshot = open_now(drop, "a@x.org");
  REQUIRE(snapshot->messages.size() == 1);
  // The same low 32 bits as the real uid: a narrowing cast would read and delete it.
  MessageEntry alias = snapshot->messages[0];
  alias.key += std::uint64_t{1} << 32;
  auto chunk = drop.read_chunk(alias, 0);
  REQUIRE_FALSE(chunk.has_value());
  CHECK(chunk.error().code == core::Errc::not_found);
  std::optional<core::Result<void>> outcome;
  drop.update({alias.key}, {}, [&](core::Result<void> r) { outcome = r; });
  REQUIRE(outcome.has_value());
  REQUIRE_FALSE(outcome->has_value());
  CHECK(outcome->error().code == core::Errc::invalid);
  auto list = store::list_messages(*env, mailbox_of(*env, "a@x.org"));
  REQUIRE(list->size() == 1);  // nothing was removed
  auto real = drop.read_chunk(snapshot->messages[0], 0);
  REQUIRE(real.has_value());
  CHECK(*real == "keep me\r\n");
}

}  // namespace postern::pop3
