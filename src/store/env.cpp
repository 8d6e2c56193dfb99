// The LMDB environment: open with ENOMEM halving, named DBs, migrations, txns.
#include "store/env.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <system_error>

#include "core/bytes.h"
#include "core/log.h"
#include "store/ledger.h"
#include "store/records.h"
#include "store/stored_form.h"

namespace postern::store {
namespace {

constexpr const char* kDbNames[kDbCount] = {
    "meta",       "domains", "users",  "aliases", "mailboxes",  "messages",         "bodies",
    "chunks",     "dedup",   "events", "links",   "retrievals", "collect_accounts", "collected",
    "dedup_times"};

MDB_val val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// Version 1: the creation. Named DBs already exist (opened with MDB_CREATE);
// seed the counters so FORMAT.md can say every one is present.
Result<void> create_v1(WriteTxn& txn) {
  for (const char* counter :
       {kMetaNextUniqueId, kMetaNextDomainId, kMetaNextMailboxId, kMetaNextEventSeq}) {
    if (auto r = txn.put(Db::meta, counter, encode_u64(1)); !r) return r;
  }
  return {};
}

// Version 3: body keys and content fingerprints derived from one hash of the bytes after the
// header block (body_key.h). Existing rows keep their keys (the deep check accepts both
// forms) and nothing is rewritten; the version only keeps an older build, which would
// report the new keys as corrupt, from opening the store (`schema-newer`).
Result<void> body_keys_v3(WriteTxn&) {
  return {};
}

// Version 2: the stored form (stored_form.h): every body ends with its last line complete.
// Version 4: the ledger's expiry index (ledger.h): a dedup_times entry per dedup row.
constexpr MigrationStep kSteps[] = {&create_v1, &complete_last_lines, &body_keys_v3,
                                    &index_dedup_times};

// The largest map worth asking mmap for: half the address space (2 GiB on
// armhf and mipsel, 2^63 on 64-bit). mdb_env_set_mapsize takes a size_t, so a
// larger request (Settings' 4096 MiB default, or 2^62) would otherwise be
// truncated on 32-bit targets: 2^32 becomes 0, which LMDB silently replaces
// by its 1 MiB default, and the store fills after a few messages. No 32-bit
// Linux process has a free 2 GiB hole (MIPS32 user space is 2 GiB in all),
// so starting here the ENOMEM halving settles on what fits.
constexpr std::uint64_t kMaxMapBytes =
    std::uint64_t{std::numeric_limits<std::size_t>::max()} / 2 + 1;
constexpr std::uint64_t kMinMapBytes = 1u << 20;

}  // namespace

Error mdb_error(int rc, const char* where) noexcept {
  switch (rc) {
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC:
    case EDQUOT:
      return Error{Errc::full, rc, where};
    case MDB_PANIC:
      return Error{Errc::fatal, rc, where};
    case MDB_NOTFOUND:
      return Error{Errc::not_found, rc, where};
    case MDB_KEYEXIST:
      return Error{Errc::exists, rc, where};
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
      return Error{Errc::corrupt, rc, where};
    case MDB_READERS_FULL:
    case EAGAIN:
      return Error{Errc::busy, rc, where};
    default:
      return Error{Errc::io, rc, where};
  }
}

MDB_dbi Txn::dbi(Db db) const {
  return env_->dbi(db);
}

Result<std::string_view> Txn::get(Db db, std::string_view key) const {
  MDB_val k = val(key), v;
  int rc = mdb_get(txn_, dbi(db), &k, &v);
  if (rc != 0) return mdb_error(rc, "get");
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

ReadTxn::~ReadTxn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

WriteTxn::~WriteTxn() {
  abort();
}

void WriteTxn::abort() noexcept {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

Result<void> WriteTxn::commit() {
  MDB_txn* txn = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees the handle whatever it returns
  int rc = mdb_txn_commit(txn);
  if (rc != 0) return mdb_error(rc, "commit");
  return {};
}

Result<WriteTxn> WriteTxn::nested() {
  MDB_txn* child = nullptr;
  int rc = mdb_txn_begin(mdb_txn_env(txn_), txn_, 0, &child);
  if (rc != 0) return mdb_error(rc, "nested-begin");
  return WriteTxn(env_, child);
}

Result<void> WriteTxn::put(Db db, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = val(key), v = val(value);
  int rc = mdb_put(txn_, dbi(db), &k, &v, flags);
  if (rc != 0) return mdb_error(rc, "put");
  return {};
}

Result<void> WriteTxn::del(Db db, std::string_view key) {
  MDB_val k = val(key);
  int rc = mdb_del(txn_, dbi(db), &k, nullptr);
  if (rc != 0) return mdb_error(rc, "del");
  return {};
}

std::span<const MigrationStep> schema_steps() {
  return kSteps;
}

std::uint32_t schema_version(Txn& txn) {
  auto v = txn.get(Db::meta, kMetaSchemaVersion);
  return v && v->size() == 4 ? core::get_be32(*v) : 0;
}

Result<void> for_each(Txn& txn, Db db, std::string_view prefix, const EntryFn& fn) {
  MDB_cursor* cursor = nullptr;
  int rc = mdb_cursor_open(txn.handle(), txn.dbi(db), &cursor);
  if (rc != 0) return mdb_error(rc, "cursor-open");
  MDB_val k = val(prefix), v;
  rc = prefix.empty() ? mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
                      : mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE);
  while (rc == 0) {
    std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, std::string_view(static_cast<const char*>(v.mv_data), v.mv_size))) break;
    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != 0 && rc != MDB_NOTFOUND) return mdb_error(rc, "cursor-get");
  return {};
}

