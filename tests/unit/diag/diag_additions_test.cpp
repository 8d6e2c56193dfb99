// Proposed for tests/unit/diag/ (lead): the loopback decision, the refusal sentences and
// the auto-trace event text.
#include <doctest/doctest.h>

#include "diag/auto_tracer.h"
#include "diag/target.h"

using namespace postern;

namespace {
struct NullStarter final : diag::TraceStarter {
  int started = 0;
  void start(const std::string&, std::function<void(diag::TraceResult)>) override { ++started; }
};
}  // namespace

TEST_CASE("Loopback is 127.0.0.0/8, ::1 and their mapped form; nothing else") {
  for (const char* a : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"}) {
    CAPTURE(a);
    CHECK(diag::is_loopback(a));
  }
  for (const char* a :
       {"128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1", "localhost", "", "1.2.3"}) {
    CAPTURE(a);
    CHECK_FALSE(diag::is_loopback(a));
  }
}

TEST_CASE("With skip_loopback the auto-tracer leaves loopback peers alone") {
  core::ManualClock clock;
  NullStarter starter;
  diag::AutoTracePolicy policy;
  policy.skip_loopback = true;
  diag::AutoTracer tracer(starter, clock, policy, nullptr);
  CHECK_FALSE(tracer.on_broken_session("127.0.0.1"));
  CHECK_FALSE(tracer.on_broken_session("::1"));
  CHECK_FALSE(tracer.on_broken_session("::ffff:127.0.0.5"));
  CHECK(tracer.on_broken_session("192.0.2.1"));
  CHECK(starter.started == 1);
}

TEST_CASE("Every validation error has a sentence that does not echo the input") {
  for (const char* bad : {"", "127.0.0.1; reboot", "a..b", "1.2.3", "$(reboot)"}) {
    auto r = diag::validate_target(bad);
    REQUIRE_FALSE(r);
    const std::string s = diag::describe_target_error(r.error());
    CHECK(s.size() > 20);
    CHECK(s.find("reboot") == std::string::npos);
  }
  CHECK(diag::describe_target_error(*&diag::validate_target("x y").error()).find("only a host") !=
        std::string::npos);
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
