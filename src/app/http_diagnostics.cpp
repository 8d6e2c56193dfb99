// AppDiagnostics: trace runs and link series from LinkService, in the page's shapes.
#include "app/http_diagnostics.h"

#include <memory>

namespace postern::app {

core::Result<std::unique_ptr<http::TraceRun>, http::TraceRefusal> AppDiagnostics::start_trace(
    std::string host, http::TraceCallbacks callbacks) {
  auto run = links_.trace(
      host,
      [on_hop = callbacks.on_hop](const diag::HopResult& h) {
        on_hop({h.ttl, h.address, h.also, h.sent, h.received, h.loss_percent(), h.rtt_min_us,
                h.rtt_avg_us, h.rtt_max_us, h.mtu, h.destination, h.unreachable});
      },
      [on_done = callbacks.on_done](const diag::TraceResult& r, const std::string& message) {
        on_done({diag::to_string(r.outcome), message, r.address, r.mx, r.path_mtu});
      });
  if (!run) return http::TraceRefusal{run.error().bad_input, run.error().message};
  struct Held final : http::TraceRun {
    explicit Held(std::unique_ptr<LinkService::Run> r) : run(std::move(r)) {}
    std::unique_ptr<LinkService::Run> run;
  };
  return std::unique_ptr<http::TraceRun>(new Held(std::move(*run)));
}

core::Result<http::LinkReport, http::Problem> AppDiagnostics::links(std::int64_t since_ms,
                                                                    std::size_t max_points,
                                                                    std::size_t max_series) {
  auto series = links_.links(since_ms, max_points, max_series);
  if (!series) return series.error();
  http::LinkReport report;
  report.interval_s = links_.interval().count();
  for (const auto& s : *series) {
    http::LinkSeries out{s.target, s.role, {}};
    for (const auto& p : s.samples) {
      const bool none = p.lost >= p.sent;  // rtt 0 is stored for "none answered"
      out.points.push_back(
          {p.time_ms, none ? -1 : static_cast<std::int64_t>(p.rtt_us), p.sent, p.lost});
    }
    report.series.push_back(std::move(out));
  }
  return report;
}

}  // namespace postern::app
