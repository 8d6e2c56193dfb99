// The diagnostics routes over fake diagnostics: access rules, the host check and its
// messages, trace polling, the concurrency and retention bounds, and the link series.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "api_harness.h"
#include "fake_diagnostics.h"

using namespace postern;
using namespace std::chrono_literals;
using http::Request;
using http::Response;
using http::test::error_of;
using http::test::FakeDiagnostics;
using http::test::Harness;
using Json = nlohmann::json;

namespace {

struct DiagHarness {
  FakeDiagnostics diag;
  Harness h{"correct horse", &diag};
  DiagHarness() { h.log_in_as_admin(); }

  Response start(const std::string& host) {
    return h.must(h.request("POST", "/api/trace", Json{{"host", host}}.dump()));
  }
  std::string start_id(const std::string& host) {
    Response r = start(host);
    REQUIRE(r.status == 202);
    return Json::parse(r.body)["id"].get<std::string>();
  }
  Json poll(const std::string& id) {
    Response r = h.must(h.request("GET", "/api/trace/" + id));
    REQUIRE(r.status == 200);
    return Json::parse(r.body);
  }
};

}  // namespace

TEST_CASE("Traces and link series need a session, and starting a trace needs the CSRF token") {
  FakeDiagnostics diag;
  Harness h("correct horse", &diag);
  CHECK(h.must(h.request("POST", "/api/trace", R"({"host":"192.0.2.1"})")).status == 401);
  CHECK(h.must(h.request("GET", "/api/trace/0123")).status == 401);
  CHECK(h.must(h.request("GET", "/api/links")).status == 401);
  h.log_in_as_admin();
  const std::string csrf = h.csrf;
  h.csrf.clear();
  Response no_token = h.must(h.request("POST", "/api/trace", R"({"host":"192.0.2.1"})"));
  CHECK(no_token.status == 403);
  h.csrf = "x" + csrf.substr(1);  // same length, one character off
  CHECK(h.must(h.request("POST", "/api/trace", R"({"host":"192.0.2.1"})")).status == 403);
  CHECK(diag.asked.empty());
  CHECK(diag.links_since_ms.empty());
  h.csrf = csrf;
  CHECK(h.must(h.request("POST", "/api/trace", R"({"host":"192.0.2.1"})")).status == 202);
}

TEST_CASE("Router injection strings are answered 400 with a message and start nothing") {
  DiagHarness t;
  const std::vector<std::string> attacks = {
      "127.0.0.1; reboot",
      "127.0.0.1;reboot",
      "$(reboot)",
      "`reboot`",
      "8.8.8.8 | nc 1 2",
      "8.8.8.8 && rm -rf /",
      "8.8.8.8\nreboot",
      "8.8.8.8%0areboot",
      "-c 1 8.8.8.8",
      "example.org'; echo x'",
      "a b",
      "8.8.8.8>/tmp/x",
  };
  for (const std::string& attack : attacks) {
    CAPTURE(attack);
    Response r = t.start(attack);
    CHECK(r.status == 400);
    const std::string message = error_of(r);
    CHECK(message == "fake: not a host name or IP address");
    CHECK(message.find(attack) == std::string::npos);  // never reflected
  }
  // Each reached the one validator verbatim: nothing trimmed, decoded or split first.
  CHECK(t.diag.asked == attacks);
  CHECK(t.diag.started.empty());
  CHECK(t.h.api->traces().size() == 0);
}

TEST_CASE("A missing, non-string, empty or overlong host is answered 400 before any check") {
  DiagHarness t;
  for (const std::string& body :
       std::vector<std::string>{R"({})", R"({"host":5})", R"({"host":""})", R"(["a"])",
                                R"({"host":")" + std::string(301, 'a') + R"("})"}) {
    CAPTURE(body);
    Response r = t.h.must(t.h.request("POST", "/api/trace", body));
    CHECK(r.status == 400);
    CHECK(error_of(r).size() > 10);
  }
  CHECK(t.diag.asked.empty());
}

