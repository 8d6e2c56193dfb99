// deliver(): message rows, mailbox counters, the ledger steps and the body reference.
#include "store/delivery.h"

#include "store/catalogue.h"
#include "store/collect_accounts.h"
#include "store/daily_counts.h"
#include "store/delivery_ledger.h"
#include "store/events.h"
#include "store/ledger.h"
#include "store/mailbox.h"

namespace postern::store {
namespace {

Error err(Errc code, const char* where, int sys = 0) {
  return core::make_error(code, where, sys);
}

}  // namespace

Result<DeliveryOutcome> deliver(WriteTxn& txn, const DeliveryRequest& request) {
  const SpooledBody& body = request.body;
  if (request.recipients.empty()) return err(Errc::invalid, "no-recipients");
  if (body.in_memory() && body.memory.size() != body.size) return err(Errc::invalid, "body-size");

  DeliveryOutcome outcome;
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < request.recipients.size(); ++i) {
    const Recipient& rcpt = request.recipients[i];
    auto user = find_user(txn, rcpt.address);
    if (!user) return user.error();
    const std::uint64_t mailbox_id = user->record.mailbox_id;
    Delivered out{user->address, mailbox_id};
    if (rcpt.supersede_partial) {
      auto r =
          supersede_partial(txn, request, user->address, mailbox_id, *rcpt.supersede_partial, out);
      if (!r) return r.error();
    }
    auto live = live_row(txn, request, mailbox_id, rcpt);
    if (!live) return live.error();
    if (*live) {
      // A retry (or a broken retry) of a copy in the window: answered 250 by
      // the caller, counted, not stored again.
      const auto& [row, rule] = **live;
      out.suppressed = true;
      out.uid = row.uid;
      out.first_seen = row.first_seen;
      if (auto r = add_stat(txn, kStatDuplicatesSuppressed); !r) return r.error();
      std::string text = "mailbox=" + user->address +
                         " message_id=" + (request.message_id.empty() ? "-" : request.message_id) +
                         " rule=" + rule + " first_seen=" + std::to_string(row.first_seen);
      if (request.flags & kFlagPartial) text += " partial=yes";
      if (auto r = append_event(txn, "duplicate-suppressed", text, request.received_at); !r) {
        return r.error();
      }
      outcome.delivered.push_back(std::move(out));
      continue;
    }

    auto mailbox = find_mailbox(txn, mailbox_id);
    if (!mailbox) return err(Errc::corrupt, "user-mailbox");
    const std::uint64_t quota = user->record.quota_bytes;
    if (quota != 0 && mailbox->used_bytes + body.size > quota) return err(Errc::full, "quota");
    if (mailbox->next_uid == UINT32_MAX) return err(Errc::full, "uid-space");

    std::uint64_t unique_id = 0;
    auto next = next_sequence(txn, kMetaNextUniqueId);
    if (!next) return next.error();
    if (i == 0 && request.unique_id >= *next && request.unique_id < kMaxRestoredUniqueId) {
      // Restore: the sequence moves past it, so it can never be handed out again.
      unique_id = request.unique_id;
      if (auto r = txn.put(Db::meta, kMetaNextUniqueId, encode_u64(unique_id + 1)); !r) {
        return r.error();
      }
    } else {
      unique_id = *next;
    }
    const std::uint32_t uid = mailbox->next_uid++;
    mailbox->message_count++;
    mailbox->used_bytes += body.size;
    MessageRecord msg{body.hash, body.size, request.received_at, request.flags, unique_id};
    if (auto r = txn.put(Db::messages, message_key(mailbox_id, uid), encode(msg)); !r) {
      return r.error();
    }
    if (auto r = txn.put(Db::mailboxes, encode_u64(mailbox_id), encode(*mailbox)); !r) {
      return r.error();
    }
    if (auto r = record_rows(txn, request, mailbox_id, rcpt, uid); !r) return r.error();
    if (request.flags & kFlagPartial) {
      if (auto r = add_stat(txn, kStatPartialsKept); !r) return r.error();
      std::string text = "mailbox=" + user->address + " uid=" + std::to_string(uid) +
                         " message_id=" + (request.message_id.empty() ? "-" : request.message_id) +
                         " replaceable=" + (rcpt.partial_key ? "yes" : "no");
      if (auto r = append_event(txn, "partial-kept", text, request.received_at); !r) {
        return r.error();
      }
    }
    out.uid = uid;
    out.unique_id = unique_id;
    outcome.delivered.push_back(std::move(out));
    ++stored;
  }
  if (stored > 0) {
    if (auto r = add_body_refs(txn, body, stored); !r) return r.error();
    if (request.count_on_day != 0) {
      auto r = add_daily_count(txn, kStatReceivedToday, request.count_on_day, stored);
      if (!r) return r.error();
    }
  } else if (auto r = drop_unowned_chunks(txn, body); !r) {
    return r.error();
  }
  if (request.collect_account != 0) {
    const Delivered& first = outcome.delivered.front();
    auto r = record_collected(txn, request.collect_account, request.collect_uidl,
                              CollectedRecord{first.uid, request.received_at});
    if (!r) return r.error();
  }
  return outcome;
}

}  // namespace postern::store
