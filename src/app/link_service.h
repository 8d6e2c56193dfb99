// app::LinkService: link diagnostics on the serve loop. It owns the link monitor (samples
// saved in the store's links table, one Writer job per round), the auto-tracer (a trace
// toward a peer whose SMTP/POP3 session broke off, recorded as an "auto-trace" event) and
// the resolver behind the status page's traces.
//
// Loop thread only. Typical call sequence (serve.cpp):
//   auto links = LinkService::start(deps, settings);     // before the services start
//   context.on_broken_session = [&](std::string peer) { links->on_broken_session(peer); };
//   ... the page: links->trace(host, on_hop, on_done); links->links(since, n, m) ...
//   SIGHUP: links->reconfigure(settings);   stop: links->stop();   then destroy it
// before the Writer (pending Writer completions do not point back into it).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/settings.h"
#include "core/clock.h"
#include "core/result.h"
#include "diag/auto_tracer.h"
#include "diag/link_monitor.h"
#include "diag/resolver.h"
#include "store/env.h"
#include "store/links.h"
#include "store/writer.h"

namespace postern::app {

struct LinkServiceDeps {
  uv_loop_t* loop;
  store::Env& env;
  store::Writer& writer;
  const core::Clock& clock;
  std::function<void(const core::Error&)> on_fatal;  // the writer latched a fatal error
};

struct LinkSeriesView {
  std::string target;
  std::string role;  // "gateway", "dns", "peer", "configured"; "earlier" when no longer probed
  std::vector<store::LinkSample> samples;  // oldest first
};

// The targets the monitor probes: the configured ones, else (link_auto_probes, device
// boards) the gateway and DNS server, else none.
std::vector<diag::MonitorTarget> monitor_targets(const Settings& settings);

// A trace's failure (resolution, socket) in the owner's words.
std::string describe_trace_failure(const core::Error& error);

class LinkService {
 public:
  using HopFn = std::function<void(const diag::HopResult& hop)>;
  // `message`: a sentence when the trace failed (resolution, socket); else empty.
  using DoneFn = std::function<void(const diag::TraceResult& result, const std::string& message)>;

  // A page trace in flight; destroying it cancels it (no callback afterwards).
  class Run {
   public:
    struct State;
    explicit Run(std::shared_ptr<State> state) : state_(std::move(state)) {}
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

   private:
    std::shared_ptr<State> state_;
  };

  struct Refusal {
    bool bad_input = true;  // false: the appliance cannot trace now
    std::string message;
  };

  // Starts the monitor's first round at once. Errors: a sentence (bad monitor options).
  // REQUIRES: everything in `deps` outlives the service.
  static core::Result<std::unique_ptr<LinkService>, std::string> start(LinkServiceDeps deps,
                                                                       const Settings& settings);
  ~LinkService();
  LinkService(const LinkService&) = delete;
  LinkService& operator=(const LinkService&) = delete;

  // From the SMTP/POP3 glue: DATA broken off, or a POP3 session ended without QUIT.
  // Probes the peer for a while and traces it once (rate-limited); loopback is skipped, and
  // everything when settings.link_auto_probes is off (the host board).
  void on_broken_session(std::string_view peer_address);

  // Validates `host` (diag::validate_target), resolves it (MX first) and traces it.
  // on_hop per completed hop; on_done once (maybe before trace() returns, for a literal
  // whose socket cannot be opened). Refusals call neither.
  core::Result<std::unique_ptr<Run>, Refusal> trace(std::string_view host, HopFn on_hop,
                                                    DoneFn on_done);

  // Monitored targets first, then stored ones with samples since `since_ms`.
  core::Result<std::vector<LinkSeriesView>, std::string> links(std::int64_t since_ms,
                                                               std::size_t max_points,
                                                               std::size_t max_series);
  std::chrono::seconds interval() const { return interval_; }

  // New targets or interval: the monitor restarts with them.
  void reconfigure(const Settings& settings);
  // Cancels the monitor, page traces and auto-traces and saves buffered samples, so the
  // loop can end. Later calls do nothing but answer refusals.
  void stop();

 private:
  explicit LinkService(LinkServiceDeps deps);
  core::Result<void, std::string> start_monitor(const Settings& settings);
  void on_sample(const diag::MonitorSample& sample);
  void flush_samples();
  void record_auto_trace(const std::string& peer, const diag::TraceResult& result);
  void write(std::function<core::Result<void>(store::WriteTxn&)> apply, const char* what);

  LinkServiceDeps deps_;
  std::vector<diag::MonitorTarget> targets_;
  std::chrono::seconds interval_{60};
  bool auto_probes_ = true;
  bool stopped_ = false;
  std::vector<diag::MonitorSample> pending_;  // this round's samples, saved together
  std::unique_ptr<diag::Resolver> resolver_;  // null when c-ares could not start
  std::vector<std::weak_ptr<Run::State>> page_traces_;
  // Members below point into those above: destroyed first.
  std::unique_ptr<diag::UvTraceStarter> starter_;
  std::unique_ptr<diag::AutoTracer> auto_tracer_;
  std::unique_ptr<diag::LinkMonitor> monitor_;
};

}  // namespace postern::app
