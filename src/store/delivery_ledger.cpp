// The ledger's three steps inside deliver(): supersede a kept partial, find a
// live row, record the rows of a stored copy.
#include "store/delivery_ledger.h"

#include <span>
#include <vector>

#include "store/events.h"
#include "store/ledger.h"
#include "store/mailbox.h"

namespace postern::store {
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
    if (auto r = put_dedup(txn, mailbox_id, fp, DedupRecord{request.received_at, uid}); !r) {
      return r;
    }
  }
  return {};
}

}  // namespace postern::store
