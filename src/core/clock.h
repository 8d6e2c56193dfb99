// Time as an input: sessions and policies read a Clock, never the system time,
// so windows and timeouts are tested by advancing a ManualClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace postern::core {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

struct Clock {
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// Tests only: time moves when the test says so.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(Seconds(1'700'000'000))) : now_(start) {}
  TimePoint now() const override { return now_; }
  void advance(std::chrono::system_clock::duration d) { now_ += d; }

 private:
  TimePoint now_;
};

inline std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<Seconds>(t.time_since_epoch()).count();
}
inline TimePoint from_unix_seconds(std::int64_t s) {
  return TimePoint(Seconds(s));
}

// The unix time of the last local midnight at or before `unix_time`: "today"
// on the status page is the owner's day, not UTC's.
inline std::int64_t local_midnight(std::int64_t unix_time) {
  std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm));
}

}  // namespace postern::core
