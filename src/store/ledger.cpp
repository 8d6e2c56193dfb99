// The dedup ledger's rows and counters.
#include "store/ledger.h"

#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "store/events.h"

namespace postern::store {
namespace {

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

Result<std::uint64_t> expire_dedup(WriteTxn& txn, std::int64_t before) {
  std::vector<std::string> old;
  Result<void> bad;
  auto r = for_each(txn, Db::dedup, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_dedup(v);
    if (!rec) {
      bad = rec.error();
      return false;
    }
    if (rec->first_seen < before) old.emplace_back(k);
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  for (const auto& k : old) {
    if (auto d = txn.del(Db::dedup, k); !d) return d.error();
  }
  return static_cast<std::uint64_t>(old.size());
}

}  // namespace postern::store
