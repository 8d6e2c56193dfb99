// Events: (time BE64, seq BE64) -> kind length, kind, text; trimmed oldest-first.
#include "store/events.h"

#include "core/bytes.h"
#include "store/records.h"

namespace postern::store {

Result<void> append_event(WriteTxn& txn, std::string_view kind, std::string_view text,
                          std::int64_t time, std::uint64_t keep) {
  if (kind.empty() || kind.size() > 255) return core::make_error(Errc::invalid, "event-kind");
  if (keep == 0) keep = txn.env().options().max_events;
  if (keep == 0) keep = 1;
  auto seq = next_sequence(txn, kMetaNextEventSeq);
  if (!seq) return seq.error();
  std::string key;
  core::put_be64(key, static_cast<std::uint64_t>(time < 0 ? 0 : time));
  core::put_be64(key, *seq);
  std::string value;
  value.push_back(static_cast<char>(kind.size()));
  value += kind;
  value += text;
  if (auto r = txn.put(Db::events, key, value); !r) return r;

  auto count = entry_count(txn, Db::events);
  if (!count) return count.error();
  if (*count <= keep) return {};
  std::uint64_t excess = *count - keep;
  std::vector<std::string> oldest;
  auto r = for_each(txn, Db::events, {}, [&](std::string_view k, std::string_view) {
    oldest.emplace_back(k);
    return oldest.size() < excess;
  });
  if (!r) return r;
  for (const auto& k : oldest) {
    if (auto d = txn.del(Db::events, k); !d) return d;
  }
  return {};
}

Result<std::vector<Event>> query_events(Txn& txn, std::size_t limit, std::int64_t since) {
  std::vector<Event> out;
  if (limit == 0) return out;
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn.handle(), txn.dbi(Db::events), &cursor);
  if (rc != 0) return mdb_error(rc, "cursor-open");
  MDB_val k, v;
  // Newest first: walk backwards from the last key.
  rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
  Result<void> bad;
  while (rc == 0 && out.size() < limit) {
    std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
    std::string_view value(static_cast<const char*>(v.mv_data), v.mv_size);
    if (key.size() != 16 || value.empty() ||
        value.size() < 1u + static_cast<unsigned char>(value[0])) {
      bad = core::make_error(Errc::corrupt, "event-record");
      break;
    }
    Event e;
    e.time = static_cast<std::int64_t>(core::get_be64(key, 0));
    if (e.time < since) break;
    e.seq = core::get_be64(key, 8);
    std::size_t kind_len = static_cast<unsigned char>(value[0]);
    e.kind = std::string(value.substr(1, kind_len));
    e.text = std::string(value.substr(1 + kind_len));
    out.push_back(std::move(e));
    rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
  }
  mdb_cursor_close(cursor);
  if (!bad) return bad.error();
  if (rc != 0 && rc != MDB_NOTFOUND) return mdb_error(rc, "cursor-get");
  return out;
}

}  // namespace postern::store
