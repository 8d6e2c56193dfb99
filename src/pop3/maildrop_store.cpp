// Store-backed maildrop: the lock table, one-read-txn snapshots, chunk copies, the UPDATE job.
#include "pop3/maildrop_store.h"

#include <algorithm>
#include <span>
#include <unordered_set>

#include "store/catalogue.h"
#include "store/mailbox.h"
#include "store/records.h"

namespace postern::pop3 {

MaildropStore::MaildropStore(store::Env& env, store::Writer& writer,
                             std::shared_ptr<LockTable> locks, const core::Clock& clock)
    : env_(env), writer_(writer), locks_(std::move(locks)), clock_(clock) {}

core::Result<Maildrop> MaildropStore::open(std::string_view user,
                                           std::chrono::seconds login_delay) {
  // One short read txn for the user row and the listing: DESIGN "read transactions stay
  // short"; bodies are read later, chunk by chunk, each in its own txn.
  auto txn = env_.begin_read();
  if (!txn) return txn.error();
  auto found = store::find_user(*txn, user);
  if (!found) return found.error();
  const std::uint64_t mailbox_id = found->record.mailbox_id;
  const core::TimePoint now = clock_.now();
  if (login_delay.count() > 0) {
    // RFC 2449 §6.5: the delay counts from the previous login of this maildrop.
    auto last = locks_->last_locked(mailbox_id);
    if (last && now - *last < login_delay) {
      return core::make_error(core::Errc::denied, "login-delay");
    }
  }
  if (!locks_->try_lock(mailbox_id, now)) return core::make_error(core::Errc::busy, "maildrop");
  MaildropLock lock(locks_, mailbox_id);
  auto listed = store::list_messages(*txn, mailbox_id);
  if (!listed) return listed.error();  // `lock` releases on the way out

  Maildrop drop;
  drop.messages.reserve(listed->size());
  bodies_.clear();
  for (const store::MessageInfo& info : *listed) {
    drop.messages.push_back(MessageEntry{info.size, store::uidl(info.unique_id), info.uid});
    bodies_.emplace(info.uid, Stored{info.body, info.size});
  }
  mailbox_id_ = mailbox_id;
  lock_ = std::move(lock);
  return drop;
}

core::Result<std::string> MaildropStore::read_chunk(const MessageEntry& message,
                                                    std::size_t chunk_index) {
  auto it = bodies_.find(message.key);
  if (it == bodies_.end()) return core::make_error(core::Errc::not_found, "snapshot");
  // The stored size fixes the chunk count, so the end is known without a failed lookup
  // (a missing chunk inside the body stays an error: the store is damaged).
  if (chunk_index >= store::chunk_count_for(it->second.size)) return std::string();
  return store::read_chunk(env_, it->second.body, static_cast<std::uint32_t>(chunk_index));
}

void MaildropStore::update(const std::vector<std::uint64_t>& deleted_keys,
                           const std::vector<std::uint64_t>& retrieved_keys,
                           std::function<void(core::Result<void>)> done) {
  std::vector<std::uint32_t> deleted;
  deleted.reserve(deleted_keys.size());
  for (std::uint64_t key : deleted_keys) deleted.push_back(static_cast<std::uint32_t>(key));
  const std::unordered_set<std::uint64_t> gone(deleted_keys.begin(), deleted_keys.end());
  std::vector<std::uint32_t> retrieved;
  for (std::uint64_t key : retrieved_keys) {
    if (gone.count(key) == 0) retrieved.push_back(static_cast<std::uint32_t>(key));
  }
  const std::uint64_t mailbox_id = mailbox_id_;
  // Both effects in one job, so one txn: the UPDATE lands whole or not at all (RFC 1939 §6).
  // A message of the snapshot may be gone by then: a kept partial removed because its
  // complete copy arrived during the session (store/ledger.cpp). Its DELE or download has
  // nothing left to act on, and must not fail the rest of the UPDATE.
  writer_.submit<bool>(
      [mailbox_id, deleted = std::move(deleted),
       retrieved = std::move(retrieved)](store::WriteTxn& txn) mutable -> core::Result<bool> {
        for (auto* uids : {&deleted, &retrieved}) {
          std::vector<std::uint32_t> present;
          for (std::uint32_t uid : *uids) {
            auto row = txn.get(store::Db::messages, store::message_key(mailbox_id, uid));
            if (row) {
              present.push_back(uid);
            } else if (row.error().code != core::Errc::not_found) {
              return row.error();
            }
          }
          *uids = std::move(present);
        }
        if (!deleted.empty()) {
          if (auto r = store::delete_messages(txn, mailbox_id, deleted); !r) return r.error();
        }
        if (!retrieved.empty()) {
          if (auto r = store::mark_retrieved(txn, mailbox_id, retrieved); !r) return r.error();
        }
        return true;
      },
      [done = std::move(done)](core::Result<bool> outcome) {
        if (!outcome) {
          done(outcome.error());
        } else {
          done(core::Result<void>());
        }
      });
}

}  // namespace postern::pop3
