// A password login's gate: in-flight checks and failure delays over core::Throttle.
#include "http/login_gate.h"

#include <algorithm>

namespace postern::http {

std::optional<core::Seconds> LoginGate::wait_for(Keys keys, core::TimePoint now) {
  auto wait = core::Seconds(0);
  bool refused = false;
  for (const std::string& key : keys) {
    if (checking_.count(key) != 0) {
      refused = true;
      wait = std::max(wait, core::Seconds(1));
    }
    if (auto it = not_before_.find(key); it != not_before_.end()) {
      if (now < it->second) {
        refused = true;
        wait = std::max(wait, std::chrono::ceil<core::Seconds>(it->second - now));
      } else {
        not_before_.erase(it);
      }
    }
  }
  if (!refused) return std::nullopt;
  return wait;
}

void LoginGate::begin(Keys keys) {
  for (const std::string& key : keys) checking_.insert(key);
}

void LoginGate::end(Keys keys) {
  for (const std::string& key : keys) checking_.erase(key);
}

void LoginGate::failed(Keys keys, core::TimePoint now) {
  // The delay only grows with a failure (throttle.h), so the one read after
  // recording is the longest.
  auto delay = core::Seconds(0);
  for (const std::string& key : keys) throttle_.record_failure(key, now);
  for (const std::string& key : keys) delay = std::max(delay, throttle_.delay_for(key, now));
  if (delay.count() <= 0) return;
  const std::size_t max_keys = throttle_.policy().max_keys;
  // Bounded like the throttle: forget waits that have already passed.
  if (not_before_.size() + keys.size() > max_keys) {
    std::erase_if(not_before_, [now](const auto& e) { return e.second <= now; });
  }
  if (not_before_.size() + keys.size() > max_keys) return;
  for (const std::string& key : keys) not_before_[key] = now + delay;
}

void LoginGate::succeeded(const std::string& key) {
  throttle_.record_success(key);
  not_before_.erase(key);
}

}  // namespace postern::http
