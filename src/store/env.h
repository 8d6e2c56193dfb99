// The LMDB environment of a data folder: options, named databases, schema
// migrations and the move-only transaction types every other store file uses.
//
// Thread affinity: an Env may be shared by threads. A ReadTxn lives on the
// thread that made it, for one turn of the loop (MDB_NOTLS, so a thread may
// hold many). A WriteTxn is begun, used and committed on ONE thread (LMDB binds
// it there); in the server that is a pool thread, inside Writer's batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <lmdb.h>

#include "core/result.h"

namespace postern::store {

using core::Errc;
using core::Error;
using core::Result;

struct Options {
  std::string data_dir;  // created if missing; holds data.mdb + spool/
  // Clamped to half the address space (2 GiB on 32-bit targets), then halved
  // on ENOMEM down to 1 MiB; Env::map_bytes() tells what was mapped.
  std::uint64_t map_bytes = 1ull << 30;
  unsigned pbkdf2_iterations = 100'000;  // for new password hashes
  std::uint64_t max_events = 10'000;     // events table keeps the newest N
};

// Named databases; see FORMAT.md for every key and value.
enum class Db {
  meta,
  domains,
  users,
  aliases,
  mailboxes,
  messages,
  bodies,
  chunks,
  dedup,
  events,
  links,
  retrievals,
  collect_accounts,  // src/store/collect_accounts.h
  collected,
  dedup_times  // the ledger's expiry index (store/ledger.h)
};
inline constexpr int kDbCount = 15;

// Translates an LMDB or errno code once: MAP_FULL/TXN_FULL/ENOSPC -> full,
// PANIC -> fatal, NOTFOUND -> not_found, KEYEXIST -> exists, CORRUPTED ->
// corrupt, READERS_FULL -> busy, anything else -> io.
Error mdb_error(int rc, const char* where) noexcept;

class Env;

// A transaction of either kind; helpers that only read take a Txn&.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  MDB_txn* handle() const { return txn_; }
  MDB_dbi dbi(Db db) const;
  const Env& env() const { return *env_; }

  // Thin wrappers: get returns not_found when absent; the view dies with the txn.
  Result<std::string_view> get(Db db, std::string_view key) const;

 protected:
  Txn(const Env* env, MDB_txn* txn) : env_(env), txn_(txn) {}
  ~Txn() = default;
  Txn(Txn&& other) noexcept : env_(other.env_), txn_(other.txn_) { other.txn_ = nullptr; }
  const Env* env_;
  MDB_txn* txn_;
};

// A short read snapshot. Aborted (reset) by the destructor.
class ReadTxn final : public Txn {
 public:
  ReadTxn(ReadTxn&& other) noexcept = default;
  ~ReadTxn();

 private:
  friend class Env;
  ReadTxn(const Env* env, MDB_txn* txn) : Txn(env, txn) {}
};

// A write transaction, top-level or nested. Move-only; the destructor aborts a
// live one. commit() nulls the handle first: mdb_txn_commit frees it whatever
// the outcome.
class WriteTxn final : public Txn {
 public:
  WriteTxn(WriteTxn&& other) noexcept = default;
  ~WriteTxn();

  Result<void> commit();
  void abort() noexcept;
  // A child transaction (mdb_txn_begin with this as parent): aborting it
  // undoes only its own changes. REQUIRES: no other live child.
  Result<WriteTxn> nested();

  Result<void> put(Db db, std::string_view key, std::string_view value, unsigned flags = 0);
  // Returns not_found when the key is absent.
  Result<void> del(Db db, std::string_view key);

 private:
  friend class Env;
  WriteTxn(const Env* env, MDB_txn* txn) : Txn(env, txn) {}
};

// A schema step: steps[i] takes the store from version i to i + 1, inside the
// opening write transaction; steps[0] creates version 1.
using MigrationStep = Result<void> (*)(WriteTxn& txn);
std::span<const MigrationStep> schema_steps();  // this build's migrations
std::uint32_t schema_version(Txn& txn);         // 0 for a fresh store

// Calls fn(key, value) for each entry whose key starts with `prefix`, in key
// order, until fn returns false. Views die with the txn; fn must not write
// to `db` (collect keys, then delete).
using EntryFn = std::function<bool(std::string_view key, std::string_view value)>;
Result<void> for_each(Txn& txn, Db db, std::string_view prefix, const EntryFn& fn);
// Number of entries in `db` (mdb_stat, O(1)).
Result<std::uint64_t> entry_count(Txn& txn, Db db);

// Reads the BE64 counter `meta_key`, stores it + count, returns the old value.
Result<std::uint64_t> next_sequence(WriteTxn& txn, const char* meta_key, std::uint64_t count = 1);

class Env {
 public:
  // Opens (creating if needed) the store in options.data_dir: runs
  // mdb_reader_check(), opens every named DB, runs the migrations from the
  // stored version to steps.size() in one write txn and creates spool/. The server
  // then runs store/recovery.h.
  // A store newer than `steps` is refused (Errc::corrupt, where="schema-newer").
  static Result<std::unique_ptr<Env>> open(const Options& options,
                                           std::span<const MigrationStep> steps = schema_steps());
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  Result<ReadTxn> begin_read() const;
  // REQUIRES: the calling thread holds no other top-level write txn.
  Result<WriteTxn> begin_write();

  MDB_env* handle() const { return env_; }
  MDB_dbi dbi(Db db) const { return dbis_[static_cast<int>(db)]; }
  const Options& options() const { return options_; }
  std::string spool_dir() const { return options_.data_dir + "/spool"; }
  // The map LMDB uses (mdb_env_info): after clamping and ENOMEM halving, or
  // larger when an existing file already holds more.
  std::uint64_t map_bytes() const { return map_bytes_; }
  // Changes the map size (mdb_env_set_mapsize) to `bytes`, clamped and halved on ENOMEM as
  // at open; LMDB never goes below the data already in the file. Used when a size saved in
  // the store differs from the board's. REQUIRES: no transaction of this process is live
  // (call it before any other thread uses the Env).
  Result<void> set_map_bytes(std::uint64_t bytes);
  // The part of the map kept free for deletions: mail is refused (Errc::full, sys
  // MDB_MAP_FULL) once it would leave less than this, so a POP3 client can still delete
  // mail to make room (a deletion copies pages on write; in a map with no free page even
  // that fails). 1/64 of the map, between 256 KiB and 16 MiB.
  std::uint64_t reserve_bytes() const;
  // Errc::full (sys MDB_MAP_FULL, where "map-reserve") when the pages in use as `txn` sees
  // them (every tree, the free list's own pages and the two meta pages) leave less than
  // reserve_bytes() of the map. Pages on the free list count as free.
  Result<void> check_reserve(Txn& txn) const;

 private:
  Env() = default;
  MDB_env* env_ = nullptr;
  MDB_dbi dbis_[kDbCount] = {};
  Options options_;
  std::uint64_t map_bytes_ = 0;
};

// Runs `fn(WriteTxn&)` in its own write transaction and commits it: the
// synchronous path for the CLI and tests (the server goes through Writer).
template <class Fn>
auto run_write(Env& env, Fn&& fn) -> decltype(fn(std::declval<WriteTxn&>())) {
  auto txn = env.begin_write();
  if (!txn) return txn.error();
  auto result = fn(*txn);
  if (!result) return result;
  if (auto committed = txn->commit(); !committed) return committed.error();
  return result;
}

}  // namespace postern::store
