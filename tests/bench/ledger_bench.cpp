// ledger_bench: the dedup ledger under sustained SMTP traffic (issue 16 §3), on
// simulated time (core::ManualClock), through the real store code.
//
// What runs for real: store::Env (LMDB, default flags, fsync per commit), the
// ledger steps deliver() runs for each recipient (live_row, then record_rows,
// or the duplicates-suppressed counter; store/delivery_ledger.h), fingerprints
// from dedup::FingerprintBuilder over a small generated message, the recipient
// plan from dedup::plan_complete, and the housekeeping expiry
// (store::expire_dedup_slice, one Writer job per slice like app/housekeeping,
// a run every 10 simulated minutes, one slice per simulated second). Each message is one job in a
// nested txn, and one outer txn commits a batch, as store::Writer does. What is simulated: the
// clock; the rest of deliver() (message rows, bodies, events) is not written, so the file holds the
// ledger only; a batch is
// --batch-seconds of traffic (the Writer batches what arrives during a commit).
//
// Usage: ledger_bench [--quick] [--rate N] [--target-rate N] [--hours H] [--window-hours W]
//                     [--mailboxes M] [--batch-seconds B] [--report-hours R] [--dir D]
// Defaults: see Config (7 simulated days at 5 msgs/s, scaled to 100 msgs/s).
// Prints one `bench=ledger_day` line per report period and a final
// `bench=ledger_summary key=value ...` line. Exit 1 on any store error, or
// when the ledger does not stay bounded by the window.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "dedup/fingerprint_builder.h"
#include "dedup/policy.h"
#include "ledger_bench_support.h"
#include "store/catalogue.h"
#include "store/delivery_ledger.h"
#include "store/ledger.h"
#include "test_support.h"

using namespace postern;
using namespace postern::bench;
using store::Db;
using store::WriteTxn;

namespace {

// The full run's defaults: the 5-day window and 2 days past it at 5 msgs/s
// (3 million messages, about 15 minutes here); the ledger's rows and bytes are
// linear in the rate (2 rows per message, one per fingerprint), so the summary
// also gives them scaled to --target-rate (100 msgs/s, issue 16 §3), while the
// per-slice and per-message costs are measured, bounded by the slice, not the size.
struct Config {
  double rate = 5;            // messages per simulated second
  double target_rate = 100;   // the rate the summary scales rows and bytes to
  double hours = 168;         // simulated time: 7 days, 2 past the window
  double window_hours = 120;  // dedup window (the default, dedup::Settings)
  int mailboxes = 8;
  int batch_seconds = 60;
  double report_hours = 24;
  double retry_share = 0.02;   // a sender's retry of a message sent in the last hour
  double no_mid_share = 0.05;  // messages without a Message-ID (content row only)
  std::string dir;
  bool quick = false;
};

[[noreturn]] void die(const char* what, const core::Error& e) {
  std::fprintf(stderr, "ledger_bench: %s failed: %s (%s)\n", what, core::to_string(e.code),
               e.where ? e.where : "");
  std::exit(1);
}

int run(const Config& cfg) {
  test::TempDir tmp;
  store::Options o;
  o.data_dir = (cfg.dir.empty() ? tmp.path() : cfg.dir) + "/data";
  o.map_bytes = 64ull << 30;  // address space only; the file grows as used
  auto env_r = store::Env::open(o);
  if (!env_r) die("open", env_r.error());
  store::Env& env = **env_r;

  std::vector<std::string> addresses;
  std::vector<std::uint64_t> mailbox_ids;
  {
    auto r = store::run_write(env, [&](WriteTxn& t) -> core::Result<void> {
      if (auto d = store::add_domain(t, "example.org"); !d) return d.error();
      for (int i = 0; i < cfg.mailboxes; ++i) {
        std::string a = "box" + std::to_string(i) + "@example.org";
        auto u = store::add_user(t, a, "!");
        if (!u) return u.error();
        addresses.push_back(a);
        mailbox_ids.push_back(u->record.mailbox_id);
      }
      return {};
    });
    if (!r) die("setup", r.error());
  }
  std::vector<std::uint32_t> next_uid(addresses.size(), 1);

  core::ManualClock clock;
  dedup::Settings settings;
  settings.window = std::chrono::hours(static_cast<long>(cfg.window_hours));
  const auto window_s = static_cast<std::int64_t>(cfg.window_hours * 3600);
  const std::int64_t start = core::unix_seconds(clock.now());
  const auto total_s = static_cast<std::int64_t>(cfg.hours * 3600);
  const auto report_s =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(cfg.report_hours * 3600));
  constexpr std::int64_t kHousekeepingEvery = 600;  // app/housekeeping.cpp

