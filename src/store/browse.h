// The mailbox as the status page reads it: newest-first pages behind a cursor,
// the bounded head of a body, who downloaded each message, and deletion.
//
// Everything here is sized for the loop thread: a page costs O(limit) cursor
// steps and one chunk lookup per message whatever the mailbox holds (a 100 000
// message mailbox lists as fast as a 10 message one), and a head is a view into
// chunk 0, never a copy of the message. Readers take any Txn& and their views
// die with it; writers take a WriteTxn& and run as Writer jobs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/env.h"
#include "store/mailbox.h"

namespace postern::store {

struct BrowsePage {
  std::vector<MessageInfo> messages;  // newest (highest uid) first
  // Pass as `before` for the next page; nullopt when this page reached the oldest.
  std::optional<std::uint32_t> next_before;
};

// At most `limit` messages of the mailbox with uid < `before` (all uids when
// nullopt), newest first. Uids only grow (FORMAT.md), so "newest first" is
// "highest uid first" and a cursor stays valid across deletions.
Result<BrowsePage> list_page(Txn& txn, std::uint64_t mailbox_id,
                             std::optional<std::uint32_t> before, std::size_t limit);

// One message row; not_found (where="message") when it is gone.
Result<MessageInfo> find_message(Txn& txn, std::uint64_t mailbox_id, std::uint32_t uid);

// The first min(max_bytes, size) bytes of a body: a view into chunk 0, valid
// while `txn` lives. Empty for an empty body.
Result<std::string_view> body_head(Txn& txn, const Digest& body, std::size_t max_bytes);

// Who downloaded a message over POP3 (the `retrievals` table, FORMAT.md).
struct Retrieval {
  std::int64_t time = 0;  // unix seconds of the UPDATE that recorded it
  std::string client;     // the client's address as POP3 saw it, printable
};
inline constexpr std::size_t kMaxRetrievalClient = 255;

// Records `client` (cut to kMaxRetrievalClient bytes) as the latest retriever
// of every listed message that still exists; missing uids are skipped.
Result<void> record_retrievals(WriteTxn& txn, std::uint64_t mailbox_id,
                               std::span<const std::uint32_t> uids, std::string_view client,
                               std::int64_t time);
// The latest retrieval of a message, or nullopt when none was recorded.
Result<std::optional<Retrieval>> find_retrieval(Txn& txn, std::uint64_t mailbox_id,
                                                std::uint32_t uid);
// Drops the retrieval row of a message (delete_messages calls it); absent is fine.
Result<void> forget_retrieval(WriteTxn& txn, std::uint64_t mailbox_id, std::uint32_t uid);

// Deletion from the page: an ordinary transaction like POP3's UPDATE
// (delete_messages: body references, counters, retrieval rows), except that a
// uid already gone (a POP3 QUIT or a superseding complete copy got there
// first) is skipped, not an error. Returns how many were deleted. No other
// message's uid or unique id changes (RFC 1939 §7: UIDLs are stable).
Result<std::uint32_t> delete_from_page(WriteTxn& txn, std::uint64_t mailbox_id,
                                       std::span<const std::uint32_t> uids);

}  // namespace postern::store
