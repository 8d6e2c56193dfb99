// The housekeeping timer: a Writer job every few minutes, never blocking the loop.
#include "app/housekeeping.h"

#include <cinttypes>

#include "core/log.h"
#include "dedup/policy.h"

namespace postern::app {
namespace {
// Often enough that the ledger never holds much past the window; each run is
// one small write job in the next group commit.
constexpr std::chrono::milliseconds kInterval = std::chrono::minutes(10);
}  // namespace

Housekeeping::Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
                           const Settings& settings)
    : writer_(writer), clock_(clock), settings_(settings), timer_(loop) {
  timer_.start(kInterval, kInterval, [this] { run_now(); });
  // The timer must not keep a stopping loop alive.
  timer_.unref();
}

void Housekeeping::run_now() {
  if (writer_.failed()) return;
  writer_.submit<std::uint64_t>(dedup::housekeeping_job(settings_.dedup_window, clock_.now()),
                                [](core::Result<std::uint64_t> expired) {
                                  if (!expired) {
                                    POSTERN_LOG_WARN("app event=housekeeping-failed reason=%s",
                                                     core::to_string(expired.error().code));
                                  } else if (*expired > 0) {
                                    POSTERN_LOG_INFO("app event=dedup-expired rows=%" PRIu64,
                                                     *expired);
                                  }
                                });
}

}  // namespace postern::app
