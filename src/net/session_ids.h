// net::SessionIds: the ids that tie a session's log lines together, unique across restarts:
// the server's start time, then a counter, both in hex ("6570a1c01", "6570a1c02", ...).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace postern::net {

class SessionIds {
 public:
  explicit SessionIds(std::uint64_t started_at_unix_seconds)
      : started_at_(started_at_unix_seconds) {}
  std::string next() {
    char id[40];
    std::snprintf(id, sizeof id, "%llx%llx", static_cast<unsigned long long>(started_at_),
                  static_cast<unsigned long long>(next_++));
    return id;
  }

 private:
  std::uint64_t started_at_;
  std::uint64_t next_ = 1;
};

}  // namespace postern::net
