// AutoTracer: rate limiting per address and per hour, and the Tracer-backed starter.
#include "diag/auto_tracer.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "diag/target.h"
#include "diag/tracer.h"

namespace postern::diag {

bool AutoTraceLimiter::allow(const std::string& address, core::TimePoint now) {
  while (!recent_.empty() && now - recent_.front() >= std::chrono::hours(1)) recent_.pop_front();
  auto it = last_.find(address);
  if (it != last_.end() && now - it->second < policy_.per_address) return false;
  if (recent_.size() >= policy_.per_hour) return false;
  if (it == last_.end() && last_.size() >= policy_.max_addresses) {
    // Forget the address traced longest ago: after 10 minutes it could trace again anyway.
    auto oldest = last_.begin();
    for (auto i = last_.begin(); i != last_.end(); ++i) {
      if (i->second < oldest->second) oldest = i;
    }
    last_.erase(oldest);
  }
  last_[address] = now;
  recent_.push_back(now);
  return true;
}

UvTraceStarter::~UvTraceStarter() = default;

void UvTraceStarter::start(const std::string& address, std::function<void(TraceResult)> done) {
  TraceResult failed;
  failed.target = address;
  failed.address = address;
  sockaddr_storage ss{};
  auto& in = reinterpret_cast<sockaddr_in&>(ss);
  auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
  if (::inet_pton(AF_INET, address.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
  } else if (::inet_pton(AF_INET6, address.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
  } else {
    failed.error = "not-numeric";
    done(std::move(failed));
    return;
  }
  const std::uint64_t id = next_++;
  TraceResult header;
  header.target = address;
  POSTERN_LOG_INFO("diag event=probe target=%s by=auto-trace", address.c_str());
  auto tracer = Tracer::start(
      loop_, ss, options_, nullptr,
      [this, id, done = std::move(done)](TraceResult result) {
        auto finished = std::move(running_[id]);  // dies after done()
        running_.erase(id);
        done(std::move(result));
      },
      header);
  if (!tracer) {
    failed.error = "socket";
    done(std::move(failed));
    return;
  }
  running_[id] = std::move(*tracer);
}

std::string auto_trace_event_text(const std::string& peer, const TraceResult& result) {
  std::string text = "peer=" + peer + " hops=" + std::to_string(result.hops.size()) +
                     " reached=" + (result.outcome == TraceOutcome::reached ? "yes" : "no");
  if (result.hops.empty()) {
    text += " loss=100 rtt_ms=-";
  } else {
    const HopResult& last = result.hops.back();
    text += " loss=" + std::to_string(last.loss_percent());
    if (last.received > 0) {
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.1f", static_cast<double>(last.rtt_avg_us) / 1000.0);
      text += " rtt_ms=" + std::string(ms);
    } else {
      text += " rtt_ms=-";
    }
  }
  if (!result.error.empty()) text += " error=" + result.error;
  std::string path;
  for (const HopResult& hop : result.hops) {
    if (!path.empty()) path += ',';
    path += hop.address.empty() ? "*" : hop.address;
  }
  if (!path.empty()) text += " path=" + path;
  return text;
}

AutoTracer::AutoTracer(TraceStarter& starter, const core::Clock& clock, AutoTracePolicy policy,
                       ResultFn on_result)
    : starter_(starter),
      clock_(clock),
      limiter_(policy),
      skip_loopback_(policy.skip_loopback),
      on_result_(std::move(on_result)) {}

bool AutoTracer::on_broken_session(std::string_view peer_address) {
  std::string address(peer_address);
  // A dual-stack listener shows IPv4 clients as ::ffff:a.b.c.d; their path is IPv4's.
  if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos)
    address.erase(0, 7);
  auto target = validate_target(address);
  if (!target || target->kind == TargetKind::host_name) return false;
  if (skip_loopback_ && is_loopback(target->text)) {
    POSTERN_LOG_DEBUG("diag auto-trace event=skipped peer=%s reason=loopback",
                      target->text.c_str());
    return false;
  }
  if (in_flight_.count(target->text)) return false;
  if (!limiter_.allow(target->text, clock_.now())) {
    POSTERN_LOG_DEBUG("diag auto-trace event=rate-limited peer=%s", target->text.c_str());
    return false;
  }
  in_flight_[target->text] = true;
  POSTERN_LOG_INFO("diag auto-trace event=start peer=%s", target->text.c_str());
  starter_.start(target->text, [this, peer = target->text](TraceResult result) {
    in_flight_.erase(peer);
    if (on_result_) on_result_(peer, result);
  });
  return true;
}

}  // namespace postern::diag
