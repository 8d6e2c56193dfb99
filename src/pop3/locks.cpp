// The maildrop lock table and its RAII lock.
#include "pop3/locks.h"

namespace postern::pop3 {

bool LockTable::try_lock(std::uint64_t mailbox_id, core::TimePoint now) {
  if (!held_.insert(mailbox_id).second) return false;
  last_locked_[mailbox_id] = now;
  return true;
}

void LockTable::unlock(std::uint64_t mailbox_id) {
  held_.erase(mailbox_id);
}

std::optional<core::TimePoint> LockTable::last_locked(std::uint64_t mailbox_id) const {
  auto it = last_locked_.find(mailbox_id);
  if (it == last_locked_.end()) return std::nullopt;
  return it->second;
}

MaildropLock& MaildropLock::operator=(MaildropLock&& other) noexcept {
  if (this != &other) {
    release();
    table_ = std::move(other.table_);
    mailbox_id_ = other.mailbox_id_;
  }
  return *this;
}

void MaildropLock::release() {
  if (table_ == nullptr) return;
  table_->unlock(mailbox_id_);
  table_.reset();
}

}  // namespace postern::pop3
