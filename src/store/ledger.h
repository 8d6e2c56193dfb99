// The dedup ledger: one row per (mailbox, fingerprint) with its first-seen
// time and uid (FORMAT.md "dedup"), and the ledger's counters in meta.
//
// The rows are written and checked by deliver() inside the delivering
// transaction (store/delivery_ledger.h), so a retry that arrives in the same
// batch as its original is caught; the policy lives in src/dedup/.
//
// Every row also has an entry in `dedup_times` (key: first seen and a
// sequence; value: the row's key), so expiry walks only the rows that are due,
// oldest first, in bounded slices: at 100 msgs/s and the 5-day window the ledger holds about
// 86 million rows, and a scan of all of them would hold the writer for minutes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/env.h"
#include "store/records.h"

namespace postern::store {

Result<DedupRecord> find_dedup(Txn& txn, std::uint64_t mailbox_id, const Fingerprint& fp);
// Writes (or overwrites) the row and its `dedup_times` entry. An entry left by
// an overwritten or deleted row is dropped by expiry when its time comes.
Result<void> put_dedup(WriteTxn& txn, std::uint64_t mailbox_id, const Fingerprint& fp,
                       const DedupRecord& record);

// One expiry slice: the oldest `dedup_times` entries first seen before
// `before` are removed, with their rows (a row whose first seen differs was
// overwritten since and stays): at most `max_entries`, and no more once
// `budget` has passed (checked every kExpireCheckEvery entries, so a slice
// always makes progress). The Writer job running it holds the writer; its work
// is bounded by the slice, not the ledger's size (about 15 us of CPU per entry
// on the bench machine, a random leaf of `dedup` dirtied per row). Measured by
// tests/bench/ledger_bench.cpp: 3 ms at the median, but a tail of 13-27 ms of
// CPU at steady state, not yet attributed (README, Growth).
inline constexpr std::uint64_t kExpireSliceEntries = 1'000;
inline constexpr std::chrono::microseconds kExpireSliceBudget{3'000};
inline constexpr std::uint64_t kExpireCheckEvery = 16;
struct ExpireSlice {
  std::uint64_t rows = 0;     // ledger rows removed
  std::uint64_t entries = 0;  // dedup_times entries removed (rows + stale ones)
  bool more = false;          // entries before `before` remain: run another slice
};
Result<ExpireSlice> expire_dedup_slice(WriteTxn& txn, std::int64_t before,
                                       std::uint64_t max_entries = kExpireSliceEntries,
                                       std::chrono::microseconds budget = kExpireSliceBudget);
// Every row first seen before `before`, in one txn (slice after slice); returns
// how many rows went. For the CLI and tests: the server runs slices.
Result<std::uint64_t> expire_dedup(WriteTxn& txn, std::int64_t before);

// Schema step 4 (FORMAT.md): a `dedup_times` entry for every ledger row.
Result<void> index_dedup_times(WriteTxn& txn);

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
