// Single-instance bodies: a body row (refcount, size, chunk count) per SHA-256
// and its kChunkBytes chunks; staging of large bodies ahead of their delivery.
//
// A body is written once, under its hash, whatever the number of messages
// that refer to it (FORMAT.md "bodies", "chunks"). Writers take a WriteTxn&
// and run as Writer jobs; readers take any Txn&, and the Env& overloads open
// and end a short read txn inside the call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

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
  Digest hash{};  // the body key (store/body_key.h; SHA-256 of the bytes before version 3)
  // SHA-256 of the bytes after the header block (body_key.h), from which the
  // dedup content fingerprint is derived; set by the Spool.
  Digest rest_digest{};
  // Holds `memory`'s share of the Spool's process-wide memory budget until the
  // body is dropped (store/spool.h); may be null.
  std::shared_ptr<void> lease;
  bool in_memory() const { return path.empty(); }
};

// Large bodies are written ahead of their delivery, kStageChunks at a time,
// each in its own txn (Writer does this), so no single write txn holds more
// than ~1 MiB of dirty pages for one body: LMDB keeps a txn's dirty pages in
// heap memory until commit. Chunks without a body row are "staged": deliver
// skips them, and recovery (store/recovery.h) removes the ones a crash left behind.
inline constexpr std::uint32_t kStageChunks = 16;
// Writes chunks [first, first + count) unless the body is already stored.
Result<void> stage_chunks(WriteTxn& txn, const SpooledBody& body, std::uint32_t first,
                          std::uint32_t count);

// `refs` more references to the body: the row's refcount grows, or (a new
// hash) every chunk not yet staged is written and the row created.
Result<void> add_body_refs(WriteTxn& txn, const SpooledBody& body, std::uint64_t refs);
// One reference less; at zero the row and its chunks go.
Result<void> drop_body_ref(WriteTxn& txn, const Digest& hash);
// A new body that no message kept (every copy suppressed): its staged chunks go.
Result<void> drop_unowned_chunks(WriteTxn& txn, const SpooledBody& body);

Result<BodyRecord> find_body(Txn& txn, const Digest& body);
// Copies chunk n (kChunkBytes each, the last shorter) of a body.
Result<std::string> read_chunk(Txn& txn, const Digest& body, std::uint32_t n);
Result<std::string> read_chunk(const Env& env, const Digest& body, std::uint32_t n);

}  // namespace postern::store
