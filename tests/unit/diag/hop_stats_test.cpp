// HopStats and the JSON form of results.
#include "diag/hop_stats.h"

#include <doctest/doctest.h>

using namespace postern;

TEST_CASE("Hop statistics keep min, avg, max and loss over answered probes") {
  diag::HopStats stats(3);
  stats.answered(400, "192.0.2.1");
  stats.lost();
  stats.answered(200, "192.0.2.1");
  stats.answered(600, "192.0.2.9");
  const auto& hop = stats.result();
  CHECK(hop.ttl == 3);
  CHECK(hop.sent == 4);
  CHECK(hop.received == 3);
  CHECK(hop.rtt_min_us == 200);
  CHECK(hop.rtt_avg_us == 400);
  CHECK(hop.rtt_max_us == 600);
  CHECK(hop.loss_percent() == 25);
  CHECK(hop.address == "192.0.2.1");
  REQUIRE(hop.also.size() == 1);
  CHECK(hop.also[0] == "192.0.2.9");
  CHECK(hop.rtts_us == std::vector<diag::Micros>{400, -1, 200, 600});
}

TEST_CASE("A hop where nothing answered has no address and full loss") {
  diag::HopStats stats(7);
  for (int i = 0; i < 3; ++i) stats.lost();
  CHECK(stats.result().address.empty());
  CHECK(stats.result().loss_percent() == 100);
  CHECK(stats.result().rtt_max_us == 0);
  CHECK(diag::HopResult{}.loss_percent() == 0);
}

TEST_CASE("Loss percent rounds to the nearest whole percent") {
  diag::HopStats stats(1);
  stats.lost();
  stats.answered(1, "a");
  stats.answered(1, "a");
  CHECK(stats.result().loss_percent() == 33);
  stats.lost();
  stats.lost();
  CHECK(stats.result().loss_percent() == 60);
}

TEST_CASE("Trace results serialise to JSON with escaped strings") {
  diag::TraceResult r;
  r.target = "example.org";
  r.address = "192.0.2.7";
  r.mx = "mx\"1\n";
  r.outcome = diag::TraceOutcome::reached;
  r.path_mtu = 1400;
  diag::HopStats stats(1);
  stats.answered(412, "192.168.0.1");
  stats.set_mtu(1500);
  stats.mark_destination();
  r.hops.push_back(stats.result());
  CHECK(diag::to_json(r) ==
        "{\"target\":\"example.org\",\"address\":\"192.0.2.7\",\"mx\":\"mx\\\"1\\u000a\","
        "\"outcome\":\"reached\",\"path_mtu\":1400,\"error\":\"\",\"hops\":[{\"ttl\":1,"
        "\"address\":\"192.168.0.1\",\"also\":[],\"sent\":1,\"received\":1,\"loss\":0,"
        "\"rtt_min_us\":412,\"rtt_avg_us\":412,\"rtt_max_us\":412,\"mtu\":1500,"
        "\"destination\":true,\"unreachable\":false}]}");
}
