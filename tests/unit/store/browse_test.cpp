// The mailbox view's store reads and writes: newest-first pages, body heads,
// retrieval rows and deletion from the page.
#include "store/browse.h"

#include <doctest/doctest.h>

#include <chrono>
#include <set>

#include "store/check.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {

std::vector<std::uint32_t> uids_of(const BrowsePage& page) {
  std::vector<std::uint32_t> out;
  for (const auto& m : page.messages) out.push_back(m.uid);
  return out;
}

BrowsePage page_of(Env& env, std::uint64_t mailbox, std::optional<std::uint32_t> before,
                   std::size_t limit) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto page = list_page(*txn, mailbox, before, limit);
  REQUIRE(page.has_value());
  return *page;
}

void deliver_n(Env& env, const char* to, int n, std::int64_t t0 = 1'700'000'000) {
  for (int i = 0; i < n; ++i) {
    std::string bytes =
        "Subject: m" + std::to_string(i + 1) + "\r\n\r\nbody " + std::to_string(i + 1) + "\r\n";
    REQUIRE(deliver_now(env, request_to(memory_body(bytes), {to}, t0 + i)).has_value());
  }
}

}  // namespace

TEST_CASE("pages list one mailbox newest first and the cursor walks to the oldest") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org", "b@x.org", "c@x.org"});
  deliver_n(*env, "a@x.org", 2);  // mailboxes on both sides of b's keys
  deliver_n(*env, "b@x.org", 7);
  deliver_n(*env, "c@x.org", 2);
  const std::uint64_t b = mailbox_of(*env, "b@x.org");

  BrowsePage first = page_of(*env, b, std::nullopt, 3);
  CHECK(uids_of(first) == std::vector<std::uint32_t>{7, 6, 5});
  REQUIRE(first.next_before.has_value());
  CHECK(*first.next_before == 5);
  BrowsePage second = page_of(*env, b, first.next_before, 3);
  CHECK(uids_of(second) == std::vector<std::uint32_t>{4, 3, 2});
  BrowsePage third = page_of(*env, b, second.next_before, 3);
  CHECK(uids_of(third) == std::vector<std::uint32_t>{1});
  CHECK_FALSE(third.next_before.has_value());
  // Exactly a page left: no cursor pointing at nothing.
  CHECK_FALSE(page_of(*env, b, 4, 3).next_before.has_value());
  CHECK(page_of(*env, b, 1, 3).messages.empty());
  CHECK(page_of(*env, b, std::nullopt, 0).messages.empty());
  // The last mailbox (no key after it) and an empty one.
  CHECK(uids_of(page_of(*env, mailbox_of(*env, "c@x.org"), std::nullopt, 10)) ==
        std::vector<std::uint32_t>{2, 1});
  CHECK(page_of(*env, 999, std::nullopt, 10).messages.empty());
  CHECK(first.messages[0].received_at == 1'700'000'006);
}

TEST_CASE("a page of a 100 000-message mailbox costs what a small one does") {
  TempDir dir;
  auto env = open_store(options_for(dir.path(), 512ull << 20));
  add_users(*env, {"big@x.org"});
  const std::uint64_t id = mailbox_of(*env, "big@x.org");
  // Many rows sharing one body, in a few large transactions.
  for (int batch = 0; batch < 10; ++batch) {
    REQUIRE(run_write(*env, [&](WriteTxn& txn) -> Result<void> {
      for (int i = 0; i < 10'000; ++i) {
        auto d = deliver(txn, request_to(memory_body("Subject: same\r\n\r\nx\r\n"), {"big@x.org"}));
        if (!d) return d.error();
      }
      return {};
    }));
  }
  auto start = std::chrono::steady_clock::now();
  std::optional<std::uint32_t> before;
  for (int i = 0; i < 10; ++i) {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    auto page = list_page(*txn, id, before, 50);
    REQUIRE(page.has_value());
    REQUIRE(page->messages.size() == 50);
    for (const auto& m : page->messages) REQUIRE(body_head(*txn, m.body, 16384).has_value());
    before = page->next_before;
  }
  const auto per_page = (std::chrono::steady_clock::now() - start) / 10;
  MESSAGE("one 50-message page of 100000, with heads: ",
          std::chrono::duration_cast<std::chrono::microseconds>(per_page).count(), " us");
  CHECK(*before == 100'000 - 500 + 1);
  CHECK(per_page < std::chrono::milliseconds(20));  // generous for ASan and qemu
}

TEST_CASE("a body head is a bounded view of the first chunk") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  const std::string big = pattern_bytes(3 * kChunkBytes + 10);
  REQUIRE(deliver_now(*env, request_to(memory_body(big), {"a@x.org"})).has_value());
  REQUIRE(deliver_now(*env, request_to(memory_body(""), {"a@x.org"})).has_value());
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  auto page = list_page(*txn, mailbox_of(*env, "a@x.org"), std::nullopt, 10);
  REQUIRE(page->messages.size() == 2);
  CHECK(body_head(*txn, page->messages[0].body, 100).value() == "");  // the empty body
  auto head = body_head(*txn, page->messages[1].body, 16384);
  CHECK(*head == big.substr(0, 16384));
  CHECK(body_head(*txn, page->messages[1].body, 1 << 20)->size() == kChunkBytes);
}

