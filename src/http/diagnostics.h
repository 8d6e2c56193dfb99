// http::Diagnostics: what the status page's link diagnostics need from the appliance (a
// trace on the loop, the link monitor's series), as an interface beside Backend, so the
// routes are unit-tested with a fake and http never includes diag (DESIGN.md: services
// never include each other).
//
// Implemented by app/http_diagnostics.h over app::LinkService (diag::Resolver, Tracer,
// LinkMonitor, store links table). Loop thread only. Typical call sequence for a trace:
//   auto run = diagnostics.start_trace("example.org", {on_hop, on_done});
//   ... on_hop(hop) per completed hop, in TTL order; on_done(end) once ...
//   run.reset();  // at any time: cancels, no callback after it returns
// start_trace validates the host (diag::validate_target) and refuses bad input at once,
// without calling back. A name is resolved first (MX, then A/AAAA); a failed lookup is a
// finished trace (on_done with outcome "failed" and a sentence), not a refusal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/backend.h"

namespace postern::http {

// One completed hop, as diag::HopResult (rtt in microseconds, loss in percent).
struct HopView {
  int ttl = 0;
  std::string address;  // empty: nothing answered ("*")
  std::vector<std::string> also;
  int sent = 0, received = 0, loss_percent = 0;
  std::int64_t rtt_min_us = 0, rtt_avg_us = 0, rtt_max_us = 0;
  int mtu = 0;
  bool destination = false, unreachable = false;
};

struct TraceEnd {
  std::string outcome;  // "reached", "max_hops", "unreachable", "failed", "cancelled"
  std::string message;  // a sentence for the owner when failed; else empty
  std::string address;  // the numeric address traced; empty when resolution failed
  std::string mx;       // the mail exchanger chosen for a mail domain; else empty
  int path_mtu = 0;
};

struct TraceCallbacks {
  std::function<void(HopView)> on_hop;
  std::function<void(TraceEnd)> on_done;
};

// A trace in flight; destroying it cancels it (no callback afterwards).
struct TraceRun {
  virtual ~TraceRun() = default;
};

// Why a trace did not start: bad input (400) or the appliance cannot trace now (503).
struct TraceRefusal {
  bool bad_input = true;
  Problem message;
};

struct LinkPoint {
  std::int64_t time_ms = 0;  // unix milliseconds
  std::int64_t rtt_us = -1;  // mean of the answered probes; -1 when all were lost
  int sent = 0, lost = 0;    // probes in this sample
};

struct LinkSeries {
  std::string target;  // numeric address
  std::string role;    // "gateway", "dns", "peer", "configured"; "earlier" if no longer probed
  std::vector<LinkPoint> points;  // oldest first
};

struct LinkReport {
  std::int64_t interval_s = 0;  // the monitor's round interval
  std::vector<LinkSeries> series;
};

struct Diagnostics {
  virtual ~Diagnostics() = default;
  // `host` as the owner typed it. REQUIRES: callbacks stay valid while the run lives.
  virtual core::Result<std::unique_ptr<TraceRun>, TraceRefusal> start_trace(
      std::string host, TraceCallbacks callbacks) = 0;
  // Every monitored target, then stored ones with samples since `since_ms`; at most
  // `max_points` per target (the newest) and `max_series` targets. Synchronous (short read).
  virtual core::Result<LinkReport, Problem> links(std::int64_t since_ms, std::size_t max_points,
                                                  std::size_t max_series) = 0;
};

}  // namespace postern::http
