// A mailbox's messages: listing, deletion (POP3 UPDATE), the retrieved flag
// and removal of a whole mailbox. Delivery is store/delivery.h; reading a
// message's body is store/bodies.h (read_chunk).
//
// Writers take a WriteTxn& and are meant to run as Writer jobs (or under
// run_write for the CLI). Readers take any Txn&; the Env& overloads open and
// end a short read txn inside the call, so nothing outlives the snapshot.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/bodies.h"
#include "store/env.h"
#include "store/records.h"

namespace postern::store {

// 16 lowercase hex digits: the POP3 UIDL (RFC 1939 §7, 1-70 chars of 0x21-0x7E).
std::string uidl(std::uint64_t unique_id);

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

// Deletes every listed message (not_found, where="message", if one is
// missing) and drops its body reference; the body and chunks go at zero.
Result<void> delete_messages(WriteTxn& txn, std::uint64_t mailbox_id,
                             std::span<const std::uint32_t> uids);
Result<void> mark_retrieved(WriteTxn& txn, std::uint64_t mailbox_id,
                            std::span<const std::uint32_t> uids);
// Deletes every message, dedup row and the mailbox record itself.
Result<void> drop_mailbox(WriteTxn& txn, std::uint64_t mailbox_id);

}  // namespace postern::store
