// The dedup ledger: rows per (mailbox, fingerprint), partial supersede, counters.
//
// Called from deliver() inside the delivering transaction, so a retry that
// arrives in the same batch as its original is caught (src/dedup has the policy).
#include "store/ledger.h"

#include <optional>
#include <span>
#include <vector>

#include "core/bytes.h"
#include "store/events.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

}  // namespace

// Ledger step 1: the kept partial named by `key` goes, downloaded or not (issue 14 §4: left
// in place, every other device of the owner would download the broken copy too, and the
// mailbox would hold the duplicate). A client that already has it keeps its local copy;
// nothing is lost, and the event says it had been downloaded.
Result<void> supersede_partial(WriteTxn& txn, const DeliveryRequest& request,
                               const std::string& address, std::uint64_t mailbox_id,
                               const Fingerprint& key, Delivered& out) {
  const std::string row_key = dedup_key(mailbox_id, key);
  auto row = txn.get(Db::dedup, row_key);
  if (!row) return row.error().code == Errc::not_found ? Result<void>() : row.error();
  auto rec = decode_dedup(*row);
  if (!rec) return rec.error();
  if (auto d = txn.del(Db::dedup, row_key); !d) return d;
  auto msg = txn.get(Db::messages, message_key(mailbox_id, rec->uid));
  if (!msg) return msg.error().code == Errc::not_found ? Result<void>() : msg.error();
  auto info = decode_message(*msg);
  if (!info) return info.error();
  if (!(info->flags & kFlagPartial)) return {};
  const bool downloaded = (info->flags & kFlagRetrieved) != 0;
  const std::uint32_t uid = rec->uid;
  if (auto d = delete_messages(txn, mailbox_id, std::span<const std::uint32_t>(&uid, 1)); !d) {
    return d;
  }
  out.superseded_partial_uid = uid;
  out.superseded_partial_downloaded = downloaded;
  if (auto r = add_stat(txn, kStatPartialsSuperseded); !r) return r;
  const std::string text = "mailbox=" + address + " uid=" + std::to_string(uid) + " message_id=" +
                           (request.message_id.empty() ? "-" : request.message_id) +
                           " removed=yes downloaded=" + (downloaded ? "yes" : "no");
  return append_event(txn, "partial-superseded", text, request.received_at);
}

// Ledger step 2: the first live row among `check`, if any.
Result<std::optional<std::pair<DedupRecord, const char*>>> live_row(Txn& txn,
                                                                    const DeliveryRequest& request,
                                                                    std::uint64_t mailbox_id,
                                                                    const Recipient& rcpt) {
  for (const DedupCheck& c : rcpt.check) {
    auto v = txn.get(Db::dedup, dedup_key(mailbox_id, c.fp));
    if (!v) {
      if (v.error().code == Errc::not_found) continue;
      return v.error();
    }
    auto rec = decode_dedup(*v);
    if (!rec) return rec.error();
    if (rec->first_seen >= request.dedup_not_before) {
      return std::optional<std::pair<DedupRecord, const char*>>(std::make_pair(*rec, c.rule));
    }
  }
  return std::optional<std::pair<DedupRecord, const char*>>();
}

// Ledger step 3: rows for a stored copy. A live row is kept (first seen stays
// true when a rule or the switch let a second copy through); an expired one
// is overwritten.
Result<void> record_rows(WriteTxn& txn, const DeliveryRequest& request, std::uint64_t mailbox_id,
                         const Recipient& rcpt, std::uint32_t uid) {
  std::vector<Fingerprint> rows;
  if (request.flags & kFlagPartial) {
    if (rcpt.partial_key) rows.push_back(*rcpt.partial_key);
  } else {
    rows = rcpt.record;
  }
  for (const Fingerprint& fp : rows) {
    const std::string key = dedup_key(mailbox_id, fp);
    if (auto v = txn.get(Db::dedup, key); v) {
      auto rec = decode_dedup(*v);
      if (!rec) return rec.error();
      const bool partial_row = rcpt.partial_key && fp == *rcpt.partial_key;
      if (rec->first_seen >= request.dedup_not_before && !partial_row) continue;
    } else if (v.error().code != Errc::not_found) {
      return v.error();
    }
    if (auto r = txn.put(Db::dedup, key, encode(DedupRecord{request.received_at, uid})); !r) {
      return r;
    }
  }
  return {};
}

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

Result<void> add_daily_count(WriteTxn& txn, const char* key, std::int64_t day_start,
                             std::uint64_t n) {
  auto count = daily_count(txn, key, day_start);
  if (!count) return count.error();
  std::string value = encode_u64(static_cast<std::uint64_t>(day_start));
  value += encode_u64(*count + n);
  return txn.put(Db::meta, key, value);
}

Result<std::uint64_t> daily_count(Txn& txn, const char* key, std::int64_t day_start) {
  auto v = txn.get(Db::meta, key);
  if (!v) return v.error().code == Errc::not_found ? Result<std::uint64_t>(0) : v.error();
  if (v->size() != 16) return err(Errc::corrupt, "daily-count");
  if (static_cast<std::int64_t>(core::get_be64(*v)) != day_start) return std::uint64_t{0};
  return core::get_be64(*v, 8);
}

}  // namespace postern::store
