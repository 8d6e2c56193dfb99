// A login throttle: per-key failure counts turned into a growing delay, pure and Clock-driven.
//
// Typical use by the POP3 glue (the session never sleeps, RFC 1939 §4 leaves the delay to
// the server): when a password check for (ip, user) completes, call
//   delay = max(delay_for(ip_key, now), delay_for(user_key, now));
//   on failure: record_failure(ip_key, now); record_failure(user_key, now);
//   on success: record_success(user_key);   // the IP keeps its record: one good account
//                                            // must not unlock guessing at the others
// and hand the answer to Session::on_password_checked() only after `delay` (a uv timer).
// Keys are opaque strings; prefix them ("ip:", "user:") so the two spaces never collide.
//
// Thread affinity: none inside; the owner uses it from the loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace postern::core {

struct ThrottlePolicy {
  // Failures answered without any delay: a mistyped password is not an attack.
  std::uint32_t free_failures = 1;
  // Delay after the first failure beyond free_failures; doubles with each further one.
  Seconds first_delay{1};
  Seconds max_delay{60};
  // Each full quiet period since the last failure forgets one failure, so the delay halves.
  Seconds quiet_period{std::chrono::minutes(5)};
  // Table bound: an attacker rotating addresses evicts the least recently failed keys
  // instead of growing memory on a 64 MiB router.
  std::size_t max_keys = 4096;
};

class Throttle {
 public:
  explicit Throttle(ThrottlePolicy policy = {});

  // Counts one failed login for `key` at `now` (decay applied first).
  void record_failure(std::string_view key, TimePoint now);
  // Forgets `key` entirely.
  void record_success(std::string_view key);
  // The delay to impose on the next answer for `key`; zero for unknown keys.
  Seconds delay_for(std::string_view key, TimePoint now) const;
  // Failures still counted for `key` at `now`, after decay (for logs and tests).
  std::uint32_t failures(std::string_view key, TimePoint now) const;

  std::size_t size() const { return entries_.size(); }
  const ThrottlePolicy& policy() const { return policy_; }

 private:
  struct Entry {
    std::uint32_t failures = 0;
    TimePoint last_failure{};
    std::list<std::string>::iterator order;  // position in recency_
  };
  std::uint32_t decayed(const Entry& entry, TimePoint now) const;
  Seconds delay_from_failures(std::uint32_t failures) const;

  ThrottlePolicy policy_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // front: most recently failed; back: evicted first
};

}  // namespace postern::core
