// Counts and the cross-table consistency check.
#include "store/check.h"

#include <map>
#include <set>
#include <unordered_set>

#include "core/bytes.h"
#include "core/log.h"
#include "store/body_key.h"
#include "store/catalogue.h"
#include "store/records.h"
#include "store/sha256.h"

namespace postern::store {
namespace {

Error broken(const char* rule, const std::string& detail) {
  POSTERN_LOG_ERROR("store event=check-failed rule=%s %s", rule, detail.c_str());
  return core::make_error(Errc::corrupt, rule);
}

struct MailboxTally {
  std::uint32_t count = 0;
  std::uint64_t bytes = 0;
  std::uint32_t max_uid = 0;
};

Result<StoreCounts> counts_in(const Env& env, ReadTxn& txn, bool body_bytes) {
  StoreCounts c;
  struct {
    Db db;
    std::uint64_t* out;
  } tables[] = {
      {Db::domains, &c.domains},     {Db::users, &c.users},       {Db::aliases, &c.aliases},
      {Db::mailboxes, &c.mailboxes}, {Db::messages, &c.messages}, {Db::bodies, &c.bodies},
      {Db::chunks, &c.chunks},       {Db::events, &c.events},     {Db::dedup, &c.dedup}};
  for (auto& t : tables) {
    auto n = entry_count(txn, t.db);
    if (!n) return n.error();
    *t.out = *n;
  }
  if (body_bytes) {
    Result<void> bad;
    auto r = for_each(txn, Db::bodies, {}, [&](std::string_view, std::string_view v) {
      auto rec = decode_body(v);
      if (!rec) {
        bad = rec.error();
        return false;
      }
      c.body_bytes += rec->size;
      return true;
    });
    if (!r) return r.error();
    if (!bad) return bad.error();
  }
  MDB_envinfo info;
  MDB_stat st;
  mdb_env_info(env.handle(), &info);
  mdb_env_stat(env.handle(), &st);
  c.map_bytes = info.me_mapsize;
  c.map_used_bytes = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  return c;
}

}  // namespace

Result<StoreCounts> store_counts(const Env& env) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  return counts_in(env, *txn, /*body_bytes=*/true);
}

Result<StoreCounts> table_counts(const Env& env) {
  auto txn = env.begin_read();
  if (!txn) return txn.error();
  return counts_in(env, *txn, /*body_bytes=*/false);
}