  std::mt19937_64 rng(16);
  std::uniform_real_distribution<double> uni(0, 1);
  // A few mailboxes get most of the mail (ops@ takes the alerts).
  std::vector<double> weights;
  for (int i = 0; i < cfg.mailboxes; ++i) weights.push_back(1.0 / (i + 1));
  std::discrete_distribution<int> pick_box(weights.begin(), weights.end());
  std::vector<Sent> recent;  // ring of the last messages, for retries
  const std::size_t kRecent = 4096;
  std::size_t recent_pos = 0;

  std::printf(
      "bench=ledger_config rate=%g hours=%g window_hours=%g mailboxes=%d batch_seconds=%d "
      "retry_share=%g no_message_id_share=%g slice_entries=%" PRIu64
      " slice_budget_us=%lld"
      " housekeeping_every_s=%" PRId64
      " simulated=clock,ledger-steps-only(no message/body rows),batch=%ds-of-traffic "
      "sync=fsync-per-commit\n",
      cfg.rate, cfg.hours, cfg.window_hours, cfg.mailboxes, cfg.batch_seconds, cfg.retry_share,
      cfg.no_mid_share, store::kExpireSliceEntries,
      static_cast<long long>(store::kExpireSliceBudget.count()), kHousekeepingEvery,
      cfg.batch_seconds);
  std::fflush(stdout);

  // Totals and per-period figures.
  std::uint64_t messages = 0, suppressed = 0, msg_n = 0, period_msgs = 0;
  std::uint64_t expired_rows = 0, expired_entries = 0, slices = 0, runs = 0;
  std::uint64_t period_expired = 0, period_slices = 0, period_runs = 0;
  Costs job_wall, job_cpu;      // per message (ledger steps in its nested txn)
  Costs slice_wall, slice_cpu;  // per expiry slice job: nested begin + slice + nested commit
  Costs slice_apply_cpu;        // expire_dedup_slice alone
  Costs commit_wall, commit_slice_wall;  // outer commits; those carrying a slice
  Costs run_wall, run_cpu;               // whole housekeeping runs (sum of their slices)
  double all_slice_max = 0, all_slice_cpu_max = 0, all_commit_max = 0, all_job_max = 0;
  double all_commit_slice_max = 0, all_run_wall_max = 0, all_run_cpu_max = 0;
  double sum_job_wall = 0, sum_job_cpu = 0;
  std::uint64_t peak_rows = 0, steady_max_rows = 0;
  double cur_run_wall = 0, cur_run_cpu = 0;
  bool run_active = false;
  std::int64_t run_before = 0;
  const double bench_wall0 = now_wall();
  double acc = 0;  // fractional messages carried to the next second

