// The housekeeping timer: a Writer job every few minutes, never blocking the loop.
#include "app/housekeeping.h"

#include <cinttypes>

#include "core/log.h"
#include "dedup/policy.h"

namespace postern::app {
namespace {
// Often enough that the ledger never holds much past the window; each run is
// one small write job in the next group commit.
constexpr std::uint64_t kIntervalMs = 10 * 60 * 1000;
}  // namespace

Housekeeping::Housekeeping(uv_loop_t* loop, store::Writer& writer, const core::Clock& clock,
                           const Settings& settings)
    : writer_(writer), clock_(clock), settings_(settings), timer_(new uv_timer_t) {
  uv_timer_init(loop, timer_);
  timer_->data = this;
  uv_timer_start(timer_, &Housekeeping::on_timer, kIntervalMs, kIntervalMs);
  // The timer must not keep a stopping loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
}

Housekeeping::~Housekeeping() {
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

void Housekeeping::on_timer(uv_timer_t* timer) noexcept {
  if (auto* self = static_cast<Housekeeping*>(timer->data)) self->run_now();
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