TEST_CASE("A refusal for the appliance's own reason is answered 503") {
  DiagHarness t;
  t.diag.check = [](const std::string&) {
    return std::optional<http::TraceRefusal>(
        http::TraceRefusal{false, "The DNS resolver could not start."});
  };
  Response r = t.start("example.org");
  CHECK(r.status == 503);
  CHECK(error_of(r) == "The DNS resolver could not start.");
}

TEST_CASE("A started trace is polled by id: hops as they arrive, then the outcome") {
  DiagHarness t;
  Response started = t.start("example.org");
  REQUIRE(started.status == 202);
  const std::string id = Json::parse(started.body)["id"];
  CHECK(id.size() == 32);
  CHECK(*started.header("Location") == "/api/trace/" + id);
  REQUIRE(t.diag.started.size() == 1);
  CHECK(t.diag.started[0].host == "example.org");

  Json first = t.poll(id);
  CHECK(first["target"] == "example.org");
  CHECK(first["done"] == false);
  CHECK(first["hops"].empty());
  CHECK_FALSE(first.contains("outcome"));

  t.diag.hop(0, 1, "192.168.1.1");
  Json second = t.poll(id);
  REQUIRE(second["hops"].size() == 1);
  CHECK(second["hops"][0]["ttl"] == 1);
  CHECK(second["hops"][0]["address"] == "192.168.1.1");
  CHECK(second["hops"][0]["rtt_avg_us"] == 1000);
  CHECK(second["hops"][0]["loss"] == 0);

  t.diag.hop(0, 2, "");
  t.diag.finish(0, "reached");
  Json last = t.poll(id);
  CHECK(last["done"] == true);
  CHECK(last["outcome"] == "reached");
  CHECK(last["address"] == "192.0.2.1");
  CHECK(last["path_mtu"] == 1500);
  REQUIRE(last["hops"].size() == 2);
  CHECK(last["hops"][1]["address"] == "");
}

TEST_CASE("A third trace while two run is answered 429; a finished one frees its slot") {
  DiagHarness t;
  t.start_id("192.0.2.1");
  t.start_id("192.0.2.2");
  Response busy = t.start("192.0.2.3");
  CHECK(busy.status == 429);
  CHECK(*busy.header("Retry-After") == "5");
  CHECK(error_of(busy).find("wait") != std::string::npos);
  CHECK(t.diag.asked.size() == 2);  // refused before the backend was asked
  t.diag.finish(0, "reached");
  CHECK(t.start("192.0.2.3").status == 202);
}

TEST_CASE("A finished trace is kept five minutes, then its id answers 404") {
  DiagHarness t;
  const std::string id = t.start_id("192.0.2.1");
  t.diag.finish(0, "failed", "No such host name: check the spelling.");
  t.h.clock.advance(299s);
  Json kept = t.poll(id);
  CHECK(kept["outcome"] == "failed");
  CHECK(kept["message"] == "No such host name: check the spelling.");
  t.h.clock.advance(1s);
  Response gone = t.h.must(t.h.request("GET", "/api/trace/" + id));
  CHECK(gone.status == 404);
  CHECK(error_of(gone).find("5 minutes") != std::string::npos);
}

TEST_CASE("Trace paths: an unknown id is 404, extra segments are 404, a wrong method 405") {
  DiagHarness t;
  CHECK(t.h.must(t.h.request("GET", "/api/trace/nosuch")).status == 404);
  CHECK(t.h.must(t.h.request("GET", "/api/trace/a/b")).status == 404);
  CHECK(t.h.must(t.h.request("GET", "/api/trace/")).status == 404);
  CHECK(t.h.must(t.h.request("GET", "/api/trace")).status == 405);
  CHECK(t.h.must(t.h.request("POST", "/api/trace/abc", "{}")).status == 405);
}

