// store_bench: durable deliveries per second through Writer (group commit) at
// 1, 10 and 50 concurrent writers, and peak RSS for one 1 KB, 1 MB and 20 MB
// message through Spool -> Writer in 64 KiB appends. `--smoke`: a tiny run.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "store/catalogue.h"
#include "store/pool_executor.h"  // tests/unit/store/
#include "store/spool.h"
#include "store/writer.h"
#include "test_support.h"

using namespace postern::store;
using postern::test::PoolExecutor;
using postern::test::TempDir;

namespace {

constexpr std::chrono::seconds kStall(120);  // a bench that stalls longer has failed

std::unique_ptr<Env> open_with_user(const std::string& dir, const char* address) {
  Options o;
  o.data_dir = dir + "/data";
  o.map_bytes = 1ull << 30;
  auto env = Env::open(o);
  if (!env) {
    std::fprintf(stderr, "store_bench: open failed: %s\n",
                 postern::core::to_string(env.error().code));
    std::exit(1);
  }
  auto r = run_write(**env, [&](WriteTxn& t) -> Result<void> {
    if (auto d = add_domain(t, domain_of(address)); !d) return d.error();
    if (auto u = add_user(t, address, "!"); !u) return u.error();
    return {};
  });
  if (!r) std::exit(1);
  return std::move(*env);
}

// Delivers `total` distinct ~2 KB messages keeping `writers` in flight;
// returns deliveries per second (every one committed with fsync).
double deliveries_per_second(int writers, int total) {
  TempDir dir;
  auto env = open_with_user(dir.path(), "bench@example.org");
  PoolExecutor pool(4);
  Writer writer(*env, pool);
  int submitted = 0, completed = 0, failed = 0;
  std::string body(2048, 'x');
  const auto start = std::chrono::steady_clock::now();
  while (completed < total) {
    while (submitted < total && submitted - completed < writers) {
      const std::string id = "Message-ID: <" + std::to_string(submitted) + "@bench>\r\n";
      body.replace(0, id.size(), id);  // distinct bodies: no single-instance shortcut
      DeliveryRequest req;
      req.body.memory = body;
      req.body.size = body.size();
      req.body.hash = sha256(body);
      req.recipients.push_back(Recipient{"bench@example.org", std::nullopt});
      req.received_at = 1'700'000'000;
      ++submitted;
      writer.deliver(std::move(req), [&](Result<DeliveryOutcome> r) {
        ++completed;
        if (!r) ++failed;
      });
    }
    const int target = std::min(completed + 1, total);
    if (!pool.run_until([&] { return completed >= target; }, kStall)) std::exit(1);
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failed != 0) {
    std::fprintf(stderr, "store_bench: %d deliveries failed\n", failed);
    std::exit(1);
  }
  pool.run_until([&] { return writer.idle(); }, kStall);
  return total / secs;
}

// In a fresh child: one message of `size` bytes through Spool -> Writer in
// 64 KiB appends honouring wants_more(); returns the child's peak RSS in KiB.
long peak_rss_kib(std::uint64_t size) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    TempDir dir;
    auto env = open_with_user(dir.path(), "rss@example.org");
    PoolExecutor pool(2);
    Writer writer(*env, pool);
    Spool spool(env->options(), pool);
    std::string piece(Spool::kBufferBytes, '\0');
    std::uint32_t x = 12345;
    for (std::uint64_t at = 0; at < size; at += piece.size()) {
      for (char& c : piece) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
      spool.append(
          std::string_view(piece).substr(0, std::min<std::uint64_t>(piece.size(), size - at)));
      if (!pool.run_until([&] { return spool.wants_more(); }, kStall)) _exit(1);
    }
    bool done = false, ok = false;
    spool.finish([&](Result<SpooledBody> body) {
      if (!body) {
        done = true;
        return;
      }
      DeliveryRequest req;
      req.body = std::move(*body);
      req.recipients.push_back(Recipient{"rss@example.org", std::nullopt});
      writer.deliver(std::move(req), [&](Result<DeliveryOutcome> r) {
        ok = r.has_value();
        done = true;
      });
    });
    if (!pool.run_until([&] { return done; }, kStall) || !ok) _exit(1);
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    long kib = ru.ru_maxrss;
    if (::write(fds[1], &kib, sizeof kib) != sizeof kib) _exit(1);
    _exit(0);
  }
  ::close(fds[1]);
  long kib = -1;
  if (::read(fds[0], &kib, sizeof kib) != sizeof kib) kib = -1;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? kib : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool smoke = argc > 1 && std::strcmp(argv[1], "--smoke") == 0;
  postern::core::set_log_to_stderr(false);
  const int total = smoke ? 40 : 2000;
  const int runs = smoke ? 1 : 3;

  std::printf("store_bench%s: durable deliveries (2 KB, fsync per batch), median of %d\n",
              smoke ? " --smoke" : "", runs);
  std::printf("  %-10s %12s\n", "writers", "deliveries/s");
  for (int writers : {1, 10, 50}) {
    std::vector<double> rates;
    for (int r = 0; r < runs; ++r) rates.push_back(deliveries_per_second(writers, total));
    std::sort(rates.begin(), rates.end());
    std::printf("  %-10d %12.0f\n", writers, rates[rates.size() / 2]);
  }

  std::printf("peak RSS, one message through Spool -> Writer (fresh process each)\n");
  std::printf("  %-10s %12s\n", "message", "max RSS KiB");
  struct {
    const char* name;
    std::uint64_t bytes;
  } sizes[] = {{"1 KB", 1024}, {"1 MB", 1u << 20}, {"20 MB", 20u << 20}};
  long first = -1;
  bool ok = true;
  for (const auto& s : sizes) {
    if (smoke && s.bytes > (1u << 20)) continue;
    long kib = peak_rss_kib(s.bytes);
    if (kib < 0) ok = false;
    if (first < 0) first = kib;
    std::printf("  %-10s %12ld (+%ld)\n", s.name, kib, kib - first);
  }
  return ok ? 0 : 1;
}
