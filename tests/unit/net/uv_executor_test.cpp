// UvExecutor: work on a pool thread, completion on the loop thread.
#include "net/uv_executor.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "net_test_support.h"

using namespace postern;

TEST_CASE("UvExecutor runs work off the loop thread and done on the loop thread") {
  test::Loop loop;
  const auto loop_thread = std::this_thread::get_id();
  int completed = 0;
  std::atomic<int> worked{0};
  {
    net::UvExecutor executor(loop.get());
    for (int i = 0; i < 3; ++i) {
      executor.submit(
          [&] {
            CHECK(std::this_thread::get_id() != loop_thread);
            worked.fetch_add(1);
          },
          [&] {
            CHECK(std::this_thread::get_id() == loop_thread);
            CHECK(worked.load() >= 1);  // at least this job's work
            ++completed;
          });
    }
    CHECK(completed == 0);  // nothing runs inline
  }                         // the executor may go before its jobs
  CHECK(loop.run_until([&] { return completed == 3; }));
  CHECK(worked.load() == 3);
}
