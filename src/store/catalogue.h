// The catalogue: domains, users, aliases and settings (the CLI's verbs).
//
// Every writer takes a WriteTxn&, so it runs synchronously under run_write()
// (CLI) or as a Writer job (server). Readers take any Txn&. Addresses are
// canonicalised (normalize_address below) before they become keys; bad input is Errc::invalid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/env.h"
#include "store/records.h"

namespace postern::store {

// The store's key for an address or a domain (src/address/address.h): domains as
// lowercase A-labels, local parts in NFC and lowercase, so "Jörg@Bücher.example" and
// "jo\u0308rg@xn--bcher-kva.example" are one key. Callers may pass either form, as typed
// or as sent in RCPT/USER. A bad name is Errc::invalid with where = address::where(),
// e.g. "domain-space"; callers that hold the text call address::parse_mailbox() or
// canonical_domain() themselves for the full sentence.
Result<std::string> normalize_address(std::string_view address);
Result<std::string> normalize_domain(std::string_view domain);
// The part after '@'. REQUIRES: a normalized address.
std::string_view domain_of(std::string_view address);

struct DomainInfo {
  std::string name;
  std::uint64_t id = 0;
  DedupRule dedup = DedupRule::content;
};
Result<DomainInfo> add_domain(WriteTxn& txn, std::string_view name,
                              DedupRule dedup = DedupRule::content);
Result<void> set_domain_dedup(WriteTxn& txn, std::string_view name, DedupRule dedup);
// Errc::exists with where="domain-has-users" while users or aliases remain.
Result<void> del_domain(WriteTxn& txn, std::string_view name);
Result<DomainInfo> find_domain(Txn& txn, std::string_view name);
bool is_local_domain(Txn& txn, std::string_view name);
Result<std::vector<DomainInfo>> list_domains(Txn& txn);

struct UserInfo {
  std::string address;
  UserRecord record;
};
// The domain must exist (not_found, where="domain"); a new mailbox is made.
Result<UserInfo> add_user(WriteTxn& txn, std::string_view address, std::string_view password_hash,
                          std::uint64_t quota_bytes = 0);
// Removes the user's messages (dropping body references), dedup rows and mailbox.
Result<void> del_user(WriteTxn& txn, std::string_view address);
Result<void> set_password_hash(WriteTxn& txn, std::string_view address, std::string_view hash);
Result<void> set_quota(WriteTxn& txn, std::string_view address, std::uint64_t quota_bytes);
Result<UserInfo> find_user(Txn& txn, std::string_view address);

struct UserSummary {
  std::string address;
  std::uint64_t quota_bytes = 0;
  std::uint64_t mailbox_id = 0;
  std::uint32_t message_count = 0;
  std::uint64_t used_bytes = 0;
};
// All users, or those of one domain when `domain` is not empty.
Result<std::vector<UserSummary>> list_users(Txn& txn, std::string_view domain = {});

// Aliases map an address to a target address; policy (such as postmaster@
// always resolving, RFC 5321 §4.5.1) belongs to callers.
Result<void> add_alias(WriteTxn& txn, std::string_view address, std::string_view target);
Result<void> del_alias(WriteTxn& txn, std::string_view address);
Result<std::string> find_alias(Txn& txn, std::string_view address);
Result<std::vector<std::pair<std::string, std::string>>> list_aliases(Txn& txn);

// Settings: free-form key -> value strings under "setting:<key>" in meta.
Result<std::string> get_setting(Txn& txn, std::string_view key);
Result<void> set_setting(WriteTxn& txn, std::string_view key, std::string_view value);

}  // namespace postern::store
