// Page sessions (the admin's, or a mailbox owner's in a second table): random ids with a CSRF token
// each, idle expiry, a bounded table.
//
// Kept in memory only: a restart logs the owner out, and no session secret ever
// touches the disk. Thread affinity: none inside; the owner (Api) uses it from
// the loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"

namespace postern::http {

struct SessionInfo {
  std::string id;       // the cookie value, 128 random bits in hex
  std::string csrf;     // sent by the page as X-CSRF-Token on every change
  std::string subject;  // whose session: empty for the admin, else the mailbox address
};

class Sessions {
 public:
  // `token` returns 32 hex digits (128 random bits) per call.
  Sessions(std::function<std::string()> token, std::chrono::seconds idle_limit,
           std::size_t max_sessions);

  // A new session; the least recently used one goes when the table is full.
  SessionInfo create(core::TimePoint now, std::string subject = {});
  // The live session with this id, its idle timer restarted; nullopt when
  // unknown or idle longer than the limit (then it is removed).
  std::optional<SessionInfo> touch(const std::string& id, core::TimePoint now);
  void remove(const std::string& id);
  std::size_t size() const { return table_.size(); }

 private:
  struct Entry {
    std::string csrf;
    std::string subject;
    core::TimePoint last_seen;
  };
  std::function<std::string()> token_;
  std::chrono::seconds idle_limit_;
  std::size_t max_sessions_;
  std::map<std::string, Entry> table_;
};

}  // namespace postern::http
