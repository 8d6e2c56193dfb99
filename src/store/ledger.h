// The dedup ledger: one row per (mailbox, fingerprint) with its first-seen
// time and uid (FORMAT.md "dedup"), and the ledger's counters in meta.
//
// The rows are written and checked by deliver() inside the delivering
// transaction (store/delivery_ledger.h), so a retry that arrives in the same
// batch as its original is caught; the policy lives in src/dedup/.
#pragma once

#include <cstdint>
#include <string_view>

#include "store/env.h"
#include "store/records.h"

namespace postern::store {

Result<DedupRecord> find_dedup(Txn& txn, std::uint64_t mailbox_id, const Fingerprint& fp);
// Removes rows first seen before `before`; returns how many went.
Result<std::uint64_t> expire_dedup(WriteTxn& txn, std::int64_t before);

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
Result<void> record_partial_discarded(WriteTxn& txn, std::string_view text, std::int64_t time);

}  // namespace postern::store
