// The store side of one POP3 session's maildrop: lock, snapshot, chunk reads and the UPDATE.
//
// Typical call sequence (loop thread), for one session:
//   MaildropStore drop(env, writer, locks, clock);
//   auto snapshot = drop.open(user, login_delay);   // lock + list_messages in one read txn
//   drop.read_chunk(entry, 0), (entry, 1), ...      // one short read txn and copy per call
//   drop.update(deleted, retrieved, done);          // ONE Writer job; done on the loop
//   drop.release();                                 // at session_ended (also the destructor)
//
// Ownership: borrows env, writer and clock, which must outlive it; shares the lock table.
// Thread affinity: loop thread only (the Writer job runs on the pool and touches no member).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
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
  MaildropStore(store::Env& env, store::Writer& writer, std::shared_ptr<LockTable> locks,
                const core::Clock& clock, std::string client = {});
  MaildropStore(const MaildropStore&) = delete;
  MaildropStore& operator=(const MaildropStore&) = delete;

  // Locks the user's mailbox and snapshots it. Errc::busy while another session holds it
  // (-ERR [IN-USE]); Errc::denied within `login_delay` of the previous login (-ERR
  // [LOGIN-DELAY]); store errors as they come. MessageEntry: key = uid, size = stored
  // size, unique_id = store::uidl(). REQUIRES: not open yet.
  core::Result<Maildrop> open(std::string_view user, std::chrono::seconds login_delay);
  // Chunk `chunk_index` of a message of the snapshot, copied in its own read txn; "" past
  // the end. Errc::not_found for a key that is not in the snapshot.
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
  struct Stored {
    store::Digest body{};
    std::uint64_t size = 0;
  };

  store::Env& env_;
  store::Writer& writer_;
  std::shared_ptr<LockTable> locks_;
  const core::Clock& clock_;
  std::string client_;
  MaildropLock lock_;
  std::uint64_t mailbox_id_ = 0;
  std::unordered_map<std::uint64_t, Stored> bodies_;  // snapshot: uid -> body
};

}  // namespace postern::pop3
