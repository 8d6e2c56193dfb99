// Mailboxes, messages and single-instance bodies: delivery, listing, chunk
// reads, deletion (POP3 UPDATE) and the retrieved flag.
//
// Writers take a WriteTxn& and are meant to run as Writer jobs (or under
// run_write for the CLI). Readers take any Txn&; the Env& overloads open and
// end a short read txn inside the call, so nothing outlives the snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/env.h"
#include "store/records.h"
#include "store/sha256.h"

namespace postern::store {

// A body waiting to be stored: either in memory (small) or a spool file,
// which deliver's caller hands over: Writer::deliver unlinks it after the batch.
struct SpooledBody {
  std::string path;  // empty when the bytes are in `memory`
  std::string memory;
  std::uint64_t size = 0;
  Digest hash{};  // SHA-256 of the bytes
  bool in_memory() const { return path.empty(); }
};

// One ledger row to look for, and the rule it stands for (named in the event).
struct DedupCheck {
  Fingerprint fp{};
  const char* rule = "content";  // a string literal: "content", "message-id"
};

// A recipient and its ledger lists, planned by src/dedup/policy.h; the store
// only executes them (see deliver()).
struct Recipient {
  std::string address;  // a user, after alias resolution
  // A kept partial recorded under this key is removed (downloaded or not).
  std::optional<Fingerprint> supersede_partial{};
  // Partial deliveries (kFlagPartial) record only this row, never `record`.
  std::optional<Fingerprint> partial_key{};
  std::vector<DedupCheck> check{};    // a live row for any of these: suppressed
  std::vector<Fingerprint> record{};  // rows written for a complete delivery
};

struct DeliveryRequest {
  SpooledBody body;
  std::vector<Recipient> recipients;
  std::int64_t received_at = 0;  // unix seconds
  std::uint8_t flags = 0;        // kFlagPartial, ...
  // Ledger rows first seen before this (unix seconds) are out of the window:
  // they do not suppress and are overwritten by `record`.
  std::int64_t dedup_not_before = 0;
  std::string message_id;  // for events only: normalised, through printable(); may be empty
  // Local midnight of the day a complete mail arrived, for stat:received-today;
  // 0 (import, kept partials) = not counted.
  std::int64_t count_on_day = 0;
  // Import only: restore this unique id when it was never allocated (it is at
  // or above the sequence), else allocate a fresh one. 0 = allocate.
  std::uint64_t unique_id = 0;
  // Collection only (src/collect): the external account and the server's UIDL,
  // recorded in `collected` by the same txn that stores the mail, so a crash
  // can never leave it stored but unremembered (store/collect_accounts.h).
  std::uint64_t collect_account = 0;  // 0 = not collected
  std::string collect_uidl;
};

// 16 lowercase hex digits: the POP3 UIDL (RFC 1939 §7, 1-70 chars of 0x21-0x7E).
std::string uidl(std::uint64_t unique_id);
// A requested unique id (DeliveryRequest::unique_id, a Maildir import) is restored only
// below this: the sequence moves past it, and one near 2^64 would wrap it to 0 and hand
// out ids again. Larger ones get a new id, like foreign files.
inline constexpr std::uint64_t kMaxRestoredUniqueId = 1ull << 63;

struct Delivered {
  std::string address;
  std::uint64_t mailbox_id = 0;
  std::uint32_t uid = 0;        // suppressed: the uid of the original (maybe deleted since)
  std::uint64_t unique_id = 0;  // 0 when suppressed
  bool suppressed = false;      // a retry: no message row, no body reference
  std::int64_t first_seen = 0;  // suppressed: when the original arrived
  std::optional<std::uint32_t> superseded_partial_uid{};  // a kept partial removed for this one
  bool superseded_partial_downloaded = false;  // ... which a POP3 client had already downloaded
};
struct DeliveryOutcome {
  std::vector<Delivered> delivered;  // in recipient order
};

// One message to every recipient, atomically: message rows, mailbox counters,
// body refcount (+N; chunks written only for a new hash, read from the spool
// file 64 KiB at a time), dedup rows. Errc::full where="quota" when a
// recipient's quota would be exceeded; not_found where="user" for a stranger.
// Does not unlink the spool file.
// The ledger, per recipient and in this order: `supersede_partial` removes the
// kept partial it names (downloaded or not; the event says which) and its row; a live row for any
// `check` suppresses the copy (counted, event "duplicate-suppressed"); else the
// message is stored and `record` (or, for a partial, `partial_key`) written
// with first seen = received_at. Body references are taken only for stored
// copies; if none is stored, chunks staged for a new body are dropped.
Result<DeliveryOutcome> deliver(WriteTxn& txn, const DeliveryRequest& request);

// Large bodies are written ahead of their delivery, kStageChunks at a time,
// each in its own txn (Writer does this), so no single write txn holds more
// than ~1 MiB of dirty pages for one body: LMDB keeps a txn's dirty pages in
// heap memory until commit. Chunks without a body row are "staged": deliver
// skips them, and drop_staged_chunks removes the ones a crash left behind.
inline constexpr std::uint32_t kStageChunks = 16;
// Writes chunks [first, first + count) unless the body is already stored.
Result<void> stage_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                          std::uint32_t count);
// Removes chunks whose body row does not exist; returns how many went.
// REQUIRES: no delivery is staging (Env::open with recover_at_open).
Result<std::uint64_t> drop_staged_chunks(WriteTxn& txn);

