// Store-backed maildrop: the lock, the snapshot on the pool, chunk copies, the UPDATE job.
#include "pop3/maildrop_store.h"

#include <limits>
#include <span>
#include <unordered_set>

#include "store/browse.h"
#include "store/catalogue.h"
#include "store/mailbox.h"
#include "store/records.h"
#include "store/snapshot.h"

namespace postern::pop3 {
namespace {

// The store's uid is a BE32 in the messages key (FORMAT.md): a session key above it is no
// message of this store, and is refused rather than truncated onto another one.
std::optional<std::uint32_t> store_uid(std::uint64_t key) {
  if (key > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(key);
}

// Pool thread: one read txn for the whole listing (DESIGN "read transactions stay short":
// bodies are read later, chunk by chunk, each in its own txn). Sized from the mailbox
// record's count, so the vector is allocated once.
core::Result<Maildrop> snapshot(const store::Env& env, std::uint64_t mailbox_id) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  Maildrop drop;
  if (auto box = store::find_mailbox(*txn, mailbox_id)) {
    drop.messages.reserve(box->message_count);
  }
  auto listed = store::for_each_message(*txn, mailbox_id, [&](const store::MessageSummary& m) {
    drop.messages.push_back(MessageEntry{m.uid, m.size, UniqueId(store::uidl(m.unique_id))});
    return true;
  });
  if (!listed) return listed.error();
  if (drop.messages.capacity() > drop.messages.size()) drop.messages.shrink_to_fit();
  return drop;
}

}  // namespace

MaildropStore::MaildropStore(store::Env& env, store::Writer& writer, core::Executor& executor,
                             std::shared_ptr<LockTable> locks, const core::Clock& clock,
                             std::string client)
    : env_(env),
      writer_(writer),
      executor_(executor),
      locks_(std::move(locks)),
      clock_(clock),
      client_(std::move(client)) {}

void MaildropStore::open(std::string_view user, std::chrono::seconds login_delay,
                         std::function<void(core::Result<Maildrop>)> done) {
  auto outcome = std::make_shared<core::Result<Maildrop>>(Maildrop{});
  // The lock is taken here, on the loop thread (the lock table is the loop's), before the
  // listing starts: RFC 1939 §4 "+OK" means locked and snapshotted.
  core::Result<std::uint64_t> locked = [&]() -> core::Result<std::uint64_t> {
    auto txn = env_.begin_read();  // one row: the user's mailbox id
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
    if (!locks_->try_lock(mailbox_id, now)) {
      return core::make_error(core::Errc::busy, "maildrop");
    }
    return mailbox_id;
  }();
  if (!locked) {
    *outcome = locked.error();
    executor_.submit([] {}, [outcome, done = std::move(done)] { done(std::move(*outcome)); });
    return;
  }
  mailbox_id_ = *locked;
  lock_ = MaildropLock(locks_, mailbox_id_);
  reading_.reset();
  executor_.submit(
      [env = &env_, mailbox_id = mailbox_id_, outcome] { *outcome = snapshot(*env, mailbox_id); },
      [this, outcome, done = std::move(done)] {
        if (!*outcome) release();
        done(std::move(*outcome));
      });
}

core::Result<std::string> MaildropStore::read_chunk(const MessageEntry& message,
                                                    std::size_t chunk_index) {
  const std::optional<std::uint32_t> uid = store_uid(message.key);
  if (!uid) return core::make_error(core::Errc::not_found, "message-key");
  auto txn = env_.begin_read();
  if (!txn) return txn.error();
  if (!reading_ || reading_->key != message.key) {
    auto body = store::find_message_body(*txn, mailbox_id_, *uid);
    if (!body) return body.error();
    reading_ = Reading{message.key, body->body, body->size};
  }
  // The stored size fixes the chunk count, so the end is known without a failed lookup
  // (a missing chunk inside the body stays an error: the store is damaged).
  if (chunk_index >= store::chunk_count_for(reading_->size)) return std::string();
  return store::read_chunk(*txn, reading_->body, static_cast<std::uint32_t>(chunk_index));
}

void MaildropStore::update(const std::vector<std::uint64_t>& deleted_keys,
                           const std::vector<std::uint64_t>& retrieved_keys,
                           std::function<void(core::Result<void>)> done) {
  const std::unordered_set<std::uint64_t> gone(deleted_keys.begin(), deleted_keys.end());
  std::vector<std::uint64_t> retrieved;
  for (std::uint64_t key : retrieved_keys) {
    if (gone.count(key) == 0) retrieved.push_back(key);
  }
  const std::uint64_t mailbox_id = mailbox_id_;
  const std::int64_t now = core::unix_seconds(clock_.now());
  // Both effects in one job, so one txn: the UPDATE lands whole or not at all (RFC 1939 §6).
  // A message of the snapshot may be gone by then: a kept partial removed because its
  // complete copy arrived during the session (store/ledger.cpp), or one deleted on the status
  // page (store/browse.h). Its DELE or download has nothing left to act on, and must not fail
  // the rest of the UPDATE. A key that is no uid fails the job whole, before any write.
  writer_.submit<void>(
      [mailbox_id, deleted = deleted_keys, retrieved = std::move(retrieved), now,
       client = client_](store::WriteTxn& txn) -> core::Result<void> {
        std::vector<std::uint32_t> present[2];
        const std::vector<std::uint64_t>* keys[2] = {&deleted, &retrieved};
        for (int i = 0; i < 2; ++i) {
          for (std::uint64_t key : *keys[i]) {
            const std::optional<std::uint32_t> uid = store_uid(key);
            if (!uid) return core::make_error(core::Errc::invalid, "message-key");
            auto row = txn.get(store::Db::messages, store::message_key(mailbox_id, *uid));
            if (row) {
              present[i].push_back(*uid);
            } else if (row.error().code != core::Errc::not_found) {
              return row.error();
            }
          }
        }
        if (!present[0].empty()) {
          if (auto r = store::delete_messages(txn, mailbox_id, present[0]); !r) return r.error();
        }
        if (!present[1].empty()) {
          if (auto r = store::mark_retrieved(txn, mailbox_id, present[1]); !r) return r.error();
          auto r = store::record_retrievals(txn, mailbox_id, present[1], client, now);
          if (!r) return r.error();
        }
        return {};
      },
      std::move(done));
}

}  // namespace postern::pop3
