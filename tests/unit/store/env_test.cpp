// Env: schema creation, reopen, migrations, error translation, map sizes.
#include "store/env.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "store/catalogue.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {

int g_v2_runs = 0;  // how often the test's v1 -> v2 step ran

Result<void> test_v2(WriteTxn& txn) {
  ++g_v2_runs;
  return set_setting(txn, "migrated", "yes");
}

}  // namespace

// Opens a store at version 1 (the creation only), as a build before the stored form made it.
static void open_at_v1(const std::string& dir) {
  const MigrationStep v1[] = {schema_steps()[0]};
  REQUIRE(Env::open(options_for(dir), v1).has_value());
}

TEST_CASE("a new store is created at the latest schema version and keeps it on reopen") {
  TempDir dir;
  {
    auto env = open_store(options_for(dir.path()));
    auto txn = env->begin_read();
    REQUIRE(txn.has_value());
    CHECK(schema_version(*txn) == schema_steps().size());
    CHECK(std::filesystem::exists(options_for(dir.path()).data_dir + "/data.mdb"));
  }
  auto env = open_store(options_for(dir.path()));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(schema_version(*txn) == schema_steps().size());
}

TEST_CASE("the migration hook runs each step once, from the stored version") {
  TempDir dir;
  open_at_v1(dir.path());
  g_v2_runs = 0;
  const MigrationStep steps[] = {schema_steps()[0], &test_v2};
  for (int round = 0; round < 2; ++round) {
    auto env = Env::open(options_for(dir.path()), steps);
    REQUIRE(env.has_value());
    auto txn = (*env)->begin_read();
    REQUIRE(txn.has_value());
    CHECK(schema_version(*txn) == 2);
    auto v = get_setting(*txn, "migrated");
    REQUIRE(v.has_value());
    CHECK(*v == "yes");
  }
  CHECK(g_v2_runs == 1);
}

TEST_CASE("a store newer than this build is refused") {
  TempDir dir;
  std::vector<MigrationStep> steps(schema_steps().begin(), schema_steps().end());
  steps.push_back(&test_v2);  // one step more than this build knows
  { REQUIRE(Env::open(options_for(dir.path()), steps).has_value()); }
  auto env = Env::open(options_for(dir.path()));
  REQUIRE_FALSE(env.has_value());
  CHECK(env.error().code == Errc::corrupt);
  CHECK(std::string(env.error().where) == "schema-newer");
}

TEST_CASE("a failing migration step leaves the store at its old version") {
  TempDir dir;
  open_at_v1(dir.path());
  auto failing = [](WriteTxn& txn) -> Result<void> {
    (void)set_setting(txn, "half", "done");
    return postern::core::make_error(Errc::io, "test-step");
  };
  const MigrationStep steps[] = {schema_steps()[0], +failing};
  auto bad = Env::open(options_for(dir.path()), steps);
  REQUIRE_FALSE(bad.has_value());
  CHECK(std::string(bad.error().where) == "test-step");
  const MigrationStep v1[] = {schema_steps()[0]};
  auto env = Env::open(options_for(dir.path()), v1);
  REQUIRE(env.has_value());
  auto txn = (*env)->begin_read();
  REQUIRE(txn.has_value());
  CHECK(schema_version(*txn) == 1);
  CHECK_FALSE(get_setting(*txn, "half").has_value());
}

TEST_CASE("LMDB and errno codes map to store error kinds") {
  CHECK(mdb_error(MDB_MAP_FULL, "x").code == Errc::full);
  CHECK(mdb_error(ENOSPC, "x").code == Errc::full);
  CHECK(mdb_error(MDB_PANIC, "x").code == Errc::fatal);
  CHECK(mdb_error(MDB_NOTFOUND, "x").code == Errc::not_found);
  CHECK(mdb_error(MDB_KEYEXIST, "x").code == Errc::exists);
  CHECK(mdb_error(MDB_CORRUPTED, "x").code == Errc::corrupt);
  CHECK(mdb_error(EIO, "x").code == Errc::io);
  CHECK(mdb_error(EIO, "x").sys == EIO);
}

TEST_CASE("settings are stored under their prefix and read back") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  REQUIRE(run_write(*env, [](WriteTxn& txn) { return set_setting(txn, "smtp.banner", "hi"); }));
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(get_setting(*txn, "smtp.banner").value_or("") == "hi");
  CHECK(txn->get(Db::meta, "setting:smtp.banner").has_value());
  CHECK(get_setting(*txn, "absent").error().code == Errc::not_found);
}

TEST_CASE("a map larger than the address space is halved until it fits") {
  TempDir dir;
  Options o = options_for(dir.path());
  o.map_bytes = 1ull << 62;  // no 64-bit Linux process can map this: ENOMEM
  auto env = Env::open(o);
  REQUIRE(env.has_value());
  CHECK((*env)->map_bytes() < o.map_bytes);
  CHECK((*env)->map_bytes() >= (1u << 20));
  CHECK(run_write(**env, [](WriteTxn& t) { return set_setting(t, "k", "v"); }).has_value());
}

TEST_CASE("a 4 GiB map (the settings default) opens a usable map on 32-bit targets too") {
  // mdb_env_set_mapsize takes a size_t: unclamped, 2^32 wraps to 0 on armhf and mipsel,
  // LMDB falls back to its 1 MiB default and the first large message fills the store.
  TempDir dir;
  Options o = options_for(dir.path(), 4096ull << 20);
  auto env = open_store(o);
  CHECK(env->map_bytes() <= o.map_bytes);
  CHECK(env->map_bytes() >= (64ull << 20));
  // More than LMDB's 1 MiB fallback, written for real.
  const std::string big = pattern_bytes(2u << 20);
  CHECK(run_write(*env, [&](WriteTxn& t) { return t.put(Db::meta, "big", big); }).has_value());
  auto txn = env->begin_read();
  REQUIRE(txn.has_value());
  CHECK(txn->get(Db::meta, "big").value_or("") == big);
}
