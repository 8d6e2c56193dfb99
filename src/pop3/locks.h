// The process-wide maildrop lock table: one POP3 session per mailbox at a time (RFC 1939 §8).
//
// RFC 1939 §8 lets a server refuse a second session on a locked maildrop; RFC 2449 §8.1
// names the reply "-ERR [IN-USE]". The table also remembers when each mailbox was last
// locked, for Limits::login_delay (RFC 2449 §6.5).
//
// Thread affinity: loop thread only. Ownership: the pop3::Server creates it and every
// Conversation shares it (std::shared_ptr), so a session that outlives the server can still
// release its lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"

namespace postern::pop3 {

class LockTable {
 public:
  // True when `mailbox_id` was free and is now held by the caller, who must unlock() it.
  bool try_lock(std::uint64_t mailbox_id, core::TimePoint now);
  // REQUIRES: the caller holds the lock.
  void unlock(std::uint64_t mailbox_id);
  bool locked(std::uint64_t mailbox_id) const { return held_.count(mailbox_id) != 0; }
  std::size_t size() const { return held_.size(); }
  // When the mailbox was last locked by this process; nullopt if never.
  std::optional<core::TimePoint> last_locked(std::uint64_t mailbox_id) const;

 private:
  std::unordered_set<std::uint64_t> held_;
  // Bounded by the number of mailboxes: one entry per user who ever logged in.
  std::unordered_map<std::uint64_t, core::TimePoint> last_locked_;
};

// One held lock, released by the destructor or release(). Move-only.
class MaildropLock {
 public:
  MaildropLock() = default;
  MaildropLock(std::shared_ptr<LockTable> table, std::uint64_t mailbox_id)
      : table_(std::move(table)), mailbox_id_(mailbox_id) {}
  ~MaildropLock() { release(); }
  MaildropLock(MaildropLock&& other) noexcept
      : table_(std::move(other.table_)), mailbox_id_(other.mailbox_id_) {}
  MaildropLock& operator=(MaildropLock&& other) noexcept;
  MaildropLock(const MaildropLock&) = delete;
  MaildropLock& operator=(const MaildropLock&) = delete;

  bool held() const { return table_ != nullptr; }
  std::uint64_t mailbox_id() const { return mailbox_id_; }
  void release();

 private:
  std::shared_ptr<LockTable> table_;  // null when nothing is held
  std::uint64_t mailbox_id_ = 0;
};

}  // namespace postern::pop3
