// Diagnostics for the API tests: every start_trace recorded with its callbacks, so the
// test plays the hops and the end; a host check the test can replace; a canned report.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/diagnostics.h"

namespace postern::http::test {

class FakeDiagnostics final : public Diagnostics {
 public:
  struct Started {
    std::string host;
    TraceCallbacks callbacks;
    std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
  };
  // Refuses like diag::validate_target does for the characters a shell would act on
  // (the real check is diag's, tested in unit_diag); the sentence is the fake's own.
  std::function<std::optional<TraceRefusal>(const std::string&)> check =
      [](const std::string& host) -> std::optional<TraceRefusal> {
    for (char c : host) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == ':';
      if (!ok) return TraceRefusal{true, "fake: not a host name or IP address"};
    }
    return std::nullopt;
  };
  std::vector<std::string> asked;  // every host passed to start_trace, verbatim
  std::vector<Started> started;
  LinkReport report;
  std::vector<std::int64_t> links_since_ms;

  core::Result<std::unique_ptr<TraceRun>, TraceRefusal> start_trace(
      std::string host, TraceCallbacks callbacks) override {
    asked.push_back(host);
    if (auto refused = check(host)) return *refused;
    started.push_back({host, std::move(callbacks)});
    struct Run final : TraceRun {
      explicit Run(std::shared_ptr<bool> flag) : cancelled(std::move(flag)) {}
      ~Run() override { *cancelled = true; }
      std::shared_ptr<bool> cancelled;
    };
    return std::unique_ptr<TraceRun>(new Run(started.back().cancelled));
  }

  core::Result<LinkReport, Problem> links(std::int64_t since_ms, std::size_t max_points,
                                          std::size_t max_series) override {
    links_since_ms.push_back(since_ms);
    LinkReport out = report;
    if (out.series.size() > max_series) out.series.resize(max_series);
    for (auto& s : out.series) {
      if (s.points.size() > max_points)
        s.points.erase(s.points.begin(), s.points.end() - max_points);
    }
    return out;
  }

  // Plays hop `ttl` answered by `address` for trace `index`.
  void hop(std::size_t index, int ttl, std::string address) {
    HopView h;
    h.ttl = ttl;
    h.address = std::move(address);
    h.sent = h.received = 3;
    h.rtt_avg_us = 1000 * ttl;
    h.destination = false;
    started.at(index).callbacks.on_hop(h);
  }
  void finish(std::size_t index, std::string outcome, std::string message = {}) {
    started.at(index).callbacks.on_done(
        {std::move(outcome), std::move(message), "192.0.2.1", "", 1500});
  }
};

}  // namespace postern::http::test
