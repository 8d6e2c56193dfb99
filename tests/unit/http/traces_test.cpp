// TraceBoard bounds (running, kept, hops, age) and the link chart's downsampling.
#include "http/traces.h"

#include <doctest/doctest.h>

using namespace postern;
using namespace std::chrono_literals;
using http::HopView;
using http::LinkPoint;
using http::TraceBoard;

namespace {

struct CountedRun final : http::TraceRun {
  explicit CountedRun(int& alive) : alive_(alive) { ++alive_; }
  ~CountedRun() override { --alive_; }
  int& alive_;
};

http::TraceEnd ended(std::string outcome) {
  http::TraceEnd end;
  end.outcome = std::move(outcome);
  return end;
}

HopView hop(int ttl) {
  HopView h;
  h.ttl = ttl;
  return h;
}

}  // namespace

TEST_CASE("The board counts running traces against max_running") {
  core::ManualClock clock;
  TraceBoard board({.max_running = 2, .max_kept = 4});
  board.add("a", "192.0.2.1", clock.now());
  CHECK_FALSE(board.full());
  board.add("b", "192.0.2.2", clock.now());
  CHECK(board.full());
  board.finish("a", ended("reached"), clock.now());
  CHECK_FALSE(board.full());
  CHECK(board.running() == 1);
}

TEST_CASE("At most max_kept records: the oldest finished one goes first") {
  core::ManualClock clock;
  TraceBoard board({.max_running = 2, .max_kept = 3});
  for (const char* id : {"a", "b", "c"}) {
    board.add(id, "x", clock.now());
    board.finish(id, ended("reached"), clock.now());
    clock.advance(1s);
  }
  board.add("d", "x", clock.now());
  CHECK(board.size() == 3);
  CHECK(board.find("a") == nullptr);
  CHECK(board.find("b") != nullptr);
  CHECK(board.find("d") != nullptr);
}

TEST_CASE("Finished records expire after `keep`, running ones never do") {
  core::ManualClock clock;
  TraceBoard board({.keep = 300s});
  board.add("done", "x", clock.now());
  board.add("running", "y", clock.now());
  board.finish("done", ended("reached"), clock.now());
  clock.advance(299s);
  board.prune(clock.now());
  CHECK(board.find("done") != nullptr);
  clock.advance(1h);
  board.prune(clock.now());
  CHECK(board.find("done") == nullptr);
  CHECK(board.find("running") != nullptr);
}

TEST_CASE("Hops beyond max_hops and after the end are dropped") {
  core::ManualClock clock;
  TraceBoard board({.max_hops = 2});
  board.add("a", "x", clock.now());
  for (int ttl = 1; ttl <= 3; ++ttl) board.add_hop("a", hop(ttl));
  board.finish("a", ended("max_hops"), clock.now());
  board.add_hop("a", hop(9));
  board.add_hop("unknown", hop(1));
  REQUIRE(board.find("a")->hops.size() == 2);
  CHECK(board.find("a")->hops[1].ttl == 2);
  CHECK(board.find("a")->end.outcome == "max_hops");
}

TEST_CASE("A run is released at the next prune after its end, even one that ended early") {
  core::ManualClock clock;
  TraceBoard board;
  int alive = 0;
  board.add("a", "x", clock.now());
  board.attach("a", std::make_unique<CountedRun>(alive));
  board.finish("a", ended("reached"), clock.now());
  CHECK(alive == 1);  // finish() runs inside the run's callback: not destroyed there
  board.prune(clock.now());
  CHECK(alive == 0);

  board.add("b", "x", clock.now());
  board.finish("b", ended("failed"), clock.now());  // before start_trace returned
  board.attach("b", std::make_unique<CountedRun>(alive));
  CHECK(alive == 1);
  board.prune(clock.now());
  CHECK(alive == 0);

  board.add("c", "x", clock.now());
  board.attach("c", std::make_unique<CountedRun>(alive));
  board.remove("c");
  CHECK(alive == 0);
}

TEST_CASE("Downsampling merges neighbours: loss summed, RTT weighted by answered probes") {
  std::vector<LinkPoint> points = {
      {1000, 100, 3, 0}, {2000, 400, 3, 2}, {3000, -1, 3, 3}, {4000, 200, 3, 0}, {5000, 50, 3, 1}};
  CHECK(http::downsample(points, 5).size() == 5);
  CHECK(http::downsample(points, 0).size() == 5);
  auto two = http::downsample(points, 2);  // buckets of 3: [0..2], [3..4]
  REQUIRE(two.size() == 2);
  CHECK(two[0].time_ms == 1000);
  CHECK(two[0].sent == 9);
  CHECK(two[0].lost == 5);
  CHECK(two[0].rtt_us == (100 * 3 + 400 * 1) / 4);
  CHECK(two[1].time_ms == 4000);
  CHECK(two[1].rtt_us == (200 * 3 + 50 * 2) / 5);
  auto lost = http::downsample({{1, -1, 3, 3}, {2, -1, 3, 3}}, 1);
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].rtt_us == -1);
  CHECK(lost[0].lost == 6);
}
