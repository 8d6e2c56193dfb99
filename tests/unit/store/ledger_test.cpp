// The dedup ledger: rows, expiry, and its steps inside deliver() (suppression, window,
// partials, counters, refcounts).
#include "store/ledger.h"

#include <doctest/doctest.h>

#include "store/check.h"
#include "store/events.h"
#include "store/writer.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::core::HeldExecutor;
using postern::test::TempDir;

namespace {

Fingerprint fp_of(std::uint8_t tag) {
  Fingerprint fp{};
  fp[0] = tag;
  fp[31] = 0x5a;
  return fp;
}

const Fingerprint kContent = fp_of(1);
const Fingerprint kMessageId = fp_of(2);
const Fingerprint kPartial = fp_of(3);

// A complete message as the policy plans it under the content-or-message-id rule.
DeliveryRequest complete(std::string body, std::initializer_list<const char*> to,
                         std::int64_t at = 1'700'000'000, std::int64_t not_before = 0) {
  DeliveryRequest req = request_to(memory_body(std::move(body)), to, at);
  req.dedup_not_before = not_before;
  req.message_id = "<m@x>";
  for (auto& r : req.recipients) {
    r.check = {{kContent, "content"}, {kMessageId, "message-id"}};
    r.record = {kContent, kMessageId};
    r.supersede_partial = kPartial;
  }
  return req;
}

DeliveryRequest partial(std::string body, const char* to, std::int64_t at = 1'700'000'000) {
  DeliveryRequest req = request_to(memory_body(std::move(body)), {to}, at);
  req.flags = kFlagPartial;
  req.message_id = "<m@x>";
  req.recipients[0].check = {{kMessageId, "message-id"}};
  req.recipients[0].partial_key = kPartial;
  req.recipients[0].supersede_partial = kPartial;
  return req;
}

std::size_t count_messages(Env& env, const char* address) {
  auto list = list_messages(env, mailbox_of(env, address));
  REQUIRE(list.has_value());
  return list->size();
}

DedupStats stats_of(Env& env) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto s = stats(*txn);
  REQUIRE(s.has_value());
  return *s;
}

std::vector<Event> events_of(Env& env, std::string_view kind) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto all = query_events(*txn, 100);
  REQUIRE(all.has_value());
  std::vector<Event> out;
  for (auto& e : *all) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("dedup rows are written with the delivery and expire by age") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  Fingerprint fp{};
  fp[0] = 7;
  auto req = request_to(memory_body("m"), {"a@x.org"}, 1000);
  req.recipients[0].record = {fp};
  auto out = deliver_now(*env, req);
  REQUIRE(out.has_value());
  const std::uint64_t box = out->delivered[0].mailbox_id;
  {
    auto txn = env->begin_read();
    auto row = find_dedup(*txn, box, fp);
    REQUIRE(row.has_value());
    CHECK(row->first_seen == 1000);
    CHECK(row->uid == out->delivered[0].uid);
  }
  auto none = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 1000); });
  CHECK(none.value_or(99) == 0);
  auto one = run_write(*env, [](WriteTxn& t) { return expire_dedup(t, 1001); });
  CHECK(one.value_or(99) == 1);
  auto txn = env->begin_read();
  CHECK(find_dedup(*txn, box, fp).error().code == Errc::not_found);
}

TEST_CASE("a retry within the window is suppressed, counted and logged, not stored") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  auto first = deliver_now(*env, complete("hello", {"a@x.org"}, 1000));
  REQUIRE(first.has_value());
  CHECK_FALSE(first->delivered[0].suppressed);
  auto retry = deliver_now(*env, complete("hello", {"a@x.org"}, 2000, 500));
  REQUIRE(retry.has_value());
  const Delivered& d = retry->delivered[0];
  CHECK(d.suppressed);
  CHECK(d.uid == first->delivered[0].uid);
  CHECK(d.first_seen == 1000);
  CHECK(d.unique_id == 0);
  CHECK(count_messages(*env, "a@x.org") == 1);
  CHECK(stats_of(*env).duplicates_suppressed == 1);
  auto events = events_of(*env, "duplicate-suppressed");
  REQUIRE(events.size() == 1);
  CHECK(events[0].text == "mailbox=a@x.org message_id=<m@x> rule=content first_seen=1000");
  auto txn = env->begin_read();
  CHECK(find_body(*txn, sha256("hello"))->refcount == 1);
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a row older than the window does not suppress and is renewed") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, complete("hello", {"a@x.org"}, 1000)));
  // The window starts at 1001: the row of 1000 is out of it.
  auto late = deliver_now(*env, complete("hello", {"a@x.org"}, 9000, 1001));
  REQUIRE(late.has_value());
  CHECK_FALSE(late->delivered[0].suppressed);
  CHECK(count_messages(*env, "a@x.org") == 2);
  auto txn = env->begin_read();
  auto row = find_dedup(*txn, mailbox_of(*env, "a@x.org"), kContent);
  REQUIRE(row.has_value());
  CHECK(row->first_seen == 9000);
  CHECK(row->uid == late->delivered[0].uid);
  CHECK(find_body(*txn, sha256("hello"))->refcount == 2);
}

