// The dedup ledger's rows and counters.
#include "store/ledger.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "store/events.h"

namespace postern::store {
namespace {

constexpr std::size_t kTimeKeyBytes = 8 + 4;  // TIME + sequence
constexpr std::size_t kRowKeyBytes = 40;      // dedup_key

std::string_view as_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

}  // namespace

Result<DedupStats> stats(Txn& txn) {
  DedupStats out;
  const std::pair<const char*, std::uint64_t*> keys[] = {
      {kStatDuplicatesSuppressed, &out.duplicates_suppressed},
      {kStatPartialsDiscarded, &out.partials_discarded},
      {kStatPartialsKept, &out.partials_kept},
      {kStatPartialsSuperseded, &out.partials_superseded}};
  for (const auto& [key, field] : keys) {
    auto v = txn.get(Db::meta, key);
    if (!v) {
      if (v.error().code == Errc::not_found) continue;
      return v.error();
    }
    if (v->size() != 8) return err(Errc::corrupt, "stat");
    *field = core::get_be64(*v);
  }
  return out;
}

Result<void> add_stat(WriteTxn& txn, const char* key, std::uint64_t n) {
  std::uint64_t value = 0;
  if (auto v = txn.get(Db::meta, key); v) {
    if (v->size() != 8) return err(Errc::corrupt, "stat");
    value = core::get_be64(*v);
  } else if (v.error().code != Errc::not_found) {
    return v.error();
  }
  return txn.put(Db::meta, key, encode_u64(value + n));
}

Result<void> record_partial_discarded(WriteTxn& txn, std::string_view text, std::int64_t time) {
  if (auto r = add_stat(txn, kStatPartialsDiscarded); !r) return r;
  return append_event(txn, "partial-discarded", text, time);
}

Result<DedupRecord> find_dedup(Txn& txn, std::uint64_t mailbox_id, const Fingerprint& fp) {
  auto v = txn.get(Db::dedup, dedup_key(mailbox_id, fp));
  if (!v) return err(v.error().code, "dedup");
  return decode_dedup(*v);
}

namespace {

// The `dedup_times` key of the next entry first seen at `t`: after every key
// of that second. Normally that is after the table's last key, and the put
// appends (MDB_APPEND leaves a full last page full instead of splitting it in
// half, so the index's pages stay full); after a clock step back the entry
// goes into the tree after the others of its second.
Result<void> put_time_entry(WriteTxn& txn, std::int64_t t, std::string_view row_key) {
  MDB_cursor* cursor = nullptr;
  if (int rc = mdb_cursor_open(txn.handle(), txn.dbi(Db::dedup_times), &cursor); rc != 0) {
    return mdb_error(rc, "cursor-open");
  }
  const auto second = static_cast<std::uint64_t>(t);
  MDB_val k{}, v{};
  int rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
  bool append = true;
  if (rc == 0 && k.mv_size == kTimeKeyBytes && core::get_be64(as_view(k)) > second) {
    append = false;  // the clock went back: find the last key of `second`, if any
    const std::string after = encode_u64(second + 1);
    k = MDB_val{after.size(), const_cast<char*>(after.data())};
    rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
    if (rc == 0) rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV);
  }
  std::uint32_t seq = 0;
  if (rc == 0) {
    if (k.mv_size != kTimeKeyBytes) {
      mdb_cursor_close(cursor);
      return err(Errc::corrupt, "dedup-times");
    }
    if (core::get_be64(as_view(k)) == second) seq = core::get_be32(as_view(k).substr(8)) + 1;
  } else if (rc != MDB_NOTFOUND) {
    mdb_cursor_close(cursor);
    return mdb_error(rc, "cursor-get");
  }
  mdb_cursor_close(cursor);
  std::string key = encode_u64(second);
  key += encode_u32(seq);
  return txn.put(Db::dedup_times, key, row_key, append ? MDB_APPEND : 0);
}

}  // namespace

Result<void> put_dedup(WriteTxn& txn, std::uint64_t mailbox_id, const Fingerprint& fp,
                       const DedupRecord& record) {
  const std::string row_key = dedup_key(mailbox_id, fp);
  if (auto r = txn.put(Db::dedup, row_key, encode(record)); !r) return r;
  return put_time_entry(txn, record.first_seen, row_key);
}

// Entries are in time order (TIME is big-endian), so the due ones are a prefix
// of the table: the slice reads at most max_entries of them and stops at the
// first entry not due.
Result<ExpireSlice> expire_dedup_slice(WriteTxn& txn, std::int64_t before,
                                       std::uint64_t max_entries,
                                       std::chrono::microseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::pair<std::string, std::string>> due;  // entry key, row key
  ExpireSlice out;
  Result<void> bad;
  auto r = for_each(txn, Db::dedup_times, {}, [&](std::string_view k, std::string_view v) {
    if (k.size() != kTimeKeyBytes || v.size() != kRowKeyBytes) {
      bad = err(Errc::corrupt, "dedup-times");
      return false;
    }
    if (static_cast<std::int64_t>(core::get_be64(k)) >= before) return false;
    if (due.size() == max_entries) {
      out.more = true;
      return false;
    }
    due.emplace_back(k, v);
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  for (const auto& [k, row_key] : due) {
    if (out.entries > 0 && out.entries % kExpireCheckEvery == 0 &&
        std::chrono::steady_clock::now() >= deadline) {
      out.more = true;
      break;
    }
    if (auto v = txn.get(Db::dedup, row_key); v) {
      auto rec = decode_dedup(*v);
      if (!rec) return rec.error();
      if (rec->first_seen == static_cast<std::int64_t>(core::get_be64(k))) {
        if (auto d = txn.del(Db::dedup, row_key); !d) return d.error();
        ++out.rows;
      }
    } else if (v.error().code != Errc::not_found) {
      return v.error();
    }
    if (auto d = txn.del(Db::dedup_times, k); !d) return d.error();
    ++out.entries;
  }
  return out;
}

Result<std::uint64_t> expire_dedup(WriteTxn& txn, std::int64_t before) {
  std::uint64_t rows = 0;
  for (;;) {
    auto slice = expire_dedup_slice(txn, before);
    if (!slice) return slice.error();
    rows += slice->rows;
    if (!slice->more) return rows;
  }
}

// Writes to dedup_times while a cursor reads dedup: another database, so the
// walk is undisturbed and nothing is held in memory.
Result<void> index_dedup_times(WriteTxn& txn) {
  Result<void> bad;
  auto r = for_each(txn, Db::dedup, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_dedup(v);
    if (!rec) {
      bad = rec.error();
      return false;
    }
    bad = put_time_entry(txn, rec->first_seen, k);
    return bad.has_value();
  });
  if (!r) return r;
  return bad;
}

}  // namespace postern::store
