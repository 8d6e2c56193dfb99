// Spool: buffering, backpressure, hashing, small bodies in memory, cleanup.
#include "store/spool.h"
#include "store/body_key.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::core::HeldExecutor;
using postern::core::InlineExecutor;
using postern::test::TempDir;

namespace {

std::size_t spool_files(const Options& o) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(o.data_dir + "/spool")) {
    (void)e;
    ++n;
  }
  return n;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a small body stays in memory and no file is made") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  InlineExecutor ex;
  Spool spool(o, ex);
  spool.append("Subject: hi\r\n\r\n");
  spool.append("body\r\n");
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->in_memory());
  CHECK((*got)->memory == "Subject: hi\r\n\r\nbody\r\n");
  CHECK((*got)->size == 21);
  CHECK((*got)->hash == body_key("Subject: hi\r\n\r\nbody\r\n"));
  CHECK(spool_files(o) == 0);
}

TEST_CASE("a small tail is hashed by finish itself; a larger one on the pool") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  HeldExecutor ex;
  SUBCASE("at the inline limit: done before finish returns, no job") {
    const std::string bytes = stored_form_bytes(Spool::kInlineHashBytes);
    Spool spool(o, ex);
    spool.append(bytes);
    std::optional<Result<SpooledBody>> got;
    spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
    CHECK(ex.pending() == 0);
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->memory == bytes);
    CHECK((*got)->hash == body_key(bytes));
    BodyKeyHasher hasher;
    hasher.update(bytes);
    CHECK((*got)->rest_digest == hasher.finish().rest_digest);
  }
  SUBCASE("over it: one pool job, done after it") {
    const std::string bytes = stored_form_bytes(Spool::kInlineHashBytes + 2);
    Spool spool(o, ex);
    spool.append(bytes);
    std::optional<Result<SpooledBody>> got;
    spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
    CHECK_FALSE(got.has_value());
    CHECK(ex.pending() == 1);
    ex.run_all();
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->hash == body_key(bytes));
  }
}

TEST_CASE("a body over the memory limit is written to one spool file with its SHA-256") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  InlineExecutor ex;
  const std::string bytes = stored_form_bytes(5 * Spool::kBufferBytes + 123);
  Spool spool(o, ex, /*memory_limit=*/0);
  for (std::size_t at = 0; at < bytes.size(); at += 1000) {
    spool.append(std::string_view(bytes).substr(at, 1000));
  }
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK_FALSE((*got)->in_memory());
  CHECK((*got)->size == bytes.size());
  CHECK((*got)->hash == body_key(bytes));
  CHECK(slurp((*got)->path) == bytes);
  CHECK(spool_files(o) == 1);
}

TEST_CASE("wants_more turns false with two buffers outstanding and back true after a write") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  HeldExecutor ex;
  Spool spool(o, ex, /*memory_limit=*/0);
  int writable_calls = 0;
  spool.set_on_writable([&] { ++writable_calls; });
  const std::string buf(Spool::kBufferBytes, 'x');  // no line end: finish adds CRLF
  spool.append(buf);                                // first buffer: submitted
  CHECK(ex.pending() == 1);
  CHECK(spool.wants_more());
  spool.append(buf);         // second buffer: queued behind the first
  CHECK(ex.pending() == 1);  // one write at a time, in order
  CHECK_FALSE(spool.wants_more());
  REQUIRE(ex.run_one());  // first write done: second submitted
  CHECK(spool.wants_more());
  CHECK(writable_calls == 1);
  CHECK(ex.pending() == 1);
  ex.run_all();
  CHECK(writable_calls == 1);
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  CHECK_FALSE(got.has_value());  // completion comes through the executor
  ex.run_all();
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->size == 2 * Spool::kBufferBytes + 2);
  CHECK((*got)->hash == body_key(buf + buf + "\r\n"));
}

TEST_CASE("a spool destroyed before finishing removes its file") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  HeldExecutor ex;
  {
    Spool spool(o, ex, /*memory_limit=*/0);
    spool.append(pattern_bytes(3 * Spool::kBufferBytes));
    ex.run_one();  // the file exists now, a second write is in flight
    CHECK(spool_files(o) == 1);
    spool.append("more");
  }
  ex.run_all();
  CHECK(spool_files(o) == 0);
}

