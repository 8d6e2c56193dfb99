// Collection accounts, their status and collected UIDLs (FORMAT.md).
#include "store/collect_accounts.h"

#include "core/bytes.h"
#include "store/catalogue.h"
#include "store/records.h"

namespace postern::store {
namespace {
using core::get_be32;
using core::get_be64;
using core::put_be32;
using core::put_be64;

constexpr char kStatusTag = 's';

Error bad(const char* where) {
  return core::make_error(Errc::corrupt, where);
}

void put_str(std::string& out, std::string_view s) {
  core::put_be(out, s.size(), 2);
  out.append(s);
}

bool get_str(std::string_view v, std::size_t& pos, std::string& out) {
  if (pos + 2 > v.size()) return false;
  const std::size_t n = core::get_be(v, pos, 2);
  pos += 2;
  if (pos + n > v.size()) return false;
  out.assign(v.substr(pos, n));
  pos += n;
  return true;
}

std::string status_key(std::uint64_t id) {
  std::string k = encode_u64(id);
  k.push_back(kStatusTag);
  return k;
}

std::string collected_key(std::uint64_t account, std::string_view uidl) {
  std::string k = encode_u64(account);
  k.append(uidl);
  return k;
}

// Deletes every key of `db` starting with `prefix`.
Result<void> drop_prefix(WriteTxn& txn, Db db, const std::string& prefix) {
  std::vector<std::string> keys;
  auto r = for_each(txn, db, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  if (!r) return r;
  for (const auto& k : keys) {
    if (auto d = txn.del(db, k); !d) return d;
  }
  return {};
}
}  // namespace

std::string encode(const CollectAccount& a) {
  std::string out;
  out.push_back(static_cast<char>(a.tls));
  out.push_back(static_cast<char>(a.keep));
  core::put_be(out, a.port, 2);
  put_be32(out, a.interval_seconds);
  put_be32(out, a.delete_after_days);
  put_str(out, a.mailbox);
  put_str(out, a.host);
  put_str(out, a.user);
  put_str(out, a.sealed_password);
  put_str(out, a.pin);
  return out;
}

Result<CollectAccount> decode_collect_account(std::uint64_t id, std::string_view v) {
  CollectAccount a;
  a.id = id;
  if (v.size() < 12 || static_cast<std::uint8_t>(v[0]) > 2 || static_cast<std::uint8_t>(v[1]) > 2)
    return bad("collect-account");
  a.tls = static_cast<CollectTls>(v[0]);
  a.keep = static_cast<CollectKeep>(v[1]);
  a.port = static_cast<std::uint16_t>(core::get_be(v, 2, 2));
  a.interval_seconds = get_be32(v, 4);
  a.delete_after_days = get_be32(v, 8);
  std::size_t pos = 12;
  if (!get_str(v, pos, a.mailbox) || !get_str(v, pos, a.host) || !get_str(v, pos, a.user) ||
      !get_str(v, pos, a.sealed_password) || !get_str(v, pos, a.pin) || pos != v.size()) {
    return bad("collect-account");
  }
  return a;
}

Result<std::uint64_t> add_collect_account(WriteTxn& txn, CollectAccount account) {
  auto user = find_user(txn, account.mailbox);
  if (!user) return user.error();
  account.mailbox = user->address;
  auto next = next_sequence(txn, kMetaNextCollectId);
  if (!next) return next.error();
  const std::uint64_t id = *next;  // starts at 1 (absent counter)
  account.id = id;
  if (auto r = txn.put(Db::collect_accounts, encode_u64(id), encode(account)); !r) return r.error();
  return id;
}

Result<void> update_collect_account(WriteTxn& txn, const CollectAccount& account) {
  if (auto old = find_collect_account(txn, account.id); !old) return old.error();
  return txn.put(Db::collect_accounts, encode_u64(account.id), encode(account));
}

Result<void> drop_collect_account(WriteTxn& txn, std::uint64_t id) {
  if (auto r = txn.del(Db::collect_accounts, encode_u64(id)); !r) {
    if (r.error().code == Errc::not_found)
      return core::make_error(Errc::not_found, "collect-account");
    return r;
  }
  if (auto r = txn.del(Db::collect_accounts, status_key(id));
      !r && r.error().code != Errc::not_found)
    return r;
  return drop_prefix(txn, Db::collected, encode_u64(id));
}

Result<std::vector<CollectAccount>> list_collect_accounts(Txn& txn) {
  std::vector<CollectAccount> out;
  Result<void> failed;
  auto r = for_each(txn, Db::collect_accounts, {}, [&](std::string_view k, std::string_view v) {
    if (k.size() != 8) return true;  // a status row
    auto a = decode_collect_account(get_be64(k), v);
    if (!a) {
      failed = a.error();
      return false;
    }
    out.push_back(std::move(*a));
    return true;
  });
  if (!r) return r.error();
  if (!failed) return failed.error();
  return out;
}

Result<CollectAccount> find_collect_account(Txn& txn, std::uint64_t id) {
  auto v = txn.get(Db::collect_accounts, encode_u64(id));
  if (!v) {
    if (v.error().code == Errc::not_found)
      return core::make_error(Errc::not_found, "collect-account");
    return v.error();
  }
  return decode_collect_account(id, *v);
}

Result<CollectStatus> collect_status(Txn& txn, std::uint64_t id) {
  auto v = txn.get(Db::collect_accounts, status_key(id));
  if (!v) {
    if (v.error().code == Errc::not_found) return CollectStatus{};
    return v.error();
  }
  if (v->size() < 45) return bad("collect-status");
  CollectStatus s;
  s.last_run = static_cast<std::int64_t>(get_be64(*v, 0));
  s.last_success = static_cast<std::int64_t>(get_be64(*v, 8));
  s.mails = get_be64(*v, 16);
  s.bytes = get_be64(*v, 24);
  s.failures_in_row = get_be32(*v, 32);
  s.uid_from_headers = (*v)[36] != 0;
  // bytes 37..44: reserved, zero
  s.error.assign(v->substr(45));
  return s;
}

Result<void> put_collect_status(WriteTxn& txn, std::uint64_t id, const CollectStatus& s) {
  std::string out;
  put_be64(out, static_cast<std::uint64_t>(s.last_run));
  put_be64(out, static_cast<std::uint64_t>(s.last_success));
  put_be64(out, s.mails);
  put_be64(out, s.bytes);
  put_be32(out, s.failures_in_row);
  out.push_back(s.uid_from_headers ? 1 : 0);
  put_be64(out, 0);
  out += s.error;
  return txn.put(Db::collect_accounts, status_key(id), out);
}

Result<void> record_collected(WriteTxn& txn, std::uint64_t account, std::string_view uidl,
                              const CollectedRecord& record) {
  if (uidl.empty() || uidl.size() > 200) return core::make_error(Errc::invalid, "collect-uidl");
  std::string v;
  put_be32(v, record.uid);
  put_be64(v, static_cast<std::uint64_t>(record.collected_at));
  return txn.put(Db::collected, collected_key(account, uidl), v);
}

Result<std::map<std::string, CollectedRecord>> collected_uidls(Txn& txn, std::uint64_t account) {
  std::map<std::string, CollectedRecord> out;
  Result<void> failed;
  auto r = for_each(
      txn, Db::collected, encode_u64(account), [&](std::string_view k, std::string_view v) {
        if (v.size() != 12) {
          failed = bad("collected");
          return false;
        }
        out.emplace(std::string(k.substr(8)),
                    CollectedRecord{get_be32(v, 0), static_cast<std::int64_t>(get_be64(v, 4))});
        return true;
      });
  if (!r) return r.error();
  if (!failed) return failed.error();
  return out;
}

}  // namespace postern::store
