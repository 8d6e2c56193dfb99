// Domains, users, aliases and settings on top of the records in FORMAT.md.
#include "store/catalogue.h"

#include "address/address.h"
#include "core/bytes.h"
#include "store/mailbox.h"

namespace postern::store {
namespace {

Error invalid(const char* where) {
  return core::make_error(Errc::invalid, where);
}

// A bad name crosses into the store's Result as Errc::invalid; where() names the
// reason (address::reason_for_where() turns it back into words).
Error invalid_name(const address::Error& e) {
  return core::make_error(Errc::invalid, address::where(e));
}

std::string setting_key(std::string_view key) {
  std::string k(kSettingPrefix);
  k += key;
  return k;
}

Result<std::string> user_key(std::string_view address) {
  return normalize_address(address);
}

}  // namespace

Result<std::string> normalize_domain(std::string_view domain) {
  auto canonical = address::canonical_domain(domain);
  if (!canonical) return invalid_name(canonical.error());
  return std::move(*canonical);
}

Result<std::string> normalize_address(std::string_view address) {
  auto mailbox = address::parse_mailbox(address);
  if (!mailbox) return invalid_name(mailbox.error());
  return mailbox->key();
}

std::string_view domain_of(std::string_view address) {
  return address.substr(address.rfind('@') + 1);
}

Result<DomainInfo> add_domain(WriteTxn& txn, std::string_view name, DedupRule dedup) {
  auto key = normalize_domain(name);
  if (!key) return key.error();
  if (txn.get(Db::domains, *key)) return core::make_error(Errc::exists, "domain");
  auto id = next_sequence(txn, kMetaNextDomainId);
  if (!id) return id.error();
  DomainRecord rec{*id, dedup};
  if (auto r = txn.put(Db::domains, *key, encode(rec)); !r) return r.error();
  return DomainInfo{*key, rec.id, rec.dedup};
}

Result<void> set_domain_dedup(WriteTxn& txn, std::string_view name, DedupRule dedup) {
  auto found = find_domain(txn, name);
  if (!found) return found.error();
  return txn.put(Db::domains, found->name, encode(DomainRecord{found->id, dedup}));
}

Result<void> del_domain(WriteTxn& txn, std::string_view name) {
  auto found = find_domain(txn, name);
  if (!found) return found.error();
  const std::string suffix = "@" + found->name;
  bool used = false;
  auto ends_here = [&](std::string_view key, std::string_view) {
    used = key.size() > suffix.size() && key.substr(key.size() - suffix.size()) == suffix;
    return !used;
  };
  if (auto r = for_each(txn, Db::users, {}, ends_here); !r) return r;
  if (used) return core::make_error(Errc::exists, "domain-has-users");
  if (auto r = for_each(txn, Db::aliases, {}, ends_here); !r) return r;
  if (used) return core::make_error(Errc::exists, "domain-has-aliases");
  return txn.del(Db::domains, found->name);
}

Result<DomainInfo> find_domain(Txn& txn, std::string_view name) {
  auto key = normalize_domain(name);
  if (!key) return key.error();
  auto v = txn.get(Db::domains, *key);
  if (!v) return core::make_error(v.error().code, "domain");
  auto rec = decode_domain(*v);
  if (!rec) return rec.error();
  return DomainInfo{*key, rec->id, rec->dedup};
}

bool is_local_domain(Txn& txn, std::string_view name) {
  return find_domain(txn, name).has_value();
}

Result<std::vector<DomainInfo>> list_domains(Txn& txn) {
  std::vector<DomainInfo> out;
  Result<void> bad;
  auto r = for_each(txn, Db::domains, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_domain(v);
    if (!rec) {
      bad = rec.error();
      return false;
    }
    out.push_back(DomainInfo{std::string(k), rec->id, rec->dedup});
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  return out;
}

Result<UserInfo> add_user(WriteTxn& txn, std::string_view address, std::string_view password_hash,
                          std::uint64_t quota_bytes) {
  auto key = user_key(address);
  if (!key) return key.error();
  if (!find_domain(txn, domain_of(*key))) return core::make_error(Errc::not_found, "domain");
  if (txn.get(Db::users, *key)) return core::make_error(Errc::exists, "user");
  if (txn.get(Db::aliases, *key)) return core::make_error(Errc::exists, "user-is-alias");
  auto id = next_sequence(txn, kMetaNextMailboxId);
  if (!id) return id.error();
  if (auto r = txn.put(Db::mailboxes, encode_u64(*id), encode(MailboxRecord{})); !r) {
    return r.error();
  }
  UserRecord rec{quota_bytes, *id, std::string(password_hash)};
  if (auto r = txn.put(Db::users, *key, encode(rec)); !r) return r.error();
  return UserInfo{*key, rec};
}

Result<UserInfo> find_user(Txn& txn, std::string_view address) {
  auto key = user_key(address);
  if (!key) return key.error();
  auto v = txn.get(Db::users, *key);
  if (!v) return core::make_error(v.error().code, "user");
  auto rec = decode_user(*v);
  if (!rec) return rec.error();
  return UserInfo{*key, *rec};
}

Result<void> del_user(WriteTxn& txn, std::string_view address) {
  auto user = find_user(txn, address);
  if (!user) return user.error();
  if (auto r = drop_mailbox(txn, user->record.mailbox_id); !r) return r;
  return txn.del(Db::users, user->address);
}

Result<void> set_password_hash(WriteTxn& txn, std::string_view address, std::string_view hash) {
  auto user = find_user(txn, address);
  if (!user) return user.error();
  user->record.password_hash = std::string(hash);
  return txn.put(Db::users, user->address, encode(user->record));
}

Result<void> set_quota(WriteTxn& txn, std::string_view address, std::uint64_t quota_bytes) {
  auto user = find_user(txn, address);
  if (!user) return user.error();
  user->record.quota_bytes = quota_bytes;
  return txn.put(Db::users, user->address, encode(user->record));
}

Result<std::vector<UserSummary>> list_users(Txn& txn, std::string_view domain) {
  std::string suffix;
  if (!domain.empty()) {
    auto d = normalize_domain(domain);
    if (!d) return d.error();
    suffix = "@" + *d;
  }
  std::vector<UserSummary> out;
  Result<void> bad;
  auto r = for_each(txn, Db::users, {}, [&](std::string_view k, std::string_view v) {
    if (!suffix.empty() &&
        (k.size() <= suffix.size() || k.substr(k.size() - suffix.size()) != suffix)) {
      return true;
    }
    auto rec = decode_user(v);
    if (!rec) {
      bad = rec.error();
      return false;
    }
    auto mailbox = find_mailbox(txn, rec->mailbox_id);
    if (!mailbox) {
      bad = core::make_error(Errc::corrupt, "user-mailbox");
      return false;
    }
    out.push_back(UserSummary{std::string(k), rec->quota_bytes, rec->mailbox_id,
                              mailbox->message_count, mailbox->used_bytes});
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  return out;
}

Result<void> add_alias(WriteTxn& txn, std::string_view address, std::string_view target) {
  auto key = normalize_address(address);
  if (!key) return key.error();
  auto to = normalize_address(target);
  if (!to) return to.error();
  if (*key == *to) return invalid("alias-loop");
  if (!find_domain(txn, domain_of(*key))) return core::make_error(Errc::not_found, "domain");
  if (txn.get(Db::users, *key)) return core::make_error(Errc::exists, "alias-is-user");
  return txn.put(Db::aliases, *key, *to);
}

Result<void> del_alias(WriteTxn& txn, std::string_view address) {
  auto key = normalize_address(address);
  if (!key) return key.error();
  auto r = txn.del(Db::aliases, *key);
  if (!r) return core::make_error(r.error().code, "alias");
  return {};
}

Result<std::string> find_alias(Txn& txn, std::string_view address) {
  auto key = normalize_address(address);
  if (!key) return key.error();
  auto v = txn.get(Db::aliases, *key);
  if (!v) return core::make_error(v.error().code, "alias");
  return std::string(*v);
}

Result<std::vector<std::pair<std::string, std::string>>> list_aliases(Txn& txn) {
  std::vector<std::pair<std::string, std::string>> out;
  auto r = for_each(txn, Db::aliases, {}, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  if (!r) return r.error();
  return out;
}

Result<std::string> get_setting(Txn& txn, std::string_view key) {
  auto v = txn.get(Db::meta, setting_key(key));
  if (!v) return core::make_error(v.error().code, "setting");
  return std::string(*v);
}

Result<void> set_setting(WriteTxn& txn, std::string_view key, std::string_view value) {
  if (key.empty() || key.size() > 200) return invalid("setting-key");
  return txn.put(Db::meta, setting_key(key), value);
}

}  // namespace postern::store
