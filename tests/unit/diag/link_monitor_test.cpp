// LinkMonitor: default targets parsed from /proc/net/route and resolv.conf, and rounds on a loop.
#include "diag/link_monitor.h"

#include <doctest/doctest.h>

#include <vector>

#include "diag/auto_tracer.h"
#include "diag_loop.h"

using namespace postern;
using namespace std::chrono_literals;

TEST_CASE("The default gateway is read from /proc/net/route's little-endian hex") {
  const char* route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
  auto gateway = diag::parse_default_gateway(route);
  REQUIRE(gateway);
  CHECK(*gateway == "192.168.1.1");
  CHECK_FALSE(diag::parse_default_gateway("Iface\tDestination\tGateway\tFlags\n"));
  CHECK_FALSE(diag::parse_default_gateway(""));
}

TEST_CASE("Name servers come from resolv.conf, numeric ones only, in order") {
  const char* conf =
      "# generated\nsearch lan\nnameserver 192.168.1.1\nnameserver fd00::53\n"
      "nameserver dns.example.org\nnameserver 1.1.1.1;reboot\noptions edns0\n";
  CHECK(diag::parse_nameservers(conf) == std::vector<std::string>{"192.168.1.1", "fd00::53"});
  CHECK(diag::parse_nameservers("").empty());
}

TEST_CASE("A monitor round probes each target and reports one sample per target") {
  test::DiagLoop loop;
  core::SystemClock clock;
  std::vector<diag::MonitorSample> samples;
  diag::MonitorOptions options;
  options.interval = 3'600'000ms;  // one round in this test
  options.probes = 2;
  auto monitor =
      diag::LinkMonitor::start(loop.get(), clock, options, {{"127.0.0.1", "gateway"}},
                               [&](const diag::MonitorSample& s) { samples.push_back(s); });
  REQUIRE(monitor);
  (*monitor)->add_peer("::1");  // before the first round runs
  (*monitor)->add_peer("not an address");
  CHECK((*monitor)->targets().size() == 2);
  REQUIRE(loop.run_until([&] { return samples.size() == 2; }, 5'000ms));
  for (const auto& s : samples) {
    INFO("target " << s.target);
    CHECK(s.sent == 2);
    CHECK(s.lost == 0);
    CHECK(s.rtt_us >= 0);
    CHECK(s.rtt_us < 1'000'000);
  }
  CHECK((samples[0].role == "gateway" || samples[1].role == "gateway"));
  CHECK((samples[0].role == "peer" || samples[1].role == "peer"));
  monitor->reset();
}

TEST_CASE("Peers age out of the monitor after their lifetime and the list stays bounded") {
  test::DiagLoop loop;
  core::ManualClock clock;
  diag::MonitorOptions options;
  options.max_peers = 2;
  options.interval = 3'600'000ms;
  auto monitor = diag::LinkMonitor::start(loop.get(), clock, options, {}, nullptr);
  REQUIRE(monitor);
  (*monitor)->add_peer("192.0.2.1");
  (*monitor)->add_peer("192.0.2.2");
  (*monitor)->add_peer("192.0.2.3");
  auto targets = (*monitor)->targets();
  REQUIRE(targets.size() == 2);
  CHECK(targets[0].address == "192.0.2.2");
  clock.advance(3600s);
  CHECK((*monitor)->targets().empty());
  monitor->reset();
}

TEST_CASE("The Tracer-backed starter runs an auto-trace to loopback on a real loop") {
  test::DiagLoop loop;
  core::SystemClock clock;
  diag::TraceOptions options;
  options.probes = 1;
  diag::UvTraceStarter starter(loop.get(), options);
  std::optional<diag::TraceResult> got;
  diag::AutoTracer tracer(starter, clock, {},
                          [&](const std::string&, const diag::TraceResult& r) { got = r; });
  REQUIRE(tracer.on_broken_session("127.0.0.1"));
  REQUIRE(loop.run_until([&] { return got.has_value(); }, 5'000ms));
  CHECK(got->outcome == diag::TraceOutcome::reached);
  CHECK(starter.running() == 0);
}