TEST_CASE("with nothing checked a second copy is stored and first seen stays true") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, complete("hello", {"a@x.org"}, 1000)));
  auto allowed = complete("hello", {"a@x.org"}, 2000);
  allowed.recipients[0].check.clear();  // allow_duplicates, or rule off
  REQUIRE(deliver_now(*env, allowed));
  CHECK(count_messages(*env, "a@x.org") == 2);
  {
    auto txn = env->begin_read();
    CHECK(find_dedup(*txn, mailbox_of(*env, "a@x.org"), kContent)->first_seen == 1000);
  }
  // The switch back: the rows recorded all along suppress again.
  auto again = deliver_now(*env, complete("hello", {"a@x.org"}, 3000));
  REQUIRE(again.has_value());
  CHECK(again->delivered[0].suppressed);
}

TEST_CASE("the message-id check suppresses a different body with the same Message-ID") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, complete("hello", {"a@x.org"}, 1000)));
  auto other = complete("other body", {"a@x.org"}, 2000);
  other.recipients[0].check = {{fp_of(9), "content"}, {kMessageId, "message-id"}};
  other.recipients[0].record = {fp_of(9), kMessageId};
  auto out = deliver_now(*env, other);
  REQUIRE(out.has_value());
  CHECK(out->delivered[0].suppressed);
  CHECK(events_of(*env, "duplicate-suppressed")[0].text.find("rule=message-id") !=
        std::string::npos);
  // Under the content rule only the content fingerprint is checked: delivered.
  other.recipients[0].check = {{fp_of(9), "content"}};
  out = deliver_now(*env, other);
  REQUIRE(out.has_value());
  CHECK_FALSE(out->delivered[0].suppressed);
  CHECK(count_messages(*env, "a@x.org") == 2);
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(find_body(*txn, sha256("other body"))->refcount == 1);
}

