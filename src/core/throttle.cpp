// Login throttle: failure counts with decay, exponential delay, bounded LRU table.
#include "core/throttle.h"

#include <algorithm>

namespace postern::core {

Throttle::Throttle(ThrottlePolicy policy) : policy_(policy) {
  if (policy_.max_keys == 0) policy_.max_keys = 1;
  if (policy_.quiet_period <= Seconds(0)) policy_.quiet_period = Seconds(1);
}

std::uint32_t Throttle::decayed(const Entry& entry, TimePoint now) const {
  if (now <= entry.last_failure) return entry.failures;
  const auto quiet = std::chrono::duration_cast<Seconds>(now - entry.last_failure);
  const auto periods = static_cast<std::uint64_t>(quiet / policy_.quiet_period);
  return periods >= entry.failures ? 0 : entry.failures - static_cast<std::uint32_t>(periods);
}

Seconds Throttle::delay_from_failures(std::uint32_t failures) const {
  if (failures <= policy_.free_failures) return Seconds(0);
  const std::uint32_t steps = failures - policy_.free_failures - 1;
  Seconds delay = policy_.first_delay;
  for (std::uint32_t i = 0; i < steps && delay < policy_.max_delay; ++i) delay *= 2;
  return std::min(delay, policy_.max_delay);
}

void Throttle::record_failure(std::string_view key, TimePoint now) {
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_keys) {
      entries_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.emplace_front(key);
    it = entries_.emplace(recency_.front(), Entry{0, now, recency_.begin()}).first;
  } else {
    recency_.splice(recency_.begin(), recency_, it->second.order);
  }
  Entry& entry = it->second;
  entry.failures = decayed(entry, now);
  // Saturate well below overflow; the delay is capped long before this.
  if (entry.failures < 1'000'000) ++entry.failures;
  entry.last_failure = std::max(entry.last_failure, now);
}

void Throttle::record_success(std::string_view key) {
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return;
  recency_.erase(it->second.order);
  entries_.erase(it);
}

std::uint32_t Throttle::failures(std::string_view key, TimePoint now) const {
  auto it = entries_.find(std::string(key));
  return it == entries_.end() ? 0 : decayed(it->second, now);
}

Seconds Throttle::delay_for(std::string_view key, TimePoint now) const {
  return delay_from_failures(failures(key, now));
}

}  // namespace postern::core