struct MessageInfo {
  std::uint32_t uid = 0;
  Digest body{};
  std::uint64_t size = 0;
  std::int64_t received_at = 0;
  std::uint8_t flags = 0;
  std::uint64_t unique_id = 0;
};
Result<std::vector<MessageInfo>> list_messages(Txn& txn, std::uint64_t mailbox_id);
Result<std::vector<MessageInfo>> list_messages(const Env& env, std::uint64_t mailbox_id);
Result<MailboxRecord> find_mailbox(Txn& txn, std::uint64_t mailbox_id);
Result<BodyRecord> find_body(Txn& txn, const Digest& body);

// Copies chunk n (kChunkBytes each, the last shorter) of a body.
Result<std::string> read_chunk(Txn& txn, const Digest& body, std::uint32_t n);
Result<std::string> read_chunk(const Env& env, const Digest& body, std::uint32_t n);

// Deletes every listed message (not_found, where="message", if one is
// missing) and drops its body reference; the body and chunks go at zero.
Result<void> delete_messages(WriteTxn& txn, std::uint64_t mailbox_id,
                             std::span<const std::uint32_t> uids);
Result<void> mark_retrieved(WriteTxn& txn, std::uint64_t mailbox_id,
                            std::span<const std::uint32_t> uids);
// Deletes every message, dedup row and the mailbox record itself.
Result<void> drop_mailbox(WriteTxn& txn, std::uint64_t mailbox_id);

// Ledger counters in meta ("stat:<name>", BE64), bumped in the delivery's txn.
inline constexpr const char* kStatDuplicatesSuppressed = "stat:duplicates-suppressed";
inline constexpr const char* kStatPartialsDiscarded = "stat:partials-discarded";
inline constexpr const char* kStatPartialsKept = "stat:partials-kept";
inline constexpr const char* kStatPartialsSuperseded = "stat:partials-superseded";
struct DedupStats {
  std::uint64_t duplicates_suppressed = 0, partials_discarded = 0, partials_kept = 0,
                partials_superseded = 0;
};
Result<DedupStats> stats(Txn& txn);
Result<void> add_stat(WriteTxn& txn, const char* key, std::uint64_t n = 1);
// A broken DATA that was not kept: counter + event "partial-discarded" (the
// SMTP glue runs it as a Writer job; `text` is key=value, peer text printable).
// A counter for one day: meta key -> {day start (unix s), count}; a new day restarts it.
inline constexpr const char* kStatRetrievedToday = "stat:retrieved-today";
inline constexpr const char* kStatReceivedToday = "stat:received-today";
Result<void> add_daily_count(WriteTxn& txn, const char* key, std::int64_t day_start,
                             std::uint64_t n);
Result<std::uint64_t> daily_count(Txn& txn, const char* key, std::int64_t day_start);

Result<void> record_partial_discarded(WriteTxn& txn, std::string_view text, std::int64_t time);

// The dedup ledger (policy lives in src/dedup/).
Result<DedupRecord> find_dedup(Txn& txn, std::uint64_t mailbox_id, const Fingerprint& fp);
// Removes rows first seen before `before`; returns how many went.
Result<std::uint64_t> expire_dedup(WriteTxn& txn, std::int64_t before);

}  // namespace postern::store
