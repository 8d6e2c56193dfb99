// MaildropStore against a real store: sizes as RETR sends them, and an UPDATE that outlives
// a message removed during the session (a kept partial superseded by its complete copy).
#include "pop3/maildrop_store.h"

#include <doctest/doctest.h>

#include "core/clock.h"
#include "store/check.h"
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
  MaildropStore drop(*env, writer, std::make_shared<LockTable>(), clock);
  auto snapshot = drop.open("a@x.org", std::chrono::seconds(0));
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
  MaildropStore drop(*env, writer, std::make_shared<LockTable>(), clock);
  auto snapshot = drop.open("a@x.org", std::chrono::seconds(0));
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

}  // namespace postern::pop3
