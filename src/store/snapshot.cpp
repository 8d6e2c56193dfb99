// for_each_message and find_message_body over the messages table (FORMAT.md "messages").
#include "store/snapshot.h"

#include "core/bytes.h"
#include "store/records.h"

namespace postern::store {

Result<void> for_each_message(Txn& txn, std::uint64_t mailbox_id, const MessageFn& fn) {
  Result<void> bad;
  auto r = for_each(
      txn, Db::messages, encode_u64(mailbox_id), [&](std::string_view key, std::string_view value) {
        auto record = decode_message(value);
        if (!record || key.size() != 12) {
          bad = core::make_error(Errc::corrupt, "message-row");
          return false;
        }
        return fn(MessageSummary{core::get_be32(key, 8), record->size, record->unique_id});
      });
  if (!r) return r.error();
  return bad;
}

Result<MessageBody> find_message_body(Txn& txn, std::uint64_t mailbox_id, std::uint32_t uid) {
  auto row = txn.get(Db::messages, message_key(mailbox_id, uid));
  if (!row) return core::make_error(row.error().code, "message", row.error().sys);
  auto record = decode_message(*row);
  if (!record) return record.error();
  return MessageBody{record->body, record->size};
}

}  // namespace postern::store