Result<std::uint64_t> entry_count(Txn& txn, Db db) {
  MDB_stat st;
  int rc = mdb_stat(txn.handle(), txn.dbi(db), &st);
  if (rc != 0) return mdb_error(rc, "stat");
  return static_cast<std::uint64_t>(st.ms_entries);
}

Result<std::uint64_t> next_sequence(WriteTxn& txn, const char* meta_key, std::uint64_t count) {
  auto v = txn.get(Db::meta, meta_key);
  std::uint64_t next = 1;
  if (v) {
    if (v->size() != 8) return Error{Errc::corrupt, 0, "meta-counter"};
    next = core::get_be64(*v);
  } else if (v.error().code != Errc::not_found) {
    return v.error();
  }
  if (auto r = txn.put(Db::meta, meta_key, encode_u64(next + count)); !r) return r.error();
  return next;
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<std::unique_ptr<Env>> Env::open(const Options& options,
                                       std::span<const MigrationStep> steps) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Error{Errc::io, ec.value(), "create-data-dir"};
  std::unique_ptr<Env> env(new Env());
  env->options_ = options;
  // 32-bit targets cannot always map what was asked: clamp to the address
  // space, then halve on ENOMEM down to 1 MiB.
  std::uint64_t map = std::min(options.map_bytes, kMaxMapBytes);
  if (map < options.map_bytes) {
    POSTERN_LOG_WARN("store event=map-clamped asked=%llu map_bytes=%llu",
                     static_cast<unsigned long long>(options.map_bytes),
                     static_cast<unsigned long long>(map));
  }
  for (;;) {
    int rc = mdb_env_create(&env->env_);
    if (rc == 0) rc = mdb_env_set_maxdbs(env->env_, kDbCount);
    if (rc == 0) rc = mdb_env_set_mapsize(env->env_, static_cast<std::size_t>(map));
    if (rc == 0) rc = mdb_env_open(env->env_, options.data_dir.c_str(), MDB_NOTLS, 0600);
    if (rc == 0) break;
    mdb_env_close(env->env_);
    env->env_ = nullptr;
    if (rc == ENOMEM && map > kMinMapBytes) {
      map /= 2;
      POSTERN_LOG_WARN("store event=map-halved map_bytes=%llu",
                       static_cast<unsigned long long>(map));
      continue;
    }
    return mdb_error(rc, "env-open");
  }
  // Report what LMDB really mapped: it raises the size to an existing file's
  // committed data, which may exceed the request.
  MDB_envinfo info;
  if (int rc = mdb_env_info(env->env_, &info); rc != 0) return mdb_error(rc, "env-info");
  env->map_bytes_ = info.me_mapsize;
  int dead = 0;
  if (int rc = mdb_reader_check(env->env_, &dead); rc != 0) return mdb_error(rc, "reader-check");
  if (dead > 0) POSTERN_LOG_INFO("store event=stale-readers-cleared count=%d", dead);

  auto txn = env->begin_write();
  if (!txn) return txn.error();
  for (int i = 0; i < kDbCount; ++i) {
    int rc = mdb_dbi_open(txn->handle(), kDbNames[i], MDB_CREATE, &env->dbis_[i]);
    if (rc != 0) return mdb_error(rc, "dbi-open");
  }
  std::uint32_t version = schema_version(*txn);
  if (version > steps.size())
    return Error{Errc::corrupt, static_cast<int>(version), "schema-newer"};
  for (std::uint32_t v = version; v < steps.size(); ++v) {
    if (auto r = steps[v](*txn); !r) return r.error();
    if (auto r = txn->put(Db::meta, kMetaSchemaVersion, encode_u32(v + 1)); !r) return r.error();
    POSTERN_LOG_INFO("store event=schema-migrated from=%u to=%u", v, v + 1);
  }
  if (auto r = txn->commit(); !r) return r.error();

  std::filesystem::create_directories(env->spool_dir(), ec);
  if (ec) return Error{Errc::io, ec.value(), "spool-dir"};
  return env;
}

