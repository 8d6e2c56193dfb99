// A password login's gate: refuses a new attempt while one is being checked or
// while a failure's delay runs (429 with Retry-After), over core::Throttle.
//
// The page's two logins use one each: the admin's keyed by "ip:<peer>", a mailbox
// owner's by "ip:<peer>" and "user:<address>" (POP3's keys, core/throttle.h).
// Typical sequence per attempt:
//   if (auto wait = gate.wait_for(keys, now)) return 429 with *wait;
//   gate.begin(keys);                      // PBKDF2 on the pool ...
//   gate.end(keys);                        // ... when it answers, then one of
//   gate.failed(keys, now);  or  gate.succeeded(key_to_forget);
// Pure and Clock-driven; loop thread only. Memory is bounded by the policy's max_keys.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/throttle.h"

namespace postern::http {

class LoginGate {
 public:
  using Keys = std::initializer_list<std::string>;

  explicit LoginGate(core::ThrottlePolicy policy) : throttle_(policy) {}

  // nullopt when an attempt for `keys` may start now; else how long to wait (at
  // least a second while a check for one of them is in flight). Forgets waits
  // that have passed.
  std::optional<core::Seconds> wait_for(Keys keys, core::TimePoint now);
  void begin(Keys keys);  // a check is in flight for each key
  void end(Keys keys);    // ... and no more
  // Counts a failure for each key; the next attempt for any of them waits the
  // throttle's delay.
  void failed(Keys keys, core::TimePoint now);
  // Forgets `key`'s failures and wait (a success; the other keys keep theirs).
  void succeeded(const std::string& key);

 private:
  core::Throttle throttle_;
  std::unordered_map<std::string, core::TimePoint> not_before_;  // per key, after a failure
  std::unordered_set<std::string> checking_;                     // keys with a check in flight
};

}  // namespace postern::http
