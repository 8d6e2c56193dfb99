// Delivery: one message to every recipient in one write transaction, with the
// dedup ledger's steps and the body's single-instance reference.
//
// Runs as a Writer job (store/writer.h: Writer::deliver) or under run_write
// for the CLI's import. Policy (which ledger rows to check and record) is
// planned by src/dedup/policy.h; the store only executes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/bodies.h"
#include "store/env.h"
#include "store/records.h"

namespace postern::store {

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

}  // namespace postern::store
