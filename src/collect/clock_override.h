// collect::CollectClock: the collector's clock, which a TEST may move forward.
//
// TEST-ONLY: when the environment variable POSTERN_TEST_CLOCK_OFFSET_S holds a
// whole number of seconds, the collector reads "now" as the system time plus
// that offset: the time a mail is recorded as collected, the "delete from the
// server after N days" check and the run status. The end-to-end tests use it
// to show that only mails collected N days ago are deleted, without waiting
// days (tests/e2e/collect_delete_e2e.py). Nothing else in postern reads it, and
// an owner has no reason to set it; when set, the collector logs a warning.
#pragma once

#include <cstdlib>
#include <string>

#include "core/clock.h"
#include "core/log.h"

namespace postern::collect {

inline constexpr const char* kTestClockOffsetVariable = "POSTERN_TEST_CLOCK_OFFSET_S";

class CollectClock final : public core::Clock {
 public:
  // Borrows `base`, which outlives the clock.
  explicit CollectClock(const core::Clock& base) : base_(base) {
    const char* text = std::getenv(kTestClockOffsetVariable);
    if (text == nullptr || *text == '\0') return;
    char* end = nullptr;
    const long long seconds = std::strtoll(text, &end, 10);
    if (end == nullptr || *end != '\0') return;
    offset_ = core::Seconds(seconds);
    POSTERN_LOG_WARN("collect event=test-clock offset_s=%lld (POSTERN_TEST_CLOCK_OFFSET_S)",
                     seconds);
  }
  core::TimePoint now() const override { return base_.now() + offset_; }

 private:
  const core::Clock& base_;
  core::Seconds offset_{0};
};

}  // namespace postern::collect