  for (std::int64_t t = 0; t < total_s; t += cfg.batch_seconds) {
    auto txn = env.begin_write();
    if (!txn) die("begin_write", txn.error());
    bool batch_has_slice = false;
    for (int s = 0; s < cfg.batch_seconds; ++s) {
      const std::int64_t now_s = start + t + s;
      clock.advance(std::chrono::seconds(now_s - core::unix_seconds(clock.now())));
      // Housekeeping: a run starts every 10 minutes; its slices join batches.
      if ((t + s) % kHousekeepingEvery == 0 && (t + s) > 0 && !run_active) {
        run_active = true;
        run_before = core::unix_seconds(clock.now() - settings.window);
        cur_run_wall = cur_run_cpu = 0;
        ++runs;
        ++period_runs;
      }
      // One slice per simulated second: the Writer submits the next slice when
      // the previous one completes, so it runs at the commit rate, at least
      // once a second here (commit p99 is printed); a batch of --batch-seconds
      // therefore carries up to that many slices, each its own nested job.
      if (run_active) {
        auto child = txn->nested();
        if (!child) die("nested", child.error());
        const double w0 = now_wall(), c0 = now_cpu();
        const double a0 = now_cpu();
        auto slice = store::expire_dedup_slice(*child, run_before);
        if (!slice) die("expire", slice.error());
        slice_apply_cpu.add(now_cpu() - a0);  // without the nested begin and commit
        if (auto c = child->commit(); !c) die("nested-commit", c.error());
        const double w = now_wall() - w0, c = now_cpu() - c0;
        slice_wall.add(w);
        slice_cpu.add(c);
        cur_run_wall += w;
        cur_run_cpu += c;
        batch_has_slice = true;
        expired_rows += slice->rows;
        expired_entries += slice->entries;
        period_expired += slice->rows;
        ++slices;
        ++period_slices;
        if (!slice->more) {
          run_active = false;
          run_wall.add(cur_run_wall);
          run_cpu.add(cur_run_cpu);
        }
      }
      acc += cfg.rate;
      const auto n_now = static_cast<std::uint64_t>(acc);
      acc -= static_cast<double>(n_now);
      const std::int64_t window_start = dedup::window_start(settings, clock);
      for (std::uint64_t i = 0; i < n_now; ++i) {
        Sent m;
        if (!recent.empty() && uni(rng) < cfg.retry_share) {
          // A retry after a broken connection: the same message minutes later.
          m = recent[static_cast<std::size_t>(rng() % recent.size())];
        } else {
          ++msg_n;
          m.fp = fingerprint(msg_n, uni(rng) >= cfg.no_mid_share, now_s);
          m.mailbox = pick_box(rng);
          m.at = now_s;
          if (recent.size() < kRecent) {
            recent.push_back(m);
          } else {
            recent[recent_pos++ % kRecent] = m;
          }
        }
        store::DeliveryRequest req;
        req.received_at = now_s;
        req.dedup_not_before = window_start;
        const std::size_t box = static_cast<std::size_t>(m.mailbox);
        store::Recipient rcpt = dedup::plan_complete(
            addresses[box], store::DedupRule::content_or_message_id, settings, m.fp);
        const double w0 = now_wall(), c0 = now_cpu();
        auto child = txn->nested();  // Writer: one nested txn per job
        if (!child) die("nested", child.error());
        auto live = store::live_row(*child, req, mailbox_ids[box], rcpt);
        if (!live) die("live_row", live.error());
        if (*live) {
          if (auto r = store::add_stat(*child, store::kStatDuplicatesSuppressed); !r) {
            die("add_stat", r.error());
          }
          ++suppressed;
        } else if (auto r =
                       store::record_rows(*child, req, mailbox_ids[box], rcpt, next_uid[box]++);
                   !r) {
          die("record_rows", r.error());
        }
        if (auto c = child->commit(); !c) die("nested-commit", c.error());
        const double w = now_wall() - w0, c = now_cpu() - c0;
        job_wall.add(w);
        job_cpu.add(c);
        ++messages;
        ++period_msgs;
      }
    }
    const double w0 = now_wall();
    if (auto c = txn->commit(); !c) die("commit", c.error());
    const double w = now_wall() - w0;
    commit_wall.add(w);
    if (batch_has_slice) commit_slice_wall.add(w);

    const std::int64_t elapsed = t + cfg.batch_seconds;
    if (elapsed % report_s == 0 || elapsed >= total_s) {
      const Sizes sz = sizes(env);
      peak_rows = std::max(peak_rows, sz.rows);
      const bool past_window = elapsed > window_s + kHousekeepingEvery * 2;
      if (past_window) steady_max_rows = std::max(steady_max_rows, sz.rows);
      sum_job_wall += job_wall.sum;
      sum_job_cpu += job_cpu.sum;
      all_slice_max = std::max(all_slice_max, slice_wall.max());
      all_slice_cpu_max = std::max(all_slice_cpu_max, slice_cpu.max());
      all_commit_max = std::max(all_commit_max, commit_wall.max());
      all_commit_slice_max = std::max(all_commit_slice_max, commit_slice_wall.max());
      all_job_max = std::max(all_job_max, job_wall.max());
      all_run_wall_max = std::max(all_run_wall_max, run_wall.max());
      all_run_cpu_max = std::max(all_run_cpu_max, run_cpu.max());
      std::printf(
          "bench=ledger_day sim_hours=%.1f messages=%" PRIu64 " suppressed=%" PRIu64
          " rows=%" PRIu64 " time_entries=%" PRIu64 " dedup_bytes=%" PRIu64 " times_bytes=%" PRIu64
          " bytes_per_row=%.1f file_bytes=%" PRIu64 " used_bytes=%" PRIu64 " expiry_runs=%" PRIu64
          " expired_rows=%" PRIu64 " slices=%" PRIu64
          " run_wall_ms_max=%.2f run_cpu_ms_max=%.2f slice_wall_ms_p99=%.3f slice_wall_ms_max=%.3f"
          " slice_cpu_ms_p50=%.3f slice_cpu_ms_max=%.3f slice_only_cpu_ms_max=%.3f"
          " commit_with_slice_ms_max=%.2f commit_ms_p99=%.2f "
          "commit_ms_max=%.2f insert_us_per_msg=%.2f insert_cpu_us_per_msg=%.2f "
          "insert_us_max=%.1f elapsed_s=%.0f\n",
          static_cast<double>(elapsed) / 3600, period_msgs, suppressed, sz.rows, sz.entries,
          sz.dedup_bytes, sz.times_bytes,
          sz.rows
              ? static_cast<double>(sz.dedup_bytes + sz.times_bytes) / static_cast<double>(sz.rows)
              : 0.0,
          sz.file_bytes, sz.used_bytes, period_runs, period_expired, period_slices,
          run_wall.max() * 1e3, run_cpu.max() * 1e3, slice_wall.pct(0.99) * 1e3,
          slice_wall.max() * 1e3, slice_cpu.pct(0.5) * 1e3, slice_cpu.max() * 1e3,
          slice_apply_cpu.max() * 1e3, commit_slice_wall.max() * 1e3, commit_wall.pct(0.99) * 1e3,
          commit_wall.max() * 1e3,
          period_msgs ? job_wall.sum / static_cast<double>(period_msgs) * 1e6 : 0.0,
          period_msgs ? job_cpu.sum / static_cast<double>(period_msgs) * 1e6 : 0.0,
          job_wall.max() * 1e6, now_wall() - bench_wall0);
      std::fflush(stdout);
      period_msgs = period_expired = period_slices = period_runs = 0;
      job_wall.clear();
      job_cpu.clear();
      slice_wall.clear();
      slice_cpu.clear();
      slice_apply_cpu.clear();
      commit_wall.clear();
      commit_slice_wall.clear();
      run_wall.clear();
      run_cpu.clear();
    }
  }

