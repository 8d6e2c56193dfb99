// The housekeeping timer: Writer jobs every few minutes, never blocking the loop.
#include "app/housekeeping.h"

#include <cinttypes>

#include "core/log.h"
#include "store/ledger.h"

namespace postern::app {
namespace {
// Often enough that the ledger never holds much past the window; each run is
// a few bounded write jobs, each in the next group commit.
constexpr std::chrono::milliseconds kInterval = std::chrono::minutes(10);
}  // namespace

Housekeeping::Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
                           const Settings& settings)
    : writer_(writer), clock_(clock), settings_(settings), timer_(loop) {
  timer_.start(kInterval, kInterval, [this] { run_now(); });
  // The timer must not keep a stopping loop alive.
  timer_.unref();
}

Housekeeping::~Housekeeping() {
  if (run_) run_->stopped = true;
}

void Housekeeping::run_now() {
  if (running() || writer_.failed()) return;
  run_ = std::make_shared<Run>();
  run_->writer = &writer_;
  run_->before = core::unix_seconds(clock_.now() - settings_.dedup_window);
  submit_slice(run_);
}

// One slice per job: the next is submitted from this one's completion, so it
// joins the batch of the deliveries queued meanwhile.
void Housekeeping::submit_slice(const std::shared_ptr<Run>& run) {
  const std::int64_t before = run->before;
  run->writer->submit<store::ExpireSlice>(
      [before](store::WriteTxn& txn) { return store::expire_dedup_slice(txn, before); },
      [run](core::Result<store::ExpireSlice> slice) {
        if (!slice) {
          run->done = true;
          POSTERN_LOG_WARN("app event=housekeeping-failed reason=%s",
                           core::to_string(slice.error().code));
          return;
        }
        run->expired += slice->rows;
        ++run->slices;
        if (slice->more && !run->stopped && !run->writer->failed()) {
          submit_slice(run);
          return;
        }
        run->done = true;
        if (run->expired > 0) {
          POSTERN_LOG_INFO("app event=dedup-expired rows=%" PRIu64 " slices=%" PRIu64, run->expired,
                           run->slices);
        }
      });
}

}  // namespace postern::app
