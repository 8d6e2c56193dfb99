// Api: link diagnostics. Traces started from the page and polled by id (the page asks
// every 500 ms), and the link monitor's RTT/loss series for the chart.
//
// Polling rather than a chunked stream: Respond carries one whole Response, a stream
// would need a second response path through the server and hold a connection per
// viewer, and a poll survives a dropped Wi-Fi connection; a trace is at most ~30 hops.
#include <algorithm>
#include <charconv>

#include "core/log.h"
#include "http/api.h"
#include "http/api_json.h"

namespace postern::http {
namespace {

constexpr std::string_view kTracePrefix = "/api/trace/";

Json hop_json(const HopView& hop) {
  return Json{{"ttl", hop.ttl},
              {"address", hop.address},
              {"also", hop.also},
              {"sent", hop.sent},
              {"received", hop.received},
              {"loss", hop.loss_percent},
              {"rtt_min_us", hop.rtt_min_us},
              {"rtt_avg_us", hop.rtt_avg_us},
              {"rtt_max_us", hop.rtt_max_us},
              {"mtu", hop.mtu},
              {"destination", hop.destination},
              {"unreachable", hop.unreachable}};
}

Json trace_json(const TraceRecord& record) {
  Json hops = Json::array();
  for (const HopView& hop : record.hops) hops.push_back(hop_json(hop));
  Json body{{"id", record.id},
            {"target", record.target},
            {"started", core::unix_seconds(record.started)},
            {"done", record.done},
            {"hops", hops}};
  if (record.done) {
    body["outcome"] = record.end.outcome;
    body["message"] = record.end.message;
    body["address"] = record.end.address;
    body["mx"] = record.end.mx;
    body["path_mtu"] = record.end.path_mtu;
  }
  return body;
}

// The value of `key` in an application/x-www-form-urlencoded query, undecoded.
std::optional<std::string_view> query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.size() > key.size() && pair.substr(0, key.size()) == key && pair[key.size()] == '=')
      return pair.substr(key.size() + 1);
  }
  return std::nullopt;
}

}  // namespace

void Api::on_start_trace(Call& call) {
  if (diagnostics_ == nullptr)
    return call.respond(json_error(503, "Link diagnostics are not running on this appliance."));
  auto body = parse_object(call.request.body);
  if (!body) return call.respond(json_error(400, "The request body is not a JSON object."));
  auto host = string_field(*body, "host");
  if (!host || host->empty())
    return call.respond(json_error(400, "Enter a host name or IP address, e.g. example.org."));
  if (host->size() > options_.max_host_bytes)
    return call.respond(json_error(400, "That name is too long: at most 253 characters."));
  const core::TimePoint now = clock_.now();
  traces_.prune(now);
  if (traces_.full()) {
    Response r = json_error(429, "Traces are already running; wait for one to finish.");
    r.set("Retry-After", "5");
    return call.respond(std::move(r));
  }
  const std::string id = backend_.random_token();
  traces_.add(id, *host, now);
  TraceCallbacks callbacks{[this, id](HopView hop) { traces_.add_hop(id, std::move(hop)); },
                           [this, id](TraceEnd end) {
                             POSTERN_LOG_INFO("http event=trace-done id=%s outcome=%s", id.c_str(),
                                              core::printable(end.outcome).c_str());
                             traces_.finish(id, std::move(end), clock_.now());
                           }};
  auto run = diagnostics_->start_trace(*host, std::move(callbacks));
  if (!run) {
    traces_.remove(id);
    POSTERN_LOG_INFO("http event=trace-refused peer=%s host=%s", call.context.peer.c_str(),
                     core::printable(*host, 80).c_str());
    return call.respond(json_error(run.error().bad_input ? 400 : 503, run.error().message));
  }
  traces_.attach(id, std::move(*run));
  POSTERN_LOG_INFO("http event=trace-start peer=%s id=%s host=%s", call.context.peer.c_str(),
                   id.c_str(), core::printable(*host, 80).c_str());
  Response r = json_response(202, Json{{"id", id}});
  r.set("Location", std::string(kTracePrefix) + id);
  call.respond(std::move(r));
}

void Api::on_trace(Call& call) {
  const std::string id = call.request.path.substr(kTracePrefix.size());
  traces_.prune(clock_.now());
  const TraceRecord* record = traces_.find(id);
  if (record == nullptr) {
    return call.respond(json_error(404, "No such trace: results are kept for " +
                                            std::to_string(options_.traces.keep.count() / 60) +
                                            " minutes; start it again."));
  }
  call.respond(json_response(200, trace_json(*record)));
}

void Api::on_links(Call& call) {
  if (diagnostics_ == nullptr)
    return call.respond(json_error(503, "Link diagnostics are not running on this appliance."));
  const std::int64_t now = core::unix_seconds(clock_.now());
  const std::int64_t window =
      std::chrono::duration_cast<std::chrono::seconds>(options_.link_window).count();
  std::int64_t since = now - 3600;  // the chart's default: the last hour
  if (auto text = query_value(call.request.query, "since")) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 0)
      return call.respond(json_error(400, "since: give unix seconds, e.g. since=1700000000."));
    since = value;
  }
  since = std::max(since, now - window);
  auto report = diagnostics_->links(since * 1000, options_.link_points * 4, options_.link_series);
  if (!report) return call.respond(json_error(500, report.error()));
  Json targets = Json::array();
  for (const LinkSeries& series : report->series) {
    Json samples = Json::array();
    // [time ms, rtt us (-1: all lost), sent, lost]: compact, a day of them is small.
    for (const LinkPoint& p : downsample(series.points, options_.link_points))
      samples.push_back(Json::array({p.time_ms, p.rtt_us, p.sent, p.lost}));
    targets.push_back({{"target", series.target}, {"role", series.role}, {"samples", samples}});
  }
  call.respond(json_response(200, Json{{"now", now},
                                       {"since", since},
                                       {"interval_s", report->interval_s},
                                       {"targets", targets}}));
}

}  // namespace postern::http
