// A mailbox's messages: listing, deletion (POP3 UPDATE), the retrieved flag, removal.
#include "store/mailbox.h"

#include <cstdio>

#include "core/bytes.h"
#include "store/browse.h"
#include "store/ledger.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

std::string mailbox_prefix(std::uint64_t mailbox_id) {
  return encode_u64(mailbox_id);
}

Result<MessageInfo> to_info(std::string_view key, std::string_view value) {
  auto rec = decode_message(value);
  if (!rec) return rec.error();
  if (key.size() != 12) return err(Errc::corrupt, "message-key");
  return MessageInfo{core::get_be32(key, 8), rec->body,  rec->size,
                     rec->received_at,       rec->flags, rec->unique_id};
}

}  // namespace

std::string uidl(std::uint64_t unique_id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(unique_id));
  return buf;
}

Result<MailboxRecord> find_mailbox(Txn& txn, std::uint64_t mailbox_id) {
  auto v = txn.get(Db::mailboxes, encode_u64(mailbox_id));
  if (!v) return err(v.error().code, "mailbox");
  return decode_mailbox(*v);
}

Result<std::vector<MessageInfo>> list_messages(Txn& txn, std::uint64_t mailbox_id) {
  std::vector<MessageInfo> out;
  Result<void> bad;
  auto r = for_each(txn, Db::messages, mailbox_prefix(mailbox_id),
                    [&](std::string_view k, std::string_view v) {
                      auto info = to_info(k, v);
                      if (!info) {
                        bad = info.error();
                        return false;
                      }
                      out.push_back(*info);
                      return true;
                    });
  if (!r) return r.error();
  if (!bad) return bad.error();
  return out;
}

Result<std::vector<MessageInfo>> list_messages(const Env& env, std::uint64_t mailbox_id) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  return list_messages(*txn, mailbox_id);
}

Result<void> delete_messages(WriteTxn& txn, std::uint64_t mailbox_id,
                             std::span<const std::uint32_t> uids) {
  auto mailbox = find_mailbox(txn, mailbox_id);
  if (!mailbox) return mailbox.error();
  for (std::uint32_t uid : uids) {
    const std::string key = message_key(mailbox_id, uid);
    auto v = txn.get(Db::messages, key);
    if (!v) return err(v.error().code, "message");
    auto rec = decode_message(*v);
    if (!rec) return rec.error();
    if (auto r = txn.del(Db::messages, key); !r) return r;
    if (auto r = forget_retrieval(txn, mailbox_id, uid); !r) return r;
    if (auto r = drop_body_ref(txn, rec->body); !r) return r;
    if (mailbox->message_count == 0 || mailbox->used_bytes < rec->size) {
      return err(Errc::corrupt, "mailbox-counters");
    }
    mailbox->message_count--;
    mailbox->used_bytes -= rec->size;
  }
  return txn.put(Db::mailboxes, encode_u64(mailbox_id), encode(*mailbox));
}

Result<void> mark_retrieved(WriteTxn& txn, std::uint64_t mailbox_id,
                            std::span<const std::uint32_t> uids) {
  for (std::uint32_t uid : uids) {
    const std::string key = message_key(mailbox_id, uid);
    auto v = txn.get(Db::messages, key);
    if (!v) return err(v.error().code, "message");
    auto rec = decode_message(*v);
    if (!rec) return rec.error();
    if (rec->flags & kFlagRetrieved) continue;
    rec->flags |= kFlagRetrieved;
    if (auto r = txn.put(Db::messages, key, encode(*rec)); !r) return r;
  }
  return {};
}

Result<void> drop_mailbox(WriteTxn& txn, std::uint64_t mailbox_id) {
  auto messages = list_messages(txn, mailbox_id);
  if (!messages) return messages.error();
  std::vector<std::uint32_t> uids;
  for (const auto& m : *messages) uids.push_back(m.uid);
  if (auto r = delete_messages(txn, mailbox_id, uids); !r) return r;
  std::vector<std::string> dedup_keys;
  auto r = for_each(txn, Db::dedup, mailbox_prefix(mailbox_id),
                    [&](std::string_view k, std::string_view) {
                      dedup_keys.emplace_back(k);
                      return true;
                    });
  if (!r) return r;
  for (const auto& k : dedup_keys) {
    if (auto d = txn.del(Db::dedup, k); !d) return d;
  }
  return txn.del(Db::mailboxes, encode_u64(mailbox_id));
}

}  // namespace postern::store
