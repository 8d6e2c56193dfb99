// The store side of one POP3 session's maildrop: lock, snapshot, chunk reads and the UPDATE.
//
// Typical call sequence (loop thread), for one session:
//   MaildropStore drop(env, writer, executor, locks, clock);
//   drop.open(user, login_delay, done);             // lock here, list on the pool; done(snapshot)
//   drop.read_chunk(entry, 0), (entry, 1), ...      // one short read txn and copy per call
//   drop.update(deleted, retrieved, done);          // ONE Writer job; done on the loop
//   drop.release();                                 // at session_ended (also the destructor)
//
// Keys: MessageEntry::key is the store's uid, a BE32 in the messages key (FORMAT.md), widened
// to the session's 64-bit handle and narrowed back only through a checked conversion: a key
// that is no uid is refused, never truncated onto another message.
//
// Ownership: borrows env, writer, executor and clock, which must outlive it; shares the lock
// table. Thread affinity: loop thread only (the listing and the Writer job run on the pool
// and touch no member).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/executor.h"
#include "core/result.h"
#include "pop3/locks.h"
#include "pop3/maildrop.h"
#include "store/env.h"
#include "store/sha256.h"
#include "store/writer.h"

namespace postern::pop3 {

class MaildropStore {
 public:
  // `client`: the peer's address, recorded as the retriever of what UPDATE marks
  // retrieved (store/browse.h; the status page shows it).
  MaildropStore(store::Env& env, store::Writer& writer, core::Executor& executor,
                std::shared_ptr<LockTable> locks, const core::Clock& clock,
                std::string client = {});
  MaildropStore(const MaildropStore&) = delete;
  MaildropStore& operator=(const MaildropStore&) = delete;

  // Locks the user's mailbox (here, on the loop thread), then snapshots it in one read txn
  // on `executor` (the pool: a listing proportional to the maildrop never runs on the loop).
  // `done` gets the snapshot (MessageEntry: key = uid, size = stored size, unique_id =
  // store::uidl()) or an error: Errc::busy while another session holds the lock (-ERR
  // [IN-USE]); Errc::denied within `login_delay` of the previous login (-ERR [LOGIN-DELAY]);
  // store errors as they come. On an error the lock is released before `done`. `done` always
  // runs from the executor's completion, errors found here included, so with the pool
  // executor the caller is never re-entered from inside open().
  // REQUIRES: not open yet; *this outlives the call of `done` (its owner counts it as owed).
  void open(std::string_view user, std::chrono::seconds login_delay,
            std::function<void(core::Result<Maildrop>)> done);
  // Chunk `chunk_index` of a message of the snapshot, copied in its own read txn; "" past
  // the end. Errc::not_found once the message is gone from the store, or for a key that is
  // no uid.
  core::Result<std::string> read_chunk(const MessageEntry& message, std::size_t chunk_index);
  // RFC 1939 §6 UPDATE as one Writer job (one write txn): delete `deleted_keys`, then mark
  // the retrieved ones that were not deleted and record `client` as their retriever. `done` runs on
  // the loop thread, possibly before update() returns when the Writer has latched a fatal error.
  void update(const std::vector<std::uint64_t>& deleted_keys,
              const std::vector<std::uint64_t>& retrieved_keys,
              std::function<void(core::Result<void>)> done);
  // Releases the lock; idempotent.
  void release() { lock_ = MaildropLock(); }
  bool is_open() const { return lock_.held(); }

 private:
  struct Reading {  // the body of the message RETR/TOP is reading (one row lookup per message)
    std::uint64_t key = 0;
    store::Digest body{};
    std::uint64_t size = 0;
  };

  store::Env& env_;
  store::Writer& writer_;
  core::Executor& executor_;
  std::shared_ptr<LockTable> locks_;
  const core::Clock& clock_;
  std::string client_;
  MaildropLock lock_;
  std::uint64_t mailbox_id_ = 0;
  std::optional<Reading> reading_;
};

}  // namespace postern::pop3
