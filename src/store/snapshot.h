// A mailbox's messages as a POP3 login snapshots them: uid, size and unique id per message,
// visited straight from the cursor, and the body behind one message for its chunk reads.
//
// Readers only, over any Txn&: POP3 runs the visit in one read txn on a pool thread
// (MDB_NOTLS, store/env.h), so a maildrop of 100 000 messages never occupies the loop.
#pragma once

#include <cstdint>
#include <functional>

#include "store/env.h"
#include "store/sha256.h"

namespace postern::store {

struct MessageSummary {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;  // the RFC 1939 §11 size (FORMAT.md, Stored form)
  std::uint64_t unique_id = 0;
};

// Calls fn for each message of `mailbox_id`, in uid (delivery) order, until fn returns
// false. Builds no list: the caller keeps what it needs. Errc::corrupt for a malformed row.
using MessageFn = std::function<bool(const MessageSummary&)>;
Result<void> for_each_message(Txn& txn, std::uint64_t mailbox_id, const MessageFn& fn);

struct MessageBody {
  Digest body{};
  std::uint64_t size = 0;
};
// The body a message row refers to; Errc::not_found (where "message") once it is deleted.
Result<MessageBody> find_message_body(Txn& txn, std::uint64_t mailbox_id, std::uint32_t uid);

}  // namespace postern::store
