// AutoTracer: per-address and hourly limits on a ManualClock, through a recording starter.
#include "diag/auto_tracer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

using namespace postern;
using namespace std::chrono_literals;

namespace {

struct RecordingStarter final : diag::TraceStarter {
  std::vector<std::string> started;
  std::vector<std::function<void(diag::TraceResult)>> pending;
  void start(const std::string& address, std::function<void(diag::TraceResult)> done) override {
    started.push_back(address);
    pending.push_back(std::move(done));
  }
  void finish_all() {
    auto jobs = std::move(pending);
    pending.clear();
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      diag::TraceResult r;
      r.address = started[started.size() - jobs.size() + i];
      r.outcome = diag::TraceOutcome::reached;
      jobs[i](r);
    }
  }
};

}  // namespace

TEST_CASE("A broken session's peer is traced at most once per ten minutes") {
  core::ManualClock clock;
  RecordingStarter starter;
  std::vector<std::string> results;
  diag::AutoTracer tracer(starter, clock, {},
                          [&](const std::string& peer, const diag::TraceResult& r) {
                            CHECK(r.outcome == diag::TraceOutcome::reached);
                            results.push_back(peer);
                          });
  CHECK(tracer.on_broken_session("198.51.100.7"));
  CHECK_FALSE(tracer.on_broken_session("198.51.100.7"));  // already running
  starter.finish_all();
  CHECK(results == std::vector<std::string>{"198.51.100.7"});
  clock.advance(9min);
  CHECK_FALSE(tracer.on_broken_session("198.51.100.7"));
  clock.advance(1min);
  CHECK(tracer.on_broken_session("198.51.100.7"));
  CHECK(starter.started.size() == 2);
}

TEST_CASE("At most N traces start in any hour, whatever the addresses") {
  core::ManualClock clock;
  RecordingStarter starter;
  diag::AutoTracePolicy policy;
  policy.per_hour = 3;
  diag::AutoTracer tracer(starter, clock, policy, nullptr);
  CHECK(tracer.on_broken_session("192.0.2.1"));
  CHECK(tracer.on_broken_session("192.0.2.2"));
  CHECK(tracer.on_broken_session("2001:db8::3"));
  CHECK_FALSE(tracer.on_broken_session("192.0.2.4"));
  starter.finish_all();
  clock.advance(59min);
  CHECK_FALSE(tracer.on_broken_session("192.0.2.4"));
  clock.advance(1min);
  CHECK(tracer.on_broken_session("192.0.2.4"));
}

TEST_CASE("Only numeric peers are traced, and mapped IPv4 is traced as IPv4") {
  core::ManualClock clock;
  RecordingStarter starter;
  diag::AutoTracer tracer(starter, clock, {}, nullptr);
  CHECK_FALSE(tracer.on_broken_session("mail.example.org"));
  CHECK_FALSE(tracer.on_broken_session("1.2.3.4; reboot"));
  CHECK_FALSE(tracer.on_broken_session(""));
  CHECK(tracer.on_broken_session("::ffff:203.0.113.9"));
  REQUIRE(starter.started.size() == 1);
  CHECK(starter.started[0] == "203.0.113.9");
  CHECK(tracer.in_flight() == 1);
}

TEST_CASE("The limiter forgets the oldest address when its table is full") {
  diag::AutoTracePolicy policy;
  policy.max_addresses = 2;
  policy.per_hour = 100;
  diag::AutoTraceLimiter limiter(policy);
  core::ManualClock clock;
  CHECK(limiter.allow("a", clock.now()));
  clock.advance(1s);
  CHECK(limiter.allow("b", clock.now()));
  clock.advance(1s);
  CHECK(limiter.allow("c", clock.now()));  // "a" forgotten
  CHECK(limiter.allow("a", clock.now()));  // so it may go again ("b" forgotten now)
  CHECK_FALSE(limiter.allow("c", clock.now()));
}

TEST_CASE("With skip_loopback the auto-tracer leaves loopback peers alone") {
  core::ManualClock clock;
  RecordingStarter starter;
  diag::AutoTracePolicy policy;
  policy.skip_loopback = true;
  diag::AutoTracer tracer(starter, clock, policy, nullptr);
  CHECK_FALSE(tracer.on_broken_session("127.0.0.1"));
  CHECK_FALSE(tracer.on_broken_session("::1"));
  CHECK_FALSE(tracer.on_broken_session("::ffff:127.0.0.5"));
  CHECK(tracer.on_broken_session("192.0.2.1"));
  CHECK(starter.started == std::vector<std::string>{"192.0.2.1"});
}

TEST_CASE(
    "The auto-trace event text names peer, hops, reach, last-hop loss and RTT, and the path") {
  diag::TraceResult r;
  r.outcome = diag::TraceOutcome::reached;
  diag::HopResult h1;
  h1.ttl = 1;
  h1.address = "192.168.1.1";
  h1.sent = 3;
  h1.received = 3;
  h1.rtt_avg_us = 800;
  diag::HopResult h2;
  h2.ttl = 2;
  h2.sent = 3;
  diag::HopResult h3;
  h3.ttl = 3;
  h3.address = "203.0.113.9";
  h3.sent = 3;
  h3.received = 2;
  h3.rtt_avg_us = 23'450;
  r.hops = {h1, h2, h3};
  CHECK(diag::auto_trace_event_text("203.0.113.9", r) ==
        "peer=203.0.113.9 hops=3 reached=yes loss=33 rtt_ms=23.4 path=192.168.1.1,*,203.0.113.9");
  diag::TraceResult failed;
  failed.error = "socket-eperm";
  CHECK(diag::auto_trace_event_text("192.0.2.1", failed) ==
        "peer=192.0.2.1 hops=0 reached=no loss=100 rtt_ms=- error=socket-eperm");
}
