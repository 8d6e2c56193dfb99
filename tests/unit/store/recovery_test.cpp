// Open-time recovery: staged chunks and spool files a crash left behind.
#include "store/recovery.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "store/check.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

TEST_CASE("opening without recovery leaves the spool folder alone") {
  TempDir dir;
  Options o = options_for(dir.path());
  // The CLI beside a running server: it never runs recovery.
  { auto env = open_store(o, false); }
  { std::ofstream(o.data_dir + "/spool/body-in-use") << "being received"; }
  auto env = open_store(o, false);
  CHECK(std::filesystem::exists(o.data_dir + "/spool/body-in-use"));
}

TEST_CASE("opening with recovery empties the spool folder") {
  TempDir dir;
  const Options o = options_for(dir.path());
  { auto env = open_store(o); }
  { std::ofstream(o.data_dir + "/spool/body-left-over") << "half a message"; }
  auto env = open_store(o);
  CHECK(std::filesystem::is_directory(o.data_dir + "/spool"));
  CHECK(std::filesystem::is_empty(o.data_dir + "/spool"));
}

TEST_CASE("chunks staged by a delivery that never committed are dropped at recovery") {
  TempDir dir;
  const Options o = options_for(dir.path());
  {
    auto env = open_store(o);
    SpooledBody body = memory_body(pattern_bytes(3 * kStageChunks * kChunkBytes));
    REQUIRE(run_write(*env, [&](WriteTxn& t) { return stage_chunks(t, body, 0, kStageChunks); }));
    auto r = check_consistency(*env);  // staged chunks are not corruption
    REQUIRE(r.has_value());
    CHECK(r->staged_chunks == kStageChunks);
  }
  {
    auto env = open_store(o, /*recover=*/false);  // the CLI must not touch a delivery in progress
    auto txn = env->begin_read();
    CHECK(entry_count(*txn, Db::chunks).value_or(0) == kStageChunks);
  }
  auto env = open_store(o);
  auto txn = env->begin_read();
  CHECK(entry_count(*txn, Db::chunks).value_or(1) == 0);
  auto r = check_consistency(*env);
  REQUIRE(r.has_value());
  CHECK(r->staged_chunks == 0);
}
