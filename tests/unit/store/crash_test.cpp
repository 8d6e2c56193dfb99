// Crash safety: a child delivers through Spool -> Writer on a real thread pool
// and reports each durable message; the parent SIGKILLs it mid-stream, then
// checks every reported message is present, byte-exact, and the store consistent.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <sstream>

#include "core/log.h"
#include "pool_executor.h"
#include "store/body_key.h"
#include "store/check.h"
#include "store/spool.h"
#include "store/writer.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::PoolExecutor;
using postern::test::TempDir;

namespace {

// Child process body: never returns.
[[noreturn]] void deliver_forever(const Options& options, int out_fd, unsigned seed) {
  postern::core::set_log_to_stderr(false);
  auto env_r = Env::open(options);
  if (!env_r) _exit(2);
  std::unique_ptr<Env> env = std::move(*env_r);
  if (!recover(*env)) _exit(2);
  PoolExecutor pool(3);
  Writer writer(*env, pool);
  std::mt19937 rng(seed);
  const char* to[] = {"a@x.org", "b@x.org", "c@x.org"};
  int in_flight = 0;
  for (std::uint32_t n = 0;; ++n) {
    // Keep about eight messages in flight so batches form.
    pool.run_until([&] { return in_flight < 8; }, std::chrono::seconds(30));
    // Mostly small; some past kStageChunks chunks, so staging is killed mid-way too.
    const unsigned kind = rng() % 10;
    const std::size_t size = kind == 0  ? 1'000'000 + rng() % 2'000'000
                             : kind < 4 ? rng() % 300'000
                                        : rng() % 2'000;
    auto bytes = std::make_shared<std::string>(stored_form_bytes(size + 2, seed * 100'000 + n));
    auto rcpt = rng() % 3;
    ++in_flight;
    auto spool = std::make_shared<Spool>(options, pool);
    for (std::size_t at = 0; at < bytes->size(); at += 8192) {
      spool->append(std::string_view(*bytes).substr(at, 8192));
    }
    spool->finish([&, spool, bytes, rcpt](Result<SpooledBody> body) {
      if (!body) _exit(3);
      DeliveryRequest req = request_to(std::move(*body), {to[rcpt]});
      if (rcpt == 2) req.recipients.push_back(Recipient{"a@x.org", std::nullopt});
      writer.deliver(std::move(req), [&, bytes](Result<DeliveryOutcome> r) {
        if (!r) _exit(4);
        for (const auto& d : r->delivered) {
          char line[200];
          int len = std::snprintf(line, sizeof line, "durable %llu %s %s\n",
                                  static_cast<unsigned long long>(d.unique_id),
                                  to_hex(body_key(*bytes)).c_str(), d.address.c_str());
          if (::write(out_fd, line, static_cast<std::size_t>(len)) != len) _exit(5);
        }
        --in_flight;
      });
    });
  }
}

struct Durable {
  std::string sha;
  std::string address;
};

// Reads "durable ..." lines until `want` arrived (or EOF / timeout).
void read_lines(int fd, std::string& pending, std::map<std::uint64_t, Durable>& out,
                std::size_t want, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    char buf[4096];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) return;
    pending.append(buf, static_cast<std::size_t>(r));
    std::size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      std::istringstream line(pending.substr(0, eol));
      pending.erase(0, eol + 1);
      std::string word;
      unsigned long long id = 0;
      Durable d;
      line >> word >> id >> d.sha >> d.address;
      REQUIRE(word == "durable");
      out[id] = d;
    }
  }
}

}  // namespace

TEST_CASE("every message reported durable survives SIGKILL byte-exact and consistent") {
  TempDir dir;
  const Options options = options_for(dir.path(), 256ull << 20);
  {
    auto env = open_store(options);
    add_users(*env, {"a@x.org", "b@x.org", "c@x.org"});
  }
  std::map<std::uint64_t, Durable> durable;  // over all rounds
  for (unsigned round = 1; round <= 4; ++round) {
    CAPTURE(round);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      deliver_forever(options, fds[1], round);
    }
    ::close(fds[1]);
    std::string pending;
    std::map<std::uint64_t, Durable> reported;
    read_lines(fds[0], pending, reported, 20 + 15 * round,
               postern::test::scaled(std::chrono::seconds(30)));
    REQUIRE(reported.size() >= 20 + 15 * round);
    ::kill(child, SIGKILL);
    // Lines already in the pipe were written after their commit: durable too.
    read_lines(fds[0], pending, reported, SIZE_MAX,
               postern::test::scaled(std::chrono::seconds(10)));
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    durable.insert(reported.begin(), reported.end());

    auto env = open_store(options);  // mdb_reader_check clears the dead child's reader slot
    auto checked = check_consistency(*env, true);
    REQUIRE(checked.has_value());
    CHECK(checked->staged_chunks == 0);  // recovery dropped what a killed staging left
    std::map<std::uint64_t, std::pair<std::string, MessageInfo>> present;
    for (const char* who : {"a@x.org", "b@x.org", "c@x.org"}) {
      auto list = list_messages(*env, mailbox_of(*env, who));
      REQUIRE(list.has_value());
      for (const auto& m : *list) present[m.unique_id] = {who, m};
    }
    for (const auto& [id, d] : durable) {
      CAPTURE(id);
      auto it = present.find(id);
      REQUIRE(it != present.end());
      CHECK(it->second.first == d.address);
      const MessageInfo& m = it->second.second;
      CHECK(to_hex(m.body) == d.sha);
      CHECK(to_hex(body_key(read_body(*env, m.body, m.size))) == d.sha);
    }
    CHECK(std::filesystem::is_empty(options.data_dir + "/spool"));
  }
}
