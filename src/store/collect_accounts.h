// External POP3 accounts collected into local mailboxes (src/collect), their
// run status, and the UIDLs already collected (FORMAT.md: collect_accounts,
// collected). A UIDL row is written by store::deliver in the txn that stores
// the mail (DeliveryRequest::collect_account), never on its own: "stored" and
// "remembered" are one commit, so a crash cannot make a mail collected twice.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/env.h"

namespace postern::store {

enum class CollectTls : std::uint8_t { pop3s = 0, stls = 1, plain = 2 };
enum class CollectKeep : std::uint8_t {
  keep = 0,
  delete_after_days = 1,
  delete_once_collected = 2
};

struct CollectAccount {
  std::uint64_t id = 0;  // from meta next_collect_id; key of the row
  std::string mailbox;   // the local address (users key) mail is delivered to
  std::string host;      // the POP3 server, a name or an IP literal
  std::uint16_t port = 995;
  CollectTls tls = CollectTls::pop3s;
  std::string user;
  std::string sealed_password;  // store/sealed.h: AES-GCM, never the clear text
  std::uint32_t interval_seconds = 900;
  CollectKeep keep = CollectKeep::keep;
  std::uint32_t delete_after_days = 0;
  std::string pin;  // lowercase hex SHA-256 of the server certificate (DER); empty = CA check
};

// The last run, for the page and `postern collect list`.
struct CollectStatus {
  std::int64_t last_run = 0;      // unix s; 0 = never
  std::int64_t last_success = 0;  // unix s
  std::uint64_t mails = 0;        // collected, all runs
  std::uint64_t bytes = 0;
  std::uint32_t failures_in_row = 0;  // drives the backoff
  bool uid_from_headers = false;      // the server has no UIDL
  std::string error;                  // the last run's failure, one sentence; empty = fine
};

struct CollectedRecord {
  std::uint32_t uid = 0;          // local uid of the stored (or original) copy
  std::int64_t collected_at = 0;  // unix s
};

inline constexpr const char* kMetaNextCollectId = "next_collect_id";

std::string encode(const CollectAccount& a);
Result<CollectAccount> decode_collect_account(std::uint64_t id, std::string_view v);

// Adds `account` (id allocated, returned). The mailbox must be a user (not_found "user").
Result<std::uint64_t> add_collect_account(WriteTxn& txn, CollectAccount account);
// Rewrites an existing account's row (same id): a new pin or password keeps
// the collected UIDLs (not_found "collect-account").
Result<void> update_collect_account(WriteTxn& txn, const CollectAccount& account);
// Removes the account, its status and every collected row (not_found "collect-account").
Result<void> drop_collect_account(WriteTxn& txn, std::uint64_t id);
Result<std::vector<CollectAccount>> list_collect_accounts(Txn& txn);
Result<CollectAccount> find_collect_account(Txn& txn, std::uint64_t id);

Result<CollectStatus> collect_status(Txn& txn, std::uint64_t id);  // default when absent
Result<void> put_collect_status(WriteTxn& txn, std::uint64_t id, const CollectStatus& status);

// The UIDLs collected for an account, with when and where.
Result<void> record_collected(WriteTxn& txn, std::uint64_t account, std::string_view uidl,
                              const CollectedRecord& record);
Result<std::map<std::string, CollectedRecord>> collected_uidls(Txn& txn, std::uint64_t account);

}  // namespace postern::store
