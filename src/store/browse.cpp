// Newest-first pages, body heads, retrieval rows and deletion for the status page.
#include "store/browse.h"

#include <algorithm>

#include "core/bytes.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where) {
  return core::make_error(code, where);
}

MDB_val val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
std::string_view view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

Result<MessageInfo> to_info(std::string_view key, std::string_view value) {
  if (key.size() != 12) return err(Errc::corrupt, "message-key");
  auto rec = decode_message(value);
  if (!rec) return rec.error();
  return MessageInfo{core::get_be32(key, 8), rec->body,  rec->size,
                     rec->received_at,       rec->flags, rec->unique_id};
}

// Closes an LMDB cursor on every path out.
class Cursor {
 public:
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  MDB_cursor*& get() { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

}  // namespace

Result<BrowsePage> list_page(Txn& txn, std::uint64_t mailbox_id,
                             std::optional<std::uint32_t> before, std::size_t limit) {
  BrowsePage page;
  if (limit == 0) return page;
  Cursor cursor;
  if (int rc = mdb_cursor_open(txn.handle(), txn.dbi(Db::messages), &cursor.get()); rc != 0)
    return mdb_error(rc, "cursor-open");
  const std::string prefix = encode_u64(mailbox_id);
  // Keys sort by (mailbox, uid): land on the first key >= (mailbox, before) and
  // step back, or start from the very last key when nothing is that large.
  // UINT32_MAX is never a uid (deliver refuses it), so it bounds "all".
  const std::string bound = message_key(mailbox_id, before.value_or(UINT32_MAX));
  MDB_val k = val(bound), v;
  int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_RANGE);
  if (rc == MDB_NOTFOUND) {
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_LAST);
  } else if (rc == 0) {
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_PREV);
  }
  while (rc == 0) {
    std::string_view key = view(k);
    if (key.substr(0, prefix.size()) != prefix) break;
    if (page.messages.size() == limit) {
      page.next_before = page.messages.back().uid;  // there is at least one more
      break;
    }
    auto info = to_info(key, view(v));
    if (!info) return info.error();
    if (before && info->uid >= *before) return err(Errc::corrupt, "message-order");
    page.messages.push_back(*info);
    rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_PREV);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) return mdb_error(rc, "cursor-get");
  return page;
}

Result<MessageInfo> find_message(Txn& txn, std::uint64_t mailbox_id, std::uint32_t uid) {
  const std::string key = message_key(mailbox_id, uid);
  auto v = txn.get(Db::messages, key);
  if (!v) return err(v.error().code, "message");
  return to_info(key, *v);
}

Result<std::string_view> body_head(Txn& txn, const Digest& body, std::size_t max_bytes) {
  auto record = find_body(txn, body);
  if (!record) return record.error();
  if (record->chunk_count == 0 || max_bytes == 0) return std::string_view();
  auto chunk = txn.get(Db::chunks, chunk_key(body, 0));
  if (!chunk) return err(chunk.error().code, "chunk");
  return chunk->substr(0, std::min(max_bytes, chunk->size()));
}

// retrievals: key = message key (mailbox BE64, uid BE32); value = TIME, then the client STR.
Result<void> record_retrievals(WriteTxn& txn, std::uint64_t mailbox_id,
                               std::span<const std::uint32_t> uids, std::string_view client,
                               std::int64_t time) {
  std::string value;
  core::put_be64(value, static_cast<std::uint64_t>(time));
  value.append(client.substr(0, kMaxRetrievalClient));
  for (std::uint32_t uid : uids) {
    const std::string key = message_key(mailbox_id, uid);
    auto present = txn.get(Db::messages, key);
    if (!present) {
      if (present.error().code == Errc::not_found) continue;
      return present.error();
    }
    if (auto r = txn.put(Db::retrievals, key, value); !r) return r;
  }
  return {};
}

Result<std::optional<Retrieval>> find_retrieval(Txn& txn, std::uint64_t mailbox_id,
                                                std::uint32_t uid) {
  auto v = txn.get(Db::retrievals, message_key(mailbox_id, uid));
  if (!v) {
    if (v.error().code == Errc::not_found) return std::optional<Retrieval>();
    return v.error();
  }
  if (v->size() < 8 || v->size() > 8 + kMaxRetrievalClient) return err(Errc::corrupt, "retrieval");
  return std::optional<Retrieval>(
      Retrieval{static_cast<std::int64_t>(core::get_be64(*v)), std::string(v->substr(8))});
}

Result<void> forget_retrieval(WriteTxn& txn, std::uint64_t mailbox_id, std::uint32_t uid) {
  auto r = txn.del(Db::retrievals, message_key(mailbox_id, uid));
  if (!r && r.error().code != Errc::not_found) return r;
  return {};
}

Result<std::uint32_t> delete_from_page(WriteTxn& txn, std::uint64_t mailbox_id,
                                       std::span<const std::uint32_t> uids) {
  std::vector<std::uint32_t> present;
  for (std::uint32_t uid : uids) {
    if (std::find(present.begin(), present.end(), uid) != present.end()) continue;
    auto v = txn.get(Db::messages, message_key(mailbox_id, uid));
    if (v) {
      present.push_back(uid);
    } else if (v.error().code != Errc::not_found) {
      return v.error();
    }
  }
  if (present.empty()) return 0u;
  if (auto r = delete_messages(txn, mailbox_id, present); !r) return r.error();
  return static_cast<std::uint32_t>(present.size());
}

}  // namespace postern::store
