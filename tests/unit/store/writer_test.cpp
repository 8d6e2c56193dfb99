// Writer: group commit, job isolation, completion order, full maps.
#include "store/writer.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "store/check.h"
#include "store/spool.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::core::HeldExecutor;
using postern::core::InlineExecutor;
using postern::test::TempDir;

TEST_CASE("deliveries queued while a batch is in flight form one batch and one commit") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  HeldExecutor ex;
  Writer writer(*env, ex);
  std::vector<int> order;
  writer.deliver(request_to(memory_body("first"), {"a@x.org"}), [&](Result<DeliveryOutcome> r) {
    CHECK(r.has_value());
    order.push_back(0);
  });
  CHECK(ex.pending() == 1);  // batch 1 in flight
  for (int i = 1; i <= 10; ++i) {
    writer.deliver(request_to(memory_body("m" + std::to_string(i)), {"a@x.org"}),
                   [&, i](Result<DeliveryOutcome> r) {
                     CHECK(r.has_value());
                     order.push_back(i);
                   });
  }
  CHECK(ex.pending() == 1);
  CHECK(writer.queued() == 10);
  REQUIRE(ex.run_one());  // batch 1 commits; batch 2 (all ten) starts
  CHECK(writer.commits() == 1);
  CHECK(ex.pending() == 1);
  CHECK(writer.queued() == 0);
  REQUIRE(ex.run_one());
  CHECK(writer.commits() == 2);
  CHECK(writer.batches() == 2);
  CHECK(writer.idle());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(list_messages(*env, mailbox_of(*env, "a@x.org"))->size() == 11);
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a failing job in a batch does not abort the others") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  add_users(*env, {"tiny@x.org"}, 10);
  HeldExecutor ex;
  Writer writer(*env, ex);
  std::vector<std::string> results;
  auto record = [&](Result<DeliveryOutcome> r) {
    results.push_back(r ? "ok" : postern::core::to_string(r.error().code));
  };
  writer.submit<int>(
      [](WriteTxn& t) -> Result<int> {
        if (auto r = set_setting(t, "warmup", "1"); !r) return r.error();
        return 1;
      },
      [&](Result<int> r) { results.push_back(r ? "int" : "int-failed"); });
  writer.deliver(request_to(memory_body("to a"), {"a@x.org"}), record);
  writer.deliver(request_to(memory_body("far too large for tiny"), {"tiny@x.org", "a@x.org"}),
                 record);
  writer.submit<int>(
      [](WriteTxn& t) -> Result<int> {
        (void)set_setting(t, "half-written", "1");  // undone with its nested txn
        return postern::core::make_error(Errc::invalid, "test-job");
      },
      [&](Result<int> r) { results.push_back(r ? "int" : r.error().where); });
  writer.deliver(request_to(memory_body("to a again"), {"a@x.org"}), record);
  ex.run_all();
  CHECK(results == std::vector<std::string>{"int", "ok", "full", "test-job", "ok"});
  CHECK(writer.commits() == 2);
  CHECK(writer.full() == nullptr);  // a mailbox over quota is not a full store
  auto txn = env->begin_read();
  CHECK(get_setting(*txn, "warmup").has_value());
  CHECK(get_setting(*txn, "half-written").error().code == Errc::not_found);
  CHECK(list_messages(*txn, mailbox_of(*env, "a@x.org"))->size() == 2);
  CHECK(list_messages(*txn, mailbox_of(*env, "tiny@x.org"))->empty());
  CHECK(check_consistency(*env).has_value());
}