Result<CheckReport> check_consistency(const Env& env, bool deep) {
  auto txn_r = env.begin_read();
  if (!txn_r) return txn_r.error();
  ReadTxn& txn = *txn_r;

  // Users -> mailboxes, domains.
  std::map<std::uint64_t, std::string> owner;  // mailbox id -> address
  Result<void> bad;
  auto r = for_each(txn, Db::users, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_user(v);
    if (!rec) {
      bad = broken("user-record", "user=" + std::string(k));
      return false;
    }
    if (!find_domain(txn, domain_of(k))) {
      bad = broken("user-domain", "user=" + std::string(k));
      return false;
    }
    if (!owner.emplace(rec->mailbox_id, std::string(k)).second) {
      bad = broken("mailbox-shared", "user=" + std::string(k));
      return false;
    }
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();

  // Messages -> tallies per mailbox and references per body.
  std::map<std::uint64_t, MailboxTally> tally;
  std::map<Digest, std::uint64_t> refs;
  std::map<Digest, std::uint64_t> ref_size;
  std::unordered_set<std::uint64_t> unique_ids;
  std::uint64_t next_unique = 1;
  if (auto v = txn.get(Db::meta, kMetaNextUniqueId); v && v->size() == 8) {
    next_unique = core::get_be64(*v);
  }
  r = for_each(txn, Db::messages, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_message(v);
    if (!rec || k.size() != 12) {
      bad = broken("message-record", "key=" + to_hex(k));
      return false;
    }
    const std::uint64_t mailbox = core::get_be64(k, 0);
    const std::uint32_t uid = core::get_be32(k, 8);
    if (!owner.count(mailbox)) {
      bad = broken("message-orphan", "mailbox=" + std::to_string(mailbox));
      return false;
    }
    if (rec->unique_id == 0 || rec->unique_id >= next_unique ||
        !unique_ids.insert(rec->unique_id).second) {
      bad = broken("unique-id", "unique_id=" + std::to_string(rec->unique_id));
      return false;
    }
    auto& t = tally[mailbox];
    t.count++;
    t.bytes += rec->size;
    t.max_uid = std::max(t.max_uid, uid);
    refs[rec->body]++;
    auto [it, fresh] = ref_size.emplace(rec->body, rec->size);
    if (!fresh && it->second != rec->size) {
      bad = broken("message-size", "body=" + to_hex(rec->body));
      return false;
    }
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();

  // Mailboxes agree with their messages; none without an owner.
  std::size_t mailboxes = 0;
  r = for_each(txn, Db::mailboxes, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_mailbox(v);
    const std::uint64_t id = k.size() == 8 ? core::get_be64(k) : 0;
    if (!rec || !owner.count(id)) {
      bad = broken("mailbox-orphan", "mailbox=" + std::to_string(id));
      return false;
    }
    ++mailboxes;
    const MailboxTally t = tally.count(id) ? tally[id] : MailboxTally{};
    if (rec->message_count != t.count || rec->used_bytes != t.bytes || rec->next_uid <= t.max_uid) {
      bad = broken("mailbox-counters", "mailbox=" + std::to_string(id) +
                                           " count=" + std::to_string(rec->message_count) +
                                           " actual=" + std::to_string(t.count));
      return false;
    }
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  if (mailboxes != owner.size()) return broken("user-mailbox", "missing mailbox rows");

  // Bodies: refcount, size and chunks.
  std::uint64_t expected_chunks = 0;
  std::size_t bodies = 0;
  r = for_each(txn, Db::bodies, {}, [&](std::string_view k, std::string_view v) {
    auto rec = decode_body(v);
    Digest hash{};
    if (!rec || k.size() != 32) {
      bad = broken("body-record", "key=" + to_hex(k));
      return false;
    }
    std::copy(k.begin(), k.end(), reinterpret_cast<char*>(hash.data()));
    ++bodies;
    auto ref = refs.find(hash);
    const std::uint64_t actual = ref == refs.end() ? 0 : ref->second;
    if (rec->refcount != actual || actual == 0) {
      bad = broken("body-refcount", "body=" + to_hex(hash) +
                                        " refcount=" + std::to_string(rec->refcount) +
                                        " actual=" + std::to_string(actual));
      return false;
    }
    if (ref_size[hash] != rec->size || rec->chunk_count != chunk_count_for(rec->size)) {
      bad = broken("body-size", "body=" + to_hex(hash));
      return false;
    }
    // Deep: the key is the version 3 body key or, for bodies stored before it, the
    // SHA-256 of the bytes (FORMAT.md "bodies"); both are computed in one read pass.
    BodyKeyHasher key;
    Sha256 legacy;
    std::uint64_t remaining = rec->size;
    for (std::uint32_t n = 0; n < rec->chunk_count; ++n) {
      auto chunk = txn.get(Db::chunks, chunk_key(hash, n));
      const std::uint64_t want = std::min<std::uint64_t>(remaining, kChunkBytes);
      if (!chunk || chunk->size() != want) {
        bad = broken("body-chunk", "body=" + to_hex(hash) + " n=" + std::to_string(n));
        return false;
      }
      if (deep) {
        key.update(*chunk);
        legacy.update(*chunk);
      }
      remaining -= want;
    }
    if (deep && key.finish().key != hash && legacy.finish() != hash) {
      bad = broken("body-hash", "body=" + to_hex(hash));
      return false;
    }
    expected_chunks += rec->chunk_count;
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  if (bodies != refs.size()) return broken("body-missing", "referenced bodies without a row");
  // Every chunk belongs to a stored body (and is one of its chunk-count
  // chunks, all of which were found above) or is staged.
  CheckReport report;
  std::uint64_t stored_chunks = 0;
  std::string current;
  bool stored = false;
  r = for_each(txn, Db::chunks, {}, [&](std::string_view k, std::string_view) {
    if (k.size() != 36) {
      bad = broken("chunk-key", "key=" + to_hex(k));
      return false;
    }
    if (k.substr(0, 32) != current) {
      current = std::string(k.substr(0, 32));
      stored = txn.get(Db::bodies, current).has_value();
    }
    if (stored) {
      ++stored_chunks;
    } else {
      ++report.staged_chunks;
    }
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  if (stored_chunks != expected_chunks) {
    return broken("chunk-extra", "chunks=" + std::to_string(stored_chunks) +
                                     " expected=" + std::to_string(expected_chunks));
  }
  // Every retrieval row (store/browse.h) belongs to a stored message.
  r = for_each(txn, Db::retrievals, {}, [&](std::string_view k, std::string_view v) {
    if (k.size() != 12 || v.size() < 8 || !txn.get(Db::messages, k).has_value()) {
      bad = broken("retrieval-orphan", "key=" + to_hex(k));
      return false;
    }
    return true;
  });
  if (!r) return r.error();
  if (!bad) return bad.error();
  return report;
}

}  // namespace postern::store
