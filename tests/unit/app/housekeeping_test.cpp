// Housekeeping: ledger expiry as one Writer job per bounded slice, on a ManualClock.
#include "app/housekeeping.h"

#include <doctest/doctest.h>
#include <uv.h>

#include <memory>

#include "core/executor.h"
#include "store/catalogue.h"
#include "store/ledger.h"
#include "test_support.h"

using namespace postern;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<store::Env> env;
  core::HeldExecutor executor;
  std::unique_ptr<store::Writer> writer;
  core::ManualClock clock;
  app::Settings settings;
  uv_loop_t loop{};
  std::uint64_t box = 0;

  Fixture() {
    uv_loop_init(&loop);
    store::Options o;
    o.data_dir = dir.path() + "/data";
    o.map_bytes = 64ull << 20;
    auto e = store::Env::open(o);
    REQUIRE(e.has_value());
    env = std::move(*e);
    auto user = store::run_write(*env, [](store::WriteTxn& t) -> core::Result<store::UserInfo> {
      if (auto d = store::add_domain(t, "x.org"); !d) return d.error();
      return store::add_user(t, "a@x.org", "!");
    });
    REQUIRE(user.has_value());
    box = user->record.mailbox_id;
    writer = std::make_unique<store::Writer>(*env, executor);
  }
  ~Fixture() {
    uv_run(&loop, UV_RUN_NOWAIT);  // frees the timer handle
    uv_loop_close(&loop);
  }

  void put_rows(std::uint32_t first, std::uint32_t count, std::int64_t at) {
    REQUIRE(store::run_write(*env, [&](store::WriteTxn& t) -> core::Result<void> {
      for (std::uint32_t i = first; i < first + count; ++i) {
        store::Fingerprint fp{};
        fp[0] = static_cast<std::uint8_t>(i >> 8);
        fp[1] = static_cast<std::uint8_t>(i);
        if (auto r = store::put_dedup(t, box, fp, store::DedupRecord{at, i}); !r) return r;
      }
      return {};
    }));
  }
  std::uint64_t rows() {
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    return store::entry_count(*txn, store::Db::dedup).value_or(0);
  }
};

}  // namespace

TEST_CASE("a housekeeping run expires the window's old rows one bounded slice per Writer job") {
  Fixture f;
  const std::int64_t now = core::unix_seconds(f.clock.now());
  const std::uint32_t old_rows = 2 * static_cast<std::uint32_t>(store::kExpireSliceEntries) + 10;
  f.put_rows(0, old_rows, now - 121 * 3600);  // past the 120-hour default window
  f.put_rows(old_rows, 5, now - 119 * 3600);  // still inside it
  {
    app::Housekeeping hk(&f.loop, *f.writer, f.clock, f.settings);
    hk.run_now();
    CHECK(hk.running());
    // Each executor job is one batch holding one slice; the next slice is
    // submitted only when the previous one completed.
    int batches = 0;
    while (f.executor.run_one()) ++batches;
    CHECK(batches >= 3);
    CHECK_FALSE(hk.running());
    CHECK(f.rows() == 5);
    // A run while none is going starts again; nothing is due now.
    hk.run_now();
    f.executor.run_all();
    CHECK(f.rows() == 5);
    // Two hours on, the remaining rows are past the window.
    f.clock.advance(std::chrono::hours(2));
    hk.run_now();
    f.executor.run_all();
    CHECK(f.rows() == 0);
  }
  f.executor.run_all();
  CHECK(f.writer->idle());
}

TEST_CASE("housekeeping destroyed mid-run submits no further slice") {
  Fixture f;
  const std::int64_t now = core::unix_seconds(f.clock.now());
  f.put_rows(0, 3 * static_cast<std::uint32_t>(store::kExpireSliceEntries), now - 200 * 3600);
  {
    app::Housekeeping hk(&f.loop, *f.writer, f.clock, f.settings);
    hk.run_now();
    hk.run_now();  // one run at a time: this one is ignored
    CHECK(f.executor.pending() == 1);
  }
  // The slice queued before the destruction still runs and completes safely.
  f.executor.run_all();
  CHECK(f.writer->idle());
  const std::uint64_t left = f.rows();
  CHECK(left > 0);
  CHECK(left < 3 * store::kExpireSliceEntries);
}
