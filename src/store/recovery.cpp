// Open-time recovery: staged chunks without a body row, spool files.
#include "store/recovery.h"

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "core/log.h"

namespace postern::store {

Result<std::uint64_t> drop_staged_chunks(WriteTxn& txn) {
  std::vector<std::string> orphans;
  std::string current;  // hash of the chunk run being looked at
  bool orphan = false;
  auto r = for_each(txn, Db::chunks, {}, [&](std::string_view k, std::string_view) {
    if (k.size() != 36) return true;  // check_consistency reports malformed keys
    if (k.substr(0, 32) != current) {
      current = std::string(k.substr(0, 32));
      orphan = !txn.get(Db::bodies, current).has_value();
    }
    if (orphan) orphans.emplace_back(k);
    return true;
  });
  if (!r) return r.error();
  for (const auto& k : orphans) {
    if (auto d = txn.del(Db::chunks, k); !d) return d.error();
  }
  return static_cast<std::uint64_t>(orphans.size());
}

Result<RecoveryReport> recover(Env& env) {
  RecoveryReport report;
  auto dropped = run_write(env, [](WriteTxn& txn) { return drop_staged_chunks(txn); });
  if (!dropped) return dropped.error();
  report.staged_chunks_dropped = *dropped;
  if (*dropped > 0) {
    POSTERN_LOG_INFO("store event=staged-chunks-dropped count=%llu",
                     static_cast<unsigned long long>(*dropped));
  }
  // Spool files belong to deliveries that never committed: nothing refers to them.
  std::error_code ec;
  const std::string spool = env.spool_dir();
  std::filesystem::remove_all(spool, ec);
  std::filesystem::create_directories(spool, ec);
  if (ec) return Error{Errc::io, ec.value(), "spool-dir"};
  return report;
}

}  // namespace postern::store