TEST_CASE("after a failed write the spool drops further input without pausing it") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  std::filesystem::remove_all(o.data_dir + "/spool");  // the file cannot be made: ENOENT
  HeldExecutor ex;
  Spool spool(o, ex, /*memory_limit=*/0);
  int writable_calls = 0;
  spool.set_on_writable([&] { ++writable_calls; });
  const std::string buf(Spool::kBufferBytes, 'x');
  spool.append(buf);
  spool.append(buf);
  CHECK_FALSE(spool.wants_more());
  REQUIRE(ex.run_one());  // the create fails
  CHECK(writable_calls == 1);
  for (int i = 0; i < 10; ++i) {  // a disk-full DATA goes on: nothing piles up, no pause
    spool.append(buf);
    CHECK(spool.wants_more());
    CHECK(ex.pending() == 0);
  }
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  ex.run_all();
  REQUIRE(got.has_value());
  REQUIRE_FALSE(got->has_value());
  CHECK(got->error().where == std::string_view("spool-create"));
}

TEST_CASE("a 100 KB body stays in memory, hashed buffer by buffer, and leases its bytes") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  HeldExecutor ex;
  const std::uint64_t before = Spool::memory_in_use();
  const std::string bytes = stored_form_bytes(100 * 1024);
  std::optional<Result<SpooledBody>> got;
  {
    Spool spool(o, ex);
    for (std::size_t at = 0; at < bytes.size(); at += 1000) {
      spool.append(std::string_view(bytes).substr(at, 1000));
    }
    CHECK(ex.pending() == 1);  // the first full buffer is hashed while the rest arrives
    spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
    ex.run_all();
  }
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK((*got)->in_memory());
  CHECK((*got)->memory == bytes);
  CHECK((*got)->hash == body_key(bytes));
  CHECK(spool_files(o) == 0);
  CHECK(Spool::memory_in_use() == before + bytes.size());  // leased until the body goes
  got.reset();                                             // the store is done with it
  CHECK(Spool::memory_in_use() == before);
}

TEST_CASE("a body growing past the memory limit goes to a file with every byte kept so far") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  InlineExecutor ex;
  const std::uint64_t before = Spool::memory_in_use();
  const std::string bytes =
      stored_form_bytes(Spool::kMemoryBodyBytes + 3 * Spool::kBufferBytes / 2);
  Spool spool(o, ex);
  for (std::size_t at = 0; at < bytes.size(); at += 4000) {
    spool.append(std::string_view(bytes).substr(at, 4000));
  }
  std::optional<Result<SpooledBody>> got;
  spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
  REQUIRE(got.has_value());
  REQUIRE(got->has_value());
  CHECK_FALSE((*got)->in_memory());
  CHECK(slurp((*got)->path) == bytes);
  CHECK((*got)->hash == body_key(bytes));
  CHECK(Spool::memory_in_use() == before);
}

TEST_CASE("with the memory budget spent, further bodies go to files") {
  TempDir dir;
  const Options o = options_for(dir.path());
  auto env = open_store(o);
  InlineExecutor ex;
  const std::string bytes = stored_form_bytes(200 * 1024);
  std::vector<SpooledBody> held;
  std::size_t files = 0;
  const std::size_t n = Spool::kMemoryBudgetBytes / bytes.size() + 4;
  for (std::size_t i = 0; i < n; ++i) {
    Spool spool(o, ex);
    spool.append(bytes);
    std::optional<Result<SpooledBody>> got;
    spool.finish([&](Result<SpooledBody> b) { got = std::move(b); });
    REQUIRE(got.has_value());
    REQUIRE(got->has_value());
    CHECK((*got)->hash == body_key(bytes));
    if (!(*got)->in_memory()) {
      ++files;
      CHECK(slurp((*got)->path) == bytes);
    }
    CHECK(Spool::memory_in_use() <= Spool::kMemoryBudgetBytes);
    held.push_back(std::move(**got));
  }
  CHECK(files >= 4);
  CHECK(files < n);
  held.clear();
  CHECK(Spool::memory_in_use() == 0);
}