  const Sizes sz = sizes(env);
  // For comparison, what the expiry before schema 3 did on every run: one
  // Writer job reading every row of the ledger (here read-only, without its
  // deletions, so a lower bound), whatever was due.
  double scan_wall = 0;
  std::uint64_t scanned = 0;
  {
    auto rtxn = env.begin_read();
    if (!rtxn) die("begin_read", rtxn.error());
    const std::int64_t before = core::unix_seconds(clock.now() - settings.window);
    std::uint64_t due = 0;
    const double w0 = now_wall();
    auto r = store::for_each(*rtxn, Db::dedup, {}, [&](std::string_view, std::string_view v) {
      auto rec = store::decode_dedup(v);
      if (rec && rec->first_seen < before) ++due;
      ++scanned;
      return true;
    });
    if (!r) die("scan", r.error());
    scan_wall = now_wall() - w0;
    (void)due;
  }
  // Bounded: past the window the ledger holds at most the window's messages
  // (2 rows each) plus one housekeeping interval and one run's slices.
  const double bound = 2.0 * cfg.rate * static_cast<double>(window_s + 3 * kHousekeepingEvery);
  const bool bounded = static_cast<double>(sz.rows) <= bound;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "bench=ledger_summary rate=%g sim_hours=%g window_hours=%g messages=%" PRIu64
      " suppressed=%" PRIu64 " rows_final=%" PRIu64 " rows_peak=%" PRIu64
      " rows_steady_max=%" PRIu64 " rows_bound=%.0f bounded=%s time_entries_final=%" PRIu64
      " dedup_bytes=%" PRIu64 " times_bytes=%" PRIu64 " bytes_per_row=%.1f file_bytes=%" PRIu64
      " expiry_runs=%" PRIu64 " expired_rows=%" PRIu64 " expired_entries=%" PRIu64
      " slices=%" PRIu64
      " slice_wall_ms_max=%.3f slice_cpu_ms_max=%.3f run_wall_ms_max=%.2f "
      "run_cpu_ms_max=%.2f commit_with_slice_ms_max=%.2f commit_ms_max=%.2f "
      "insert_us_per_msg=%.2f insert_cpu_us_per_msg=%.2f insert_us_max=%.1f "
      "writer_held_by=expiry-slice-job(pool-thread) loop_blocked_ms=0 max_rss_kb=%ld "
      "wall_s=%.1f target_rate=%g rows_at_target=%.0f bytes_at_target=%.0f "
      "old_full_scan_rows=%" PRIu64 " old_full_scan_ms=%.1f\n",
      cfg.rate, cfg.hours, cfg.window_hours, messages, suppressed, sz.rows, peak_rows,
      steady_max_rows, bound, bounded ? "yes" : "no", sz.entries, sz.dedup_bytes, sz.times_bytes,
      sz.rows ? static_cast<double>(sz.dedup_bytes + sz.times_bytes) / static_cast<double>(sz.rows)
              : 0.0,
      sz.file_bytes, runs, expired_rows, expired_entries, slices, all_slice_max * 1e3,
      all_slice_cpu_max * 1e3, all_run_wall_max * 1e3, all_run_cpu_max * 1e3,
      all_commit_slice_max * 1e3, all_commit_max * 1e3,
      messages ? sum_job_wall / static_cast<double>(messages) * 1e6 : 0.0,
      messages ? sum_job_cpu / static_cast<double>(messages) * 1e6 : 0.0, all_job_max * 1e6,
      ru.ru_maxrss, now_wall() - bench_wall0, cfg.target_rate,
      static_cast<double>(steady_max_rows) * cfg.target_rate / cfg.rate,
      static_cast<double>(sz.dedup_bytes + sz.times_bytes) *
          (steady_max_rows > 0 ? static_cast<double>(steady_max_rows) / static_cast<double>(sz.rows)
                               : 0.0) *
          cfg.target_rate / cfg.rate,
      scanned, scan_wall * 1e3);
  if (!bounded) {
    std::fprintf(stderr, "ledger_bench: the ledger grew past its bound\n");
    return 1;
  }
  if (cfg.hours > cfg.window_hours + 1 && expired_rows == 0) {
    std::fprintf(stderr, "ledger_bench: nothing expired past the window\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  core::set_log_level(core::Level::warning);
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ledger_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      // 90 simulated minutes with a 1-hour window: growth, then expiry slices
      // at steady state, in seconds (the ctest smoke).
      cfg.quick = true;
      cfg.rate = 10;
      cfg.hours = 1.5;
      cfg.window_hours = 1;
      cfg.batch_seconds = 10;
      cfg.report_hours = 0.25;
    } else if (a == "--rate") {
      cfg.rate = std::atof(next());
    } else if (a == "--target-rate") {
      cfg.target_rate = std::atof(next());
    } else if (a == "--hours") {
      cfg.hours = std::atof(next());
    } else if (a == "--window-hours") {
      cfg.window_hours = std::max(1, std::atoi(next()));  // dedup::Settings counts hours
    } else if (a == "--mailboxes") {
      cfg.mailboxes = std::max(1, std::atoi(next()));
    } else if (a == "--batch-seconds") {
      cfg.batch_seconds = std::max(1, std::atoi(next()));
    } else if (a == "--report-hours") {
      cfg.report_hours = std::atof(next());
    } else if (a == "--dir") {
      cfg.dir = next();
    } else {
      std::fprintf(stderr,
                   "usage: ledger_bench [--quick] [--rate N] [--target-rate N] [--hours H] "
                   "[--window-hours W] "
                   "[--mailboxes M] [--batch-seconds B] [--report-hours R] [--dir D]\n");
      return 2;
    }
  }
  return run(cfg);
}
