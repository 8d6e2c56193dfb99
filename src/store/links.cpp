// Links: (target length, target, time BE64 ms) -> rtt BE32, sent, lost; trimmed per target.
#include "store/links.h"

#include "core/bytes.h"

namespace postern::store {

namespace {

std::string target_prefix(std::string_view target) {
  std::string key;
  key.push_back(static_cast<char>(target.size()));
  key += target;
  return key;
}

}  // namespace

Result<void> append_link_sample(WriteTxn& txn, std::string_view target, std::int64_t time_ms,
                                std::uint32_t rtt_us, std::uint8_t lost, std::uint8_t sent,
                                std::uint64_t keep) {
  if (target.empty() || target.size() > 255) return core::make_error(Errc::invalid, "link-target");
  if (sent == 0 || lost > sent) return core::make_error(Errc::invalid, "link-sample");
  if (keep == 0) keep = kLinkSamplesPerTarget;
  const std::string prefix = target_prefix(target);
  std::string key = prefix;
  core::put_be64(key, static_cast<std::uint64_t>(time_ms < 0 ? 0 : time_ms));
  std::string value;
  core::put_be32(value, rtt_us);
  value.push_back(static_cast<char>(sent));
  value.push_back(static_cast<char>(lost));
  if (auto r = txn.put(Db::links, key, value); !r) return r;

  // Keys of one target are contiguous and in time order: collect them, drop the oldest.
  std::vector<std::string> keys;
  auto r = for_each(txn, Db::links, prefix, [&](std::string_view k, std::string_view) {
    if (k.size() == prefix.size() + 8) keys.emplace_back(k);  // not a longer target's key
    return true;
  });
  if (!r) return r;
  if (keys.size() <= keep) return {};
  for (std::size_t i = 0; i < keys.size() - keep; ++i) {
    if (auto d = txn.del(Db::links, keys[i]); !d) return d;
  }
  return {};
}

Result<std::vector<LinkSample>> query_link_samples(Txn& txn, std::string_view target,
                                                   std::int64_t since_ms, std::size_t limit) {
  std::vector<LinkSample> all;
  if (target.empty() || target.size() > 255) return all;
  const std::string prefix = target_prefix(target);
  Result<void> bad;
  auto r = for_each(txn, Db::links, prefix, [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 8) return true;  // a longer target sharing the prefix
    if (v.size() != 6) {
      bad = core::make_error(Errc::corrupt, "link-record");
      return false;
    }
    LinkSample s;
    s.time_ms = static_cast<std::int64_t>(core::get_be64(k, prefix.size()));
    if (s.time_ms < since_ms) return true;
    s.rtt_us = core::get_be32(v, 0);
    s.sent = static_cast<std::uint8_t>(v[4]);
    s.lost = static_cast<std::uint8_t>(v[5]);
    all.push_back(s);
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  std::vector<LinkSample> out;
  for (auto it = all.rbegin(); it != all.rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

Result<std::vector<std::string>> link_targets(Txn& txn) {
  std::vector<std::string> out;
  auto r = for_each(txn, Db::links, {}, [&](std::string_view k, std::string_view) {
    const std::size_t n = k.empty() ? 0 : static_cast<unsigned char>(k[0]);
    if (k.size() == 1 + n + 8 && (out.empty() || out.back() != k.substr(1, n))) {
      out.emplace_back(k.substr(1, n));
    }
    return true;
  });
  if (!r) return r.error();
  return out;
}

}  // namespace postern::store