Result<void> Env::set_map_bytes(std::uint64_t bytes) {
  std::uint64_t map = std::max(std::min(bytes, kMaxMapBytes), kMinMapBytes);
  for (;;) {
    const int rc = mdb_env_set_mapsize(env_, static_cast<std::size_t>(map));
    if (rc == 0) break;
    if (rc == ENOMEM && map > kMinMapBytes) {
      map /= 2;
      continue;
    }
    return mdb_error(rc, "set-mapsize");
  }
  MDB_envinfo info;
  if (int rc = mdb_env_info(env_, &info); rc != 0) return mdb_error(rc, "env-info");
  map_bytes_ = info.me_mapsize;
  POSTERN_LOG_INFO("store event=map-resized asked=%llu map_bytes=%llu",
                   static_cast<unsigned long long>(bytes),
                   static_cast<unsigned long long>(map_bytes_));
  return {};
}

std::uint64_t Env::reserve_bytes() const {
  return std::clamp<std::uint64_t>(map_bytes_ / 64, 256u << 10, 16u << 20);
}

Result<void> Env::check_reserve(Txn& txn) const {
  MDB_stat st;
  if (int rc = mdb_env_stat(env_, &st); rc != 0) return mdb_error(rc, "env-stat");
  const std::uint64_t page = st.ms_psize;
  std::uint64_t used = 2;  // the meta pages
  auto add = [&](MDB_dbi dbi) -> Result<void> {
    MDB_stat s;
    if (int rc = mdb_stat(txn.handle(), dbi, &s); rc != 0) return mdb_error(rc, "stat");
    used += s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
    return {};
  };
  for (MDB_dbi dbi : {MDB_dbi{0}, MDB_dbi{1}}) {  // LMDB's free list and main tree
    if (auto r = add(dbi); !r) return r;
  }
  for (int i = 0; i < kDbCount; ++i) {
    if (auto r = add(dbis_[i]); !r) return r;
  }
  if ((used * page) + reserve_bytes() > map_bytes_)
    return Error{Errc::full, MDB_MAP_FULL, "map-reserve"};
  return {};
}

Result<ReadTxn> Env::begin_read() const {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return mdb_error(rc, "read-begin");
  return ReadTxn(this, txn);
}

Result<WriteTxn> Env::begin_write() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
  if (rc != 0) return mdb_error(rc, "write-begin");
  return WriteTxn(this, txn);
}

}  // namespace postern::store