TEST_CASE("retrievals are recorded per message and go with the message") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  deliver_n(*env, "a@x.org", 3);
  const std::uint64_t id = mailbox_of(*env, "a@x.org");
  const std::uint32_t uids[] = {1, 3, 77};  // 77 does not exist: skipped
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return record_retrievals(t, id, uids, "192.0.2.7", 1'700'000'100);
  }));
  const std::uint32_t again[] = {3};
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return record_retrievals(t, id, again, std::string(300, 'c'), 1'700'000'200);
  }));
  {
    auto txn = env->begin_read();
    auto one = find_retrieval(*txn, id, 1);
    REQUIRE(one.has_value());
    REQUIRE(one->has_value());
    CHECK((*one)->client == "192.0.2.7");
    CHECK((*one)->time == 1'700'000'100);
    CHECK_FALSE(find_retrieval(*txn, id, 2)->has_value());
    CHECK((*find_retrieval(*txn, id, 3))->client == std::string(kMaxRetrievalClient, 'c'));
    CHECK_FALSE(find_retrieval(*txn, id, 77)->has_value());
    CHECK(entry_count(*txn, Db::retrievals).value_or(0) == 2);
  }
  // POP3's UPDATE path (delete_messages) drops the row with the message.
  const std::uint32_t one[] = {1};
  REQUIRE(run_write(*env, [&](WriteTxn& t) { return delete_messages(t, id, one); }));
  {
    auto txn = env->begin_read();
    CHECK_FALSE(find_retrieval(*txn, id, 1)->has_value());
    CHECK(entry_count(*txn, Db::retrievals).value_or(0) == 1);
  }
  CHECK(check_consistency(*env).has_value());
  // A row whose message is gone is what the consistency check reports.
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    return t.put(Db::retrievals, message_key(id, 2000), std::string(8, '\0'));
  }));
  auto checked = check_consistency(*env);
  REQUIRE_FALSE(checked.has_value());
  CHECK(std::string(checked.error().where) == "retrieval-orphan");
}

TEST_CASE("deleting from the page skips messages already gone and keeps every other UIDL") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  deliver_n(*env, "a@x.org", 5);
  const std::uint64_t id = mailbox_of(*env, "a@x.org");
  auto before = list_messages(*env, id);
  REQUIRE(before.has_value());
  const std::uint32_t first[] = {2, 4, 4, 99};
  auto n = run_write(*env, [&](WriteTxn& t) { return delete_from_page(t, id, first); });
  REQUIRE(n.has_value());
  CHECK(*n == 2);
  const std::uint32_t second[] = {2};  // a POP3 QUIT got there first: nothing, no error
  auto none = run_write(*env, [&](WriteTxn& t) { return delete_from_page(t, id, second); });
  REQUIRE(none.has_value());
  CHECK(*none == 0);

  auto after = list_messages(*env, id);
  REQUIRE(after->size() == 3);
  std::set<std::string> kept;
  for (const auto& m : *after) kept.insert(uidl(m.unique_id));
  for (const auto& m : *before) {
    if (m.uid == 2 || m.uid == 4) {
      CHECK(kept.count(uidl(m.unique_id)) == 0);
    } else {
      CHECK(kept.count(uidl(m.unique_id)) == 1);
    }
  }
  auto txn = env->begin_read();
  auto box = find_mailbox(*txn, id);
  CHECK(box->message_count == 3);
  CHECK(box->next_uid == 6);  // uids are never reused
  CHECK(check_consistency(*env, true).has_value());
}