TEST_CASE("two retries in one batch leave exactly one copy") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  HeldExecutor ex;
  Writer writer(*env, ex);
  std::vector<bool> suppressed;
  auto done = [&](Result<DeliveryOutcome> r) {
    REQUIRE(r.has_value());
    suppressed.push_back(r->delivered[0].suppressed);
  };
  writer.deliver(request_to(memory_body("unrelated"), {"a@x.org"}), done);  // batch 1 in flight
  writer.deliver(complete("hello", {"a@x.org"}), done);
  writer.deliver(complete("hello", {"a@x.org"}), done);
  ex.run_all();
  CHECK(writer.batches() == 2);
  CHECK(suppressed == std::vector<bool>{false, false, true});
  CHECK(count_messages(*env, "a@x.org") == 2);
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("single-instance storage stays exact when some recipients are suppressed") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org", "c@x.org"});
  REQUIRE(deliver_now(*env, complete("shared", {"b@x.org"})));
  auto out = deliver_now(*env, complete("shared", {"a@x.org", "b@x.org", "c@x.org"}));
  REQUIRE(out.has_value());
  CHECK_FALSE(out->delivered[0].suppressed);
  CHECK(out->delivered[1].suppressed);
  CHECK_FALSE(out->delivered[2].suppressed);
  auto txn = env->begin_read();
  CHECK(find_body(*txn, sha256("shared"))->refcount == 3);
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a large new body whose every recipient is suppressed leaves no chunks behind") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, complete("small original", {"a@x.org"})));
  HeldExecutor ex;
  Writer writer(*env, ex);
  // 20 chunks: the writer stages them in their own txns before the delivery.
  std::string big = pattern_bytes(20 * kChunkBytes - 5);
  bool suppressed = false;
  writer.deliver(complete(big, {"a@x.org"}), [&](Result<DeliveryOutcome> r) {
    REQUIRE(r.has_value());
    suppressed = r->delivered[0].suppressed;
  });
  ex.run_all();
  CHECK(suppressed);
  auto txn = env->begin_read();
  CHECK(entry_count(*txn, Db::chunks).value_or(99) == 1);  // the original's one chunk
  CHECK_FALSE(find_body(*txn, sha256(big)).has_value());
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a kept partial never suppresses its complete copy, which supersedes it") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  auto kept = deliver_now(*env, partial("X-Postern-Partial: ...\r\nhal", "a@x.org"));
  REQUIRE(kept.has_value());
  CHECK_FALSE(kept->delivered[0].suppressed);
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  {
    auto txn = env->begin_read();
    CHECK(find_dedup(*txn, box, kPartial).has_value());
    CHECK_FALSE(find_dedup(*txn, box, kContent).has_value());
    CHECK_FALSE(find_dedup(*txn, box, kMessageId).has_value());
  }
  CHECK(stats_of(*env).partials_kept == 1);
  auto full = deliver_now(*env, complete("half and the rest", {"a@x.org"}));
  REQUIRE(full.has_value());
  const Delivered& d = full->delivered[0];
  CHECK_FALSE(d.suppressed);
  REQUIRE(d.superseded_partial_uid.has_value());
  CHECK(*d.superseded_partial_uid == kept->delivered[0].uid);
  auto list = list_messages(*env, box);
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].uid == d.uid);
  CHECK(((*list)[0].flags & kFlagPartial) == 0);
  CHECK(stats_of(*env).partials_superseded == 1);
  auto events = events_of(*env, "partial-superseded");
  REQUIRE(events.size() == 1);
  CHECK(events[0].text.find("removed=yes downloaded=no") != std::string::npos);
  CHECK_FALSE(d.superseded_partial_downloaded);
  auto txn = env->begin_read();
  CHECK_FALSE(find_dedup(*txn, box, kPartial).has_value());
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a partial already downloaded goes too, in the same txn, and the event says so") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  auto kept = deliver_now(*env, partial("hal", "a@x.org"));
  REQUIRE(kept.has_value());
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  const std::uint32_t uid = kept->delivered[0].uid;
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return mark_retrieved(t, box, std::span<const std::uint32_t>(&uid, 1));
  }));
  auto full = deliver_now(*env, complete("half and the rest", {"a@x.org"}));
  REQUIRE(full.has_value());
  const Delivered& d = full->delivered[0];
  CHECK_FALSE(d.suppressed);
  CHECK(d.superseded_partial_uid == std::optional<std::uint32_t>(uid));
  CHECK(d.superseded_partial_downloaded);
  auto list = list_messages(*env, box);
  REQUIRE(list->size() == 1);  // only the complete copy
  CHECK((*list)[0].uid == d.uid);
  CHECK(((*list)[0].flags & kFlagPartial) == 0);
  const auto events = events_of(*env, "partial-superseded");
  REQUIRE(events.size() == 1);
  CHECK(events[0].text.find("uid=" + std::to_string(uid) + " ") != std::string::npos);
  CHECK(events[0].text.find("removed=yes downloaded=yes") != std::string::npos);
  CHECK(stats_of(*env).partials_superseded == 1);
  {
    auto txn = env->begin_read();
    CHECK_FALSE(find_dedup(*txn, box, kPartial).has_value());
  }
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("a second partial replaces the first, and a partial of a stored message is dropped") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  REQUIRE(deliver_now(*env, partial("ha", "a@x.org")));
  auto second = deliver_now(*env, partial("half", "a@x.org"));
  REQUIRE(second.has_value());
  CHECK(second->delivered[0].superseded_partial_uid.has_value());
  CHECK(count_messages(*env, "a@x.org") == 1);
  REQUIRE(deliver_now(*env, complete("half and the rest", {"a@x.org"})));
  CHECK(count_messages(*env, "a@x.org") == 1);
  // The sender retries once more and breaks again: the Message-ID is stored whole.
  auto late = deliver_now(*env, partial("hal", "a@x.org"));
  REQUIRE(late.has_value());
  CHECK(late->delivered[0].suppressed);
  CHECK(count_messages(*env, "a@x.org") == 1);
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a discarded partial is counted and logged") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& t) {
    return record_partial_discarded(t, "peer=192.0.2.1 bytes=10 message_id=-", 77);
  }));
  CHECK(stats_of(*env).partials_discarded == 1);
  auto events = events_of(*env, "partial-discarded");
  REQUIRE(events.size() == 1);
  CHECK(events[0].time == 77);
  CHECK(events[0].text == "peer=192.0.2.1 bytes=10 message_id=-");
}

TEST_CASE("received-today counts stored copies per mailbox, not suppressed retries") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org"});
  const std::int64_t day = 1'699'999'200;
  auto first = complete("hello", {"a@x.org", "b@x.org"}, 1000);
  first.count_on_day = day;
  REQUIRE(deliver_now(*env, std::move(first)).has_value());
  auto retry = complete("hello", {"a@x.org", "b@x.org"}, 2000, 500);
  retry.count_on_day = day;
  REQUIRE(deliver_now(*env, std::move(retry)).has_value());
  auto imported = request_to(memory_body("old mail"), {"a@x.org"}, 10);  // count_on_day 0
  REQUIRE(deliver_now(*env, std::move(imported)).has_value());
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(*daily_count(*txn, kStatReceivedToday, day) == 2);
}
