// Store-wide counts (`postern status`) and a consistency check
// (`postern status --check`, the crash test): every refcount, counter and
// chunk agrees with the rows that refer to it.
#pragma once

#include <cstdint>

#include "store/env.h"

namespace postern::store {

struct StoreCounts {
  std::uint64_t domains = 0, users = 0, aliases = 0, mailboxes = 0, messages = 0;
  std::uint64_t bodies = 0, body_bytes = 0, chunks = 0, events = 0, dedup = 0;
  std::uint64_t map_bytes = 0;       // the map size (mdb_env_info)
  std::uint64_t map_used_bytes = 0;  // pages in use up to the last one, times page size
};
// One short read txn; body_bytes walks the bodies table.
Result<StoreCounts> store_counts(const Env& env);
// The same without body_bytes (left 0): entry counts and map figures only, O(1) in
// the store's size, for callers on the loop (the page's overview).
Result<StoreCounts> table_counts(const Env& env);

struct CheckReport {
  // Chunks without a body row: staged by a large delivery still in progress
  // (or left by a crash, until the server's next open). Not an inconsistency.
  std::uint64_t staged_chunks = 0;
};

// Verifies, in one read snapshot: each body's refcount equals the messages
// referring to it, its chunk count matches its size and every chunk exists
// with the right length (and, when `deep`, that the chunks hash to the key);
// no extra chunks of a stored body, no unreferenced bodies; each mailbox's count and used bytes
// equal its messages and next_uid is above them; users, mailboxes and domains refer to each other;
// unique ids are distinct and below the sequence; retrieval rows name stored messages.
// Errc::corrupt with `where` naming the first failed rule; details are logged. Safe beside a
// running server (read-only, one snapshot).
Result<CheckReport> check_consistency(const Env& env, bool deep = false);

}  // namespace postern::store
