// LinkService: the monitor's samples into the store, auto-traces into the event log, and
// the page's traces through the resolver.
#include "app/link_service.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <limits>

#include "core/log.h"
#include "diag/target.h"
#include "diag/tracer.h"
#include "store/events.h"

namespace postern::app {

// A page trace: the Tracer once resolved; callbacks go through a weak pointer, so a
// cancelled Run (or a stopped service) hears nothing more.
struct LinkService::Run::State {
  HopFn on_hop;
  DoneFn on_done;
  std::unique_ptr<diag::Tracer> tracer;
  bool cancelled = false;
};

LinkService::Run::~Run() {
  state_->cancelled = true;
  state_->tracer.reset();
}

namespace {

std::int64_t unix_ms(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string strip_mapped(std::string_view peer) {
  // A dual-stack listener shows IPv4 clients as ::ffff:a.b.c.d; their path is IPv4's.
  if (peer.rfind("::ffff:", 0) == 0 && peer.find('.') != std::string_view::npos)
    peer.remove_prefix(7);
  return std::string(peer);
}

diag::TraceOptions page_trace_options() {
  diag::TraceOptions options;
  options.max_hops = 30;
  options.probes = 3;
  return options;
}

}  // namespace

std::vector<diag::MonitorTarget> monitor_targets(const Settings& settings) {
  // The host board is loopback only: it probes nothing the owner did not name.
  if (settings.link_monitor_targets.empty())
    return settings.link_auto_probes ? diag::default_targets() : std::vector<diag::MonitorTarget>{};
  std::vector<diag::MonitorTarget> out;
  for (const auto& address : settings.link_monitor_targets) out.push_back({address, "configured"});
  return out;
}

std::string describe_trace_failure(const core::Error& error) {
  const std::string_view where = error.where;
  if (where == "resolve-nxdomain") return "No such host name: check the spelling.";
  if (where == "resolve-no-address") return "That name has no IPv4 or IPv6 address.";
  if (where == "null-mx")
    return "That domain says it accepts no mail (null MX, RFC 7505), so there is no mail path "
           "to trace.";
  if (where == "trace-socket")
    return "The probe socket could not be opened (" + std::string(core::to_string(error.code)) +
           "); the system may forbid UDP probes.";
  return "The name could not be resolved (" + diag::Resolver::describe(error) +
         "); check the DNS server.";
}

LinkService::LinkService(LinkServiceDeps deps) : deps_(std::move(deps)) {}

LinkService::~LinkService() {
  stop();
}

core::Result<std::unique_ptr<LinkService>, std::string> LinkService::start(
    LinkServiceDeps deps, const Settings& settings) {
  std::unique_ptr<LinkService> self(new LinkService(std::move(deps)));
  auto resolver = diag::Resolver::create(self->deps_.loop);
  if (resolver) {
    self->resolver_ = std::move(*resolver);
  } else {
    // Traces of IP literals still work without c-ares; names get a clear refusal.
    POSTERN_LOG_WARN("diag event=resolver-unavailable reason=%s",
                     diag::Resolver::describe(resolver.error()).c_str());
  }
  self->starter_ = std::make_unique<diag::UvTraceStarter>(self->deps_.loop, page_trace_options());
  LinkService* raw = self.get();
  diag::AutoTracePolicy policy;
  policy.skip_loopback = true;
  self->auto_tracer_ = std::make_unique<diag::AutoTracer>(
      *self->starter_, self->deps_.clock, policy,
      [raw](const std::string& peer, const diag::TraceResult& result) {
        raw->record_auto_trace(peer, result);
      });
  if (auto started = self->start_monitor(settings); !started) return started.error();
  return self;
}

core::Result<void, std::string> LinkService::start_monitor(const Settings& settings) {
  monitor_.reset();
  flush_samples();
  targets_ = monitor_targets(settings);
  auto_probes_ = settings.link_auto_probes;
  interval_ = settings.link_monitor_interval;
  diag::MonitorOptions options;
  options.interval = std::chrono::duration_cast<std::chrono::milliseconds>(interval_);
  // A round's probes end before the next round starts.
  options.probe_timeout_us =
      std::min<diag::Micros>(2'000'000, std::chrono::microseconds(interval_).count() / 2);
  auto monitor =
      diag::LinkMonitor::start(deps_.loop, deps_.clock, options, targets_,
                               [this](const diag::MonitorSample& sample) { on_sample(sample); });
  if (!monitor) {
    return std::string("link monitor: ") + monitor.error().where + " (check link_monitor_" +
           "interval_s)";
  }
  monitor_ = std::move(*monitor);
  std::string list;
  for (const auto& t : targets_) list += (list.empty() ? "" : ",") + t.address;
  POSTERN_LOG_INFO("diag event=monitor-started targets=%s interval_s=%lld",
                   list.empty() ? "-" : list.c_str(), static_cast<long long>(interval_.count()));
  return {};
}

void LinkService::reconfigure(const Settings& settings) {
  if (stopped_) return;
  // Unchanged settings keep the running monitor, its peers and its round timing.
  const auto wanted = monitor_targets(settings);
  const bool same_targets =
      wanted.size() == targets_.size() &&
      std::equal(wanted.begin(), wanted.end(), targets_.begin(),
                 [](const auto& a, const auto& b) { return a.address == b.address; });
  if (same_targets && settings.link_monitor_interval == interval_) return;
  if (auto restarted = start_monitor(settings); !restarted)
    POSTERN_LOG_WARN("diag event=monitor-not-restarted reason=%s", restarted.error().c_str());
}

void LinkService::stop() {
  if (stopped_) return;
  stopped_ = true;
  monitor_.reset();  // rounds in flight end without samples
  flush_samples();
  auto_tracer_.reset();
  starter_.reset();  // auto-traces in flight are cancelled
  for (auto& weak : page_traces_) {
    if (auto state = weak.lock()) {
      state->cancelled = true;
      state->tracer.reset();
    }
  }
  page_traces_.clear();
  resolver_.reset();  // pending lookups end without their callback
}

void LinkService::on_broken_session(std::string_view peer_address) {
  if (stopped_ || !auto_probes_) return;
  const std::string peer = strip_mapped(peer_address);
  // Loopback: nothing to learn about a path of zero hops (and e2e tests break sessions
  // on loopback all day). The auto-tracer decides the same (policy.skip_loopback).
  if (diag::is_loopback(peer)) return;
  if (monitor_) monitor_->add_peer(peer);
  auto_tracer_->on_broken_session(peer);
}

void LinkService::on_sample(const diag::MonitorSample& sample) {
  // Samples of one round share its start time: a new time means the last round is over.
  if (!pending_.empty() && pending_.front().time != sample.time) flush_samples();
  pending_.push_back(sample);
  if (monitor_ && pending_.size() >= monitor_->targets().size()) flush_samples();
}

void LinkService::flush_samples() {
  std::vector<diag::MonitorSample> samples;
  for (auto& s : pending_) {
    if (s.sent > 0) samples.push_back(std::move(s));  // a probe that never went out
  }
  pending_.clear();
  if (samples.empty()) return;
  write(
      [samples = std::move(samples)](store::WriteTxn& txn) -> core::Result<void> {
        for (const auto& s : samples) {
          const auto rtt = static_cast<std::uint32_t>(
              std::clamp<diag::Micros>(s.rtt_us, 0, std::numeric_limits<std::uint32_t>::max()));
          const auto sent = static_cast<std::uint8_t>(std::clamp(s.sent, 1, 255));
          const auto lost =
              static_cast<std::uint8_t>(std::clamp(s.lost, 0, static_cast<int>(sent)));
          auto r = store::append_link_sample(txn, s.target, unix_ms(s.time), rtt, lost, sent);
          if (!r) return r;
        }
        return {};
      },
      "link-samples");
}

void LinkService::record_auto_trace(const std::string& peer, const diag::TraceResult& result) {
  const std::string text = diag::auto_trace_event_text(peer, result);
  POSTERN_LOG_INFO("diag auto-trace event=done %s", core::printable(text, 600).c_str());
  const std::int64_t time = core::unix_seconds(deps_.clock.now());
  write([text = core::printable(text, 2000),
         time](store::WriteTxn& txn) { return store::append_event(txn, "auto-trace", text, time); },
        "auto-trace-event");
}

// One Writer job. The completion captures no `this`: the service may be gone by then.
void LinkService::write(std::function<core::Result<void>(store::WriteTxn&)> apply,
                        const char* what) {
  deps_.writer.submit<bool>(
      [apply = std::move(apply)](store::WriteTxn& txn) -> core::Result<bool> {
        if (auto r = apply(txn); !r) return r.error();
        return true;
      },
      [what, on_fatal = deps_.on_fatal](core::Result<bool> r) {
        if (r) return;
        POSTERN_LOG_WARN("diag event=save-failed what=%s reason=%s where=%s", what,
                         core::to_string(r.error().code), r.error().where);
        if (r.error().code == core::Errc::fatal && on_fatal) on_fatal(r.error());
      });
}

core::Result<std::unique_ptr<LinkService::Run>, LinkService::Refusal> LinkService::trace(
    std::string_view host, HopFn on_hop, DoneFn on_done) {
  auto target = diag::validate_target(host);
  if (!target) return Refusal{true, diag::describe_target_error(target.error())};
  if (stopped_) return Refusal{false, "The appliance is shutting down."};
  if (!resolver_ && target->kind == diag::TargetKind::host_name)
    return Refusal{false, "The DNS resolver could not start; trace an IP address instead."};
  auto state = std::make_shared<Run::State>();
  state->on_hop = std::move(on_hop);
  state->on_done = std::move(on_done);
  std::erase_if(page_traces_, [](const auto& weak) { return weak.expired(); });
  page_traces_.push_back(state);
  std::weak_ptr<Run::State> weak = state;
  auto fail = [weak, name = target->text](const core::Error& error) {
    auto s = weak.lock();
    if (!s || s->cancelled) return;
    diag::TraceResult result;
    result.target = name;
    result.outcome = diag::TraceOutcome::failed;
    result.error = error.where;
    s->on_done(result, describe_trace_failure(error));
  };
  auto resolved = [this, weak, fail, name = target->text](core::Result<diag::Resolution> r) {
    auto s = weak.lock();
    if (!s || s->cancelled) return;
    if (!r) return fail(r.error());
    POSTERN_LOG_INFO("diag event=probe target=%s by=page-trace", r->numeric.c_str());
    diag::TraceResult header;
    header.target = name;
    header.mx = r->mx;
    auto tracer = diag::Tracer::start(
        deps_.loop, r->address, page_trace_options(),
        [weak](const diag::HopResult& hop) {
          if (auto st = weak.lock(); st && !st->cancelled) st->on_hop(hop);
        },
        [weak](diag::TraceResult result) {
          auto st = weak.lock();
          if (!st || st->cancelled) return;
          std::string message;
          if (result.outcome == diag::TraceOutcome::failed)
            message = "The probes could not be sent (" + result.error + ").";
          auto finished = std::move(st->tracer);  // dies when this callback returns
          st->on_done(result, message);
        },
        header);
    if (!tracer) return fail(tracer.error());
    s->tracer = std::move(*tracer);
  };
  if (resolver_) {
    resolver_->resolve(*target, diag::AddressFamily::any, resolved);
  } else {
    // A literal without c-ares: what Resolver::resolve does synchronously for one.
    diag::Resolution literal;
    literal.numeric = target->text;
    auto& in = reinterpret_cast<sockaddr_in&>(literal.address);
    auto& in6 = reinterpret_cast<sockaddr_in6&>(literal.address);
    if (::inet_pton(AF_INET, target->text.c_str(), &in.sin_addr) == 1) {
      in.sin_family = AF_INET;
    } else if (::inet_pton(AF_INET6, target->text.c_str(), &in6.sin6_addr) == 1) {
      in6.sin6_family = AF_INET6;
    }
    resolved(literal);
  }
  return std::make_unique<Run>(std::move(state));
}

core::Result<std::vector<LinkSeriesView>, std::string> LinkService::links(std::int64_t since_ms,
                                                                          std::size_t max_points,
                                                                          std::size_t max_series) {
  std::vector<LinkSeriesView> out;
  std::vector<diag::MonitorTarget> live = monitor_ ? monitor_->targets() : targets_;
  for (const auto& t : live) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& s) { return s.target == t.address; }))
      out.push_back({t.address, t.role, {}});
  }
  auto txn = deps_.env.begin_read();
  if (!txn) return std::string("The link samples could not be read: ") + txn.error().where;
  auto stored = store::link_targets(*txn);
  if (!stored) return std::string("The link samples could not be read: ") + stored.error().where;
  for (const auto& name : *stored) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& s) { return s.target == name; }))
      out.push_back({name, "earlier", {}});
  }
  std::vector<LinkSeriesView> shown;
  for (auto& series : out) {
    if (shown.size() >= max_series) break;
    auto samples = store::query_link_samples(*txn, series.target, since_ms, max_points);
    if (!samples)
      return std::string("The link samples could not be read: ") + samples.error().where;
    // An earlier target is shown only while it has samples in the window.
    if (series.role == "earlier" && samples->empty()) continue;
    series.samples.assign(samples->rbegin(), samples->rend());  // oldest first
    shown.push_back(std::move(series));
  }
  return shown;
}

}  // namespace postern::app
