// The in-memory session table.
#include "http/sessions.h"

#include <utility>

namespace postern::http {

Sessions::Sessions(std::function<std::string()> token, std::chrono::seconds idle_limit,
                   std::size_t max_sessions)
    : token_(std::move(token)), idle_limit_(idle_limit), max_sessions_(max_sessions) {}

SessionInfo Sessions::create(core::TimePoint now, std::string subject) {
  // Drop expired sessions first, then the least recently used one if still full.
  for (auto it = table_.begin(); it != table_.end();) {
    it = now - it->second.last_seen > idle_limit_ ? table_.erase(it) : std::next(it);
  }
  while (!table_.empty() && table_.size() >= max_sessions_) {
    auto oldest = table_.begin();
    for (auto it = table_.begin(); it != table_.end(); ++it) {
      if (it->second.last_seen < oldest->second.last_seen) oldest = it;
    }
    table_.erase(oldest);
  }
  SessionInfo info{token_(), token_(), std::move(subject)};
  table_[info.id] = Entry{info.csrf, info.subject, now};
  return info;
}

std::optional<SessionInfo> Sessions::touch(const std::string& id, core::TimePoint now) {
  auto it = table_.find(id);
  if (it == table_.end()) return std::nullopt;
  if (now - it->second.last_seen > idle_limit_) {
    table_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return SessionInfo{id, it->second.csrf, it->second.subject};
}

void Sessions::remove(const std::string& id) {
  table_.erase(id);
}

}  // namespace postern::http