TEST_CASE("a spooled delivery through the writer removes the spool file after commit") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  add_users(*env, {"a@x.org", "b@x.org"});
  InlineExecutor ex;
  const std::string bytes = stored_form_bytes(3 * kChunkBytes + 17);
  Spool spool(o, ex, /*memory_limit=*/0);  // a file, whatever its size
  spool.append(bytes);
  std::optional<Result<DeliveryOutcome>> outcome;
  Writer writer(*env, ex);
  spool.finish([&](Result<SpooledBody> body) {
    REQUIRE(body.has_value());
    CHECK(std::filesystem::exists(body->path));
    writer.deliver(request_to(*body, {"a@x.org", "b@x.org"}),
                   [&](Result<DeliveryOutcome> r) { outcome = std::move(r); });
  });
  REQUIRE(outcome.has_value());
  REQUIRE(outcome->has_value());
  CHECK(std::filesystem::is_empty(o.data_dir + "/spool"));
  auto list = list_messages(*env, (*outcome)->delivered[1].mailbox_id);
  REQUIRE(list->size() == 1);
  CHECK(read_body(*env, (*list)[0].body, (*list)[0].size) == bytes);
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("a full map fails deliveries with full and the store stays usable") {
  TempDir dir;
  const Options o = options_for(dir.path(), 1u << 20);  // 1 MiB map
  auto env = open_store(o);
  add_users(*env, {"a@x.org"});
  InlineExecutor ex;
  Writer writer(*env, ex);
  int delivered = 0;
  std::optional<postern::core::Error> failure;
  for (std::uint32_t i = 0; i < 64 && !failure; ++i) {
    writer.deliver(request_to(memory_body(pattern_bytes(100'000, i + 1)), {"a@x.org"}),
                   [&](Result<DeliveryOutcome> r) {
                     if (r) {
                       ++delivered;
                     } else {
                       failure = r.error();
                     }
                   });
  }
  REQUIRE(failure.has_value());
  CHECK(failure->code == Errc::full);
  CHECK_FALSE(writer.failed());
  CHECK(delivered > 0);
  const std::uint64_t box = mailbox_of(*env, "a@x.org");
  auto list = list_messages(*env, box);
  REQUIRE(list.has_value());
  CHECK(list->size() == static_cast<std::size_t>(delivered));
  CHECK(read_body(*env, list->front().body, list->front().size) == pattern_bytes(100'000, 1));
  CHECK(check_consistency(*env, true).has_value());

  // Free space, then deliver again.
  std::vector<std::uint32_t> uids;
  for (const auto& m : *list) uids.push_back(m.uid);
  std::optional<Result<void>> deleted;
  writer.submit<void>([&](WriteTxn& t) { return delete_messages(t, box, uids); },
                      [&](Result<void> r) { deleted = r; });
  REQUIRE(deleted.has_value());
  CHECK(deleted->has_value());
  // LMDB reuses pages freed by txn T only from txn T + 2 on; while full, the Writer
  // follows each commit with a small one of its own, so no other write is needed.
  REQUIRE(writer.full() != nullptr);
  CHECK(writer.full()->sys == MDB_MAP_FULL);
  std::optional<Result<DeliveryOutcome>> again;
  writer.deliver(request_to(memory_body(pattern_bytes(100'000, 999)), {"a@x.org"}),
                 [&](Result<DeliveryOutcome> r) { again = std::move(r); });
  REQUIRE(again.has_value());
  CHECK(again->has_value());
  CHECK(writer.full() == nullptr);  // mail is stored again: the page stops saying full
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("completions may submit more work, which forms the next batch") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  HeldExecutor ex;
  Writer writer(*env, ex);
  int done = 0;
  writer.deliver(request_to(memory_body("1"), {"a@x.org"}), [&](Result<DeliveryOutcome> r) {
    CHECK(r.has_value());
    ++done;
    writer.deliver(request_to(memory_body("2"), {"a@x.org"}), [&](Result<DeliveryOutcome> r2) {
      CHECK(r2.has_value());
      ++done;
    });
  });
  ex.run_all();
  CHECK(done == 2);
  CHECK(writer.commits() == 2);
  CHECK(writer.idle());
}

TEST_CASE("a large body is staged one step per batch, and small deliveries do not wait") {
  TempDir dir;
  auto env = open_store(options_for(dir.path(), 256ull << 20));
  add_users(*env, {"a@x.org", "b@x.org"});
  HeldExecutor ex;
  Writer writer(*env, ex);
  const std::string bytes = pattern_bytes(2 * kStageChunks * kChunkBytes + 5);  // 33 chunks
  std::optional<Result<DeliveryOutcome>> big, small, later;
  writer.deliver(request_to(memory_body(bytes), {"a@x.org", "b@x.org"}),
                 [&](Result<DeliveryOutcome> r) { big = std::move(r); });
  writer.deliver(request_to(memory_body("small"), {"a@x.org"}),
                 [&](Result<DeliveryOutcome> r) { small = std::move(r); });
  REQUIRE(ex.run_one());  // stage chunks 0-15: that batch started before the small one came
  CHECK_FALSE(small.has_value());
  REQUIRE(ex.run_one());  // stage chunks 16-31, and the small delivery in the same commit
  {
    auto txn = env->begin_read();
    CHECK(entry_count(*txn, Db::chunks).value_or(0) == 2 * kStageChunks + 1);
    CHECK(entry_count(*txn, Db::bodies).value_or(9) == 1);  // the small one only
  }
  REQUIRE(small.has_value());
  CHECK(small->has_value());
  CHECK_FALSE(big.has_value());
  writer.deliver(request_to(memory_body("later"), {"b@x.org"}),
                 [&](Result<DeliveryOutcome> r) { later = std::move(r); });
  ex.run_all();  // stage chunk 32; then the later one and the large delivery, together
  REQUIRE(later.has_value());
  CHECK(later->has_value());
  CHECK(writer.commits() == 4);  // three staging steps, then the large delivery
  CHECK(writer.idle());
  REQUIRE(big.has_value());
  REQUIRE(big->has_value());
  auto list = list_messages(*env, (*big)->delivered[0].mailbox_id);
  REQUIRE(list->size() == 2);
  CHECK(read_body(*env, (*list)[1].body, (*list)[1].size) == bytes);  // after the small one
  CHECK(check_consistency(*env, true).has_value());
}

TEST_CASE("a failed commit that did not land is not fatal; one that may have landed is") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  HeldExecutor ex;
  // What the next commits do: fail before the meta page (nothing landed), or commit and
  // then report a failure (the outcome the caller sees is wrong: it landed).
  std::vector<std::pair<int, bool>> faults = {{ENOSPC, false}, {EIO, false}, {EIO, true}};
  Writer writer(*env, ex, [&](WriteTxn& txn) -> Result<void> {
    if (faults.empty()) return txn.commit();
    const auto [e, landed] = faults.front();
    faults.erase(faults.begin());
    if (landed) {
      if (auto r = txn.commit(); !r) return r;
    } else {
      txn.abort();  // as after a failed write(2) or fsync of data pages
    }
    return mdb_error(e, "commit");
  });
  std::vector<std::string> results;
  auto record = [&](Result<DeliveryOutcome> r) {
    results.push_back(r ? "ok" : postern::core::to_string(r.error().code));
  };
  writer.deliver(request_to(memory_body("1"), {"a@x.org"}), record);
  writer.deliver(request_to(memory_body("2"), {"a@x.org"}), record);  // next batch
  REQUIRE(ex.run_one());  // ENOSPC at commit: full, the writer carries on
  CHECK(results == std::vector<std::string>{"full"});
  CHECK_FALSE(writer.failed());
  REQUIRE(writer.full() != nullptr);
  CHECK(writer.full()->sys == ENOSPC);
  REQUIRE(ex.run_one());  // EIO, nothing landed (the disk has room): io, 451, not fatal
  CHECK(results == std::vector<std::string>{"full", "io"});
  CHECK_FALSE(writer.failed());
  writer.deliver(request_to(memory_body("3"), {"a@x.org"}), record);
  writer.deliver(request_to(memory_body("3b"), {"a@x.org"}), record);
  REQUIRE(ex.run_one());  // EIO after the batch landed: outcome unknown, latched
  CHECK(results == std::vector<std::string>{"full", "io", "fatal", "fatal"});
  REQUIRE(writer.failed());
  CHECK(writer.fatal_error().sys == EIO);
  CHECK(ex.pending() == 0);
  writer.deliver(request_to(memory_body("4"), {"a@x.org"}), record);  // refused at once
  CHECK(results.size() == 5);
  CHECK(results.back() == "fatal");
  bool ran = false;
  writer.submit<int>(
      [&](WriteTxn&) -> Result<int> {
        ran = true;
        return 1;
      },
      [&](Result<int> r) { CHECK(r.error().code == Errc::fatal); });
  ex.run_all();
  CHECK_FALSE(ran);
  CHECK(writer.commits() == 0);
  CHECK(list_messages(*env, mailbox_of(*env, "a@x.org"))->size() == 1);  // "3" landed
}
