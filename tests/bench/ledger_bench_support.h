// ledger_bench's measuring helpers: clocks, the ledger's size from mdb_stat,
// cost distributions and the generated messages' fingerprints.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "dedup/fingerprint_builder.h"
#include "store/env.h"

namespace postern::bench {

inline double now_wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
inline double now_cpu() {  // this thread's CPU seconds
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Sizes {
  std::uint64_t rows = 0, entries = 0;
  std::uint64_t dedup_bytes = 0, times_bytes = 0;  // pages x page size, per DBI
  std::uint64_t file_bytes = 0, used_bytes = 0;    // data.mdb size; last page used x page size
};

inline Sizes sizes(store::Env& env) {
  Sizes s;
  auto txn = env.begin_read();
  if (!txn) return s;
  auto pages = [&](store::Db db, std::uint64_t& entries) {
    MDB_stat st{};
    mdb_stat(txn->handle(), txn->dbi(db), &st);
    entries = st.ms_entries;
    return (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
  };
  s.dedup_bytes = pages(store::Db::dedup, s.rows);
  s.times_bytes = pages(store::Db::dedup_times, s.entries);
  MDB_envinfo info{};
  MDB_stat est{};
  mdb_env_info(env.handle(), &info);
  mdb_env_stat(env.handle(), &est);
  s.used_bytes = (info.me_last_pgno + 1) * est.ms_psize;
  struct stat st {};
  if (::stat((env.options().data_dir + "/data.mdb").c_str(), &st) == 0) {
    s.file_bytes = static_cast<std::uint64_t>(st.st_size);
  }
  return s;
}

// Distribution of a cost: max and an approximate p99 from kept samples.
struct Costs {
  std::vector<double> v;
  double sum = 0;
  void add(double x) {
    v.push_back(x);
    sum += x;
  }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
  double pct(double p) {
    if (v.empty()) return 0;
    auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  }
  void clear() {
    v.clear();
    sum = 0;
  }
};

struct Sent {
  dedup::Fingerprints fp;
  int mailbox = 0;
  std::int64_t at = 0;
};

// A small alert-like message: what a monitoring box receives by the thousand.
inline dedup::Fingerprints fingerprint(std::uint64_t n, bool with_mid, std::int64_t at) {
  char text[512];
  int len =
      std::snprintf(text, sizeof text,
                    "From: monitor%" PRIu64
                    "@alerts.example.net\r\n"
                    "To: ops@example.org\r\n"
                    "Subject: [ALERT] host%" PRIu64 " check %" PRIu64
                    " state CRITICAL\r\n"
                    "Date: %" PRId64
                    "\r\n"
                    "%s%" PRIu64
                    "%s"
                    "\r\n"
                    "Service check %" PRIu64 " on host%" PRIu64 " returned 2 at %" PRId64 ".\r\n",
                    n % 97, n % 1013, n, at, with_mid ? "Message-ID: <alert." : "",
                    with_mid ? n : 0, with_mid ? "@alerts.example.net>\r\n" : "", n, n % 1013, at);
  dedup::FingerprintBuilder b;
  b.feed(std::string_view(text, static_cast<std::size_t>(len)));
  return b.finish();
}

}  // namespace postern::bench
