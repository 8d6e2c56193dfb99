// Maildir export/import: a byte-exact round trip and foreign files.
#include "store/maildir.h"
#include "store/body_key.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "store/check.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("export then import into a fresh store is byte-exact with ids and flags kept") {
  TempDir dir;
  auto src = open_store(options_for(dir.path() + "/a"));
  add_users(*src, {"bob@x.org", "ann@y.org"});
  struct Sent {
    std::string to;
    std::string bytes;
    std::int64_t at;
  };
  const std::vector<Sent> sent = {
      {"bob@x.org", "", 1000},
      {"bob@x.org", stored_form_bytes(kChunkBytes, 2), 1001},
      {"ann@y.org", stored_form_bytes(kChunkBytes + 1, 3), 1002},
      {"bob@x.org", "From: a\r\n\r\nshared\r\n", 1003},
      {"ann@y.org", "From: a\r\n\r\nshared\r\n", 1003},
      {"bob@x.org", stored_form_bytes(300'000, 4), 1004},
  };
  for (const auto& s : sent) {
    REQUIRE(deliver_now(*src, request_to(memory_body(s.bytes), {s.to.c_str()}, s.at)));
  }
  const std::uint64_t bob = mailbox_of(*src, "bob@x.org");
  const std::uint32_t first = 1;
  REQUIRE(run_write(*src, [&](WriteTxn& t) {
    return mark_retrieved(t, bob, std::span<const std::uint32_t>(&first, 1));
  }));

  const std::string out = dir.path() + "/maildir";
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ticks;
  auto exported = export_maildir(*src, out, [&](auto d, auto t) { ticks.emplace_back(d, t); });
  REQUIRE(exported.has_value());
  CHECK(exported->messages == sent.size());
  CHECK(exported->mailboxes == 2);
  CHECK(ticks.size() == sent.size());
  CHECK(ticks.back() == std::make_pair<std::uint64_t, std::uint64_t>(6, 6));
  CHECK(fs::is_directory(out + "/bob@x.org/new"));
  CHECK(fs::is_empty(out + "/bob@x.org/tmp"));

  auto dst = open_store(options_for(dir.path() + "/b"));
  auto imported = import_maildir(*dst, out);
  REQUIRE(imported.has_value());
  CHECK(imported->messages == sent.size());
  CHECK(check_consistency(*dst, true).has_value());

  for (const char* who : {"bob@x.org", "ann@y.org"}) {
    CAPTURE(who);
    auto a = list_messages(*src, mailbox_of(*src, who));
    auto b = list_messages(*dst, mailbox_of(*dst, who));
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    REQUIRE(a->size() == b->size());
    for (std::size_t i = 0; i < a->size(); ++i) {
      const MessageInfo& x = (*a)[i];
      const MessageInfo& y = (*b)[i];
      CHECK(y.unique_id == x.unique_id);
      CHECK(y.received_at == x.received_at);
      CHECK(y.flags == x.flags);
      CHECK(y.size == x.size);
      CHECK(read_body(*dst, y.body, y.size) == read_body(*src, x.body, x.size));
    }
  }
  auto txn = dst->begin_read();
  auto shared = find_body(*txn, body_key("From: a\r\n\r\nshared\r\n"));
  REQUIRE(shared.has_value());
  CHECK(shared->refcount == 2);  // single instance survives the round trip
  auto user = find_user(*txn, "bob@x.org");
  REQUIRE(user.has_value());
  CHECK(user->record.password_hash == "!");
}

TEST_CASE("foreign Maildir files are imported with new unique ids") {
  TempDir dir;
  const std::string root = dir.path() + "/maildir";
  fs::create_directories(root + "/carol@z.org/cur");
  fs::create_directories(root + "/carol@z.org/new");
  fs::create_directories(root + "/not-an-address/new");
  std::ofstream(root + "/carol@z.org/new/1700000000.M1P2.host") << "Subject: one\r\n\r\nx\r\n";
  std::ofstream(root + "/carol@z.org/cur/1700000001.M3P4.host:2,RS") << "Subject: two\r\n";
  std::ofstream(root + "/not-an-address/new/1.M1.host") << "skipped";
  auto env = open_store(options_for(dir.path()));
  std::uint64_t last_total = 0;
  auto r = import_maildir(*env, root, [&](auto, auto total) { last_total = total; });
  REQUIRE(r.has_value());
  CHECK(r->messages == 2);
  CHECK(last_total == 2);
  auto list = list_messages(*env, mailbox_of(*env, "carol@z.org"));
  REQUIRE(list->size() == 2);
  int seen_flags = 0;
  for (const auto& m : *list) {
    CHECK(m.unique_id != 0);
    if (m.flags & kFlagRetrieved) ++seen_flags;
  }
  CHECK(seen_flags == 1);
  CHECK((*list)[0].unique_id != (*list)[1].unique_id);
  CHECK(check_consistency(*env, true).has_value());
}

// Found by tests/fuzz/maildir_import: an id at the top of the range wrapped the sequence
// to 0, so the next message got an id again and the store failed its check.
TEST_CASE("a Maildir name with an id near 2^64 cannot wrap the unique-id sequence") {
  TempDir dir;
  const std::string root = dir.path() + "/maildir";
  fs::create_directories(root + "/dan@z.org/cur");
  std::ofstream(root + "/dan@z.org/cur/5.Pfffffffffffffffe.postern,S=1:2,") << "a";
  std::ofstream(root + "/dan@z.org/cur/6.Pffffffffffffffff.postern,S=1:2,S") << "b";
  std::ofstream(root + "/dan@z.org/cur/7.M1.host") << "c";
  std::ofstream(root + "/dan@z.org/cur/8.P4000000000000000.postern,S=1:2,") << "d";
  auto env = open_store(options_for(dir.path()));
  auto r = import_maildir(*env, root);
  REQUIRE(r.has_value());
  CHECK(r->messages == 4);
  CHECK(check_consistency(*env, true).has_value());
  auto list = list_messages(*env, mailbox_of(*env, "dan@z.org"));
  REQUIRE(list->size() == 4);
  std::set<std::uint64_t> ids;
  for (const auto& m : *list) {
    CHECK(m.unique_id != 0);
    CHECK(m.unique_id < kMaxRestoredUniqueId);
    ids.insert(m.unique_id);
  }
  CHECK(ids.size() == 4);
  CHECK(ids.count(0x4000000000000000ull) == 1);  // below the bound: restored
  // A later delivery still gets a fresh id above every one of them.
  REQUIRE(deliver_now(*env, request_to(memory_body("e"), {"dan@z.org"}, 9)));
  CHECK(check_consistency(*env, true).has_value());
}