TEST_CASE("Traces in flight are cancelled with the Api; finished runs are released") {
  DiagHarness t;
  t.start_id("192.0.2.1");
  t.start_id("192.0.2.2");
  t.diag.finish(0, "reached");
  CHECK_FALSE(*t.diag.started[0].cancelled);  // not destroyed inside its own callback
  CHECK(t.h.must(t.h.request("GET", "/api/trace/nosuch")).status == 404);  // a poll prunes
  CHECK(*t.diag.started[0].cancelled);  // released by the next request's prune
  CHECK_FALSE(*t.diag.started[1].cancelled);
  t.h.api.reset();
  CHECK(*t.diag.started[1].cancelled);
}

TEST_CASE("Without diagnostics the trace and link routes answer 503") {
  Harness h("correct horse");
  h.log_in_as_admin();
  CHECK(h.must(h.request("POST", "/api/trace", R"({"host":"192.0.2.1"})")).status == 503);
  CHECK(h.must(h.request("GET", "/api/links")).status == 503);
  Json status = Json::parse(h.must(h.request("GET", "/api/status")).body);
  CHECK(status["diagnostics"]["available"] == false);
}

TEST_CASE("Link series come per target as compact samples, since clamped to 24 hours") {
  DiagHarness t;
  t.diag.report.interval_s = 60;
  t.diag.report.series = {{"192.168.1.1", "gateway", {{1'000, 500, 3, 0}, {61'000, -1, 3, 3}}},
                          {"9.9.9.9", "dns", {}}};
  const std::int64_t now = core::unix_seconds(t.h.clock.now());
  Response r = t.h.must(t.h.request("GET", "/api/links?since=0"));
  REQUIRE(r.status == 200);
  Json body = Json::parse(r.body);
  CHECK(body["now"] == now);
  CHECK(body["since"] == now - 86400);
  CHECK(t.diag.links_since_ms.back() == (now - 86400) * 1000);
  CHECK(body["interval_s"] == 60);
  REQUIRE(body["targets"].size() == 2);
  CHECK(body["targets"][0]["target"] == "192.168.1.1");
  CHECK(body["targets"][0]["role"] == "gateway");
  CHECK(body["targets"][0]["samples"] == Json::parse("[[1000,500,3,0],[61000,-1,3,3]]"));
  CHECK(body["targets"][1]["samples"].empty());

  Response recent = t.h.must(t.h.request("GET", "/api/links?since=" + std::to_string(now - 60)));
  CHECK(Json::parse(recent.body)["since"] == now - 60);
  Response fallback = t.h.must(t.h.request("GET", "/api/links"));
  CHECK(Json::parse(fallback.body)["since"] == now - 3600);
  for (const char* bad : {"since=abc", "since=-5", "since=12x", "since="}) {
    CAPTURE(bad);
    CHECK(t.h.must(t.h.request("GET", std::string("/api/links?") + bad)).status == 400);
  }
}

TEST_CASE("The status page reports auto-traces, and each next to its client's abnormal end") {
  DiagHarness t;
  t.h.backend.event_log = {
      {500, "auto-trace",
       "peer=192.168.1.20 hops=3 reached=no loss=100 rtt_ms=- path=192.168.1.1,*,*"},
      {400, "pop3-abnormal-end",
       "user=bob@example.org client=192.168.1.20 reason=timeout retrieved=2 marked_deleted=0"},
  };
  Json status = Json::parse(t.h.must(t.h.request("GET", "/api/status")).body);
  CHECK(status["diagnostics"]["available"] == true);
  const Json& health = status["health"];
  REQUIRE(health["auto_traces"].size() == 1);
  CHECK(health["auto_traces"][0]["peer"] == "192.168.1.20");
  CHECK(health["auto_traces"][0]["hops"] == 3);
  CHECK(health["auto_traces"][0]["reached"] == false);
  CHECK(health["auto_traces"][0]["path"] == "192.168.1.1,*,*");
  REQUIRE(health["abnormal_ends"].size() == 1);
  CHECK(health["abnormal_ends"][0]["trace"]["time"] == 500);
}
