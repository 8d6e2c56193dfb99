// AutoTracer: a trace toward a peer whose SMTP/POP3 session broke off, rate-limited, with
// the result handed to the owner (app attaches it to the session's event).
//
// Loop thread only. Typical call sequence:
//   UvTraceStarter starter(loop, options);
//   AutoTracer auto_tracer(starter, clock, policy, [](peer, result) { record it });
//   auto_tracer.on_broken_session("198.51.100.7");   // maybe starts a trace
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "diag/hop_stats.h"
#include "diag/trace_machine.h"
#include "diag/tracer.h"

namespace postern::diag {

struct AutoTracePolicy {
  core::Seconds per_address{600};    // one trace per address per 10 minutes at most
  std::size_t per_hour = 6;          // and at most this many in any sliding hour
  std::size_t max_addresses = 1024;  // remembered addresses; the oldest are forgotten
  // Loopback peers (127.0.0.0/8, ::1) have no path to learn about, and e2e tests break
  // sessions on loopback all the time: app's LinkService sets this. Off by default so
  // the tracer itself can be tested on loopback.
  bool skip_loopback = false;
};

// Pure rate limiter; Clock-driven so tests advance a ManualClock.
class AutoTraceLimiter {
 public:
  explicit AutoTraceLimiter(AutoTracePolicy policy) : policy_(policy) {}
  // True (and counted) when a trace toward `address` may start at `now`.
  bool allow(const std::string& address, core::TimePoint now);

 private:
  AutoTracePolicy policy_;
  std::unordered_map<std::string, core::TimePoint> last_;
  std::deque<core::TimePoint> recent_;  // starts within the last hour
};

// Starts one trace toward a numeric address; `done` runs once on the loop thread.
struct TraceStarter {
  virtual ~TraceStarter() = default;
  virtual void start(const std::string& address, std::function<void(TraceResult)> done) = 0;
};

// The production starter: diag::Tracer on `loop`, owning the traces in flight.
class UvTraceStarter final : public TraceStarter {
 public:
  // REQUIRES: `loop` outlives this. Destroying it cancels traces in flight (no callbacks).
  UvTraceStarter(uv_loop_t* loop, TraceOptions options) : loop_(loop), options_(options) {}
  ~UvTraceStarter() override;
  void start(const std::string& address, std::function<void(TraceResult)> done) override;
  std::size_t running() const { return running_.size(); }

 private:
  uv_loop_t* loop_;
  TraceOptions options_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, std::unique_ptr<Tracer>> running_;
};

// The text of the "auto-trace" event that records one result, key=value as every event:
//   peer=<addr> hops=<n> reached=<yes|no> loss=<%> rtt_ms=<r> path=<hop>,<hop>,...
// loss and rtt_ms are the last hop's (the destination when reached; "-" when it did not
// answer); path lists each hop's first responder, "*" for silence. Addresses are numeric.
std::string auto_trace_event_text(const std::string& peer, const TraceResult& result);

class AutoTracer {
 public:
  using ResultFn = std::function<void(const std::string& peer, const TraceResult& result)>;
  // Borrows `starter` and `clock`; both outlive it.
  AutoTracer(TraceStarter& starter, const core::Clock& clock, AutoTracePolicy policy,
             ResultFn on_result);

  // `peer_address` is the session's numeric peer (IPv4-mapped IPv6 is traced as IPv4).
  // Returns true when a trace started; false when rate-limited, already running for that
  // address, loopback (when policy.skip_loopback), or not a numeric address (a peer
  // never names a host to resolve).
  bool on_broken_session(std::string_view peer_address);
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  TraceStarter& starter_;
  const core::Clock& clock_;
  AutoTraceLimiter limiter_;
  bool skip_loopback_;
  ResultFn on_result_;
  std::map<std::string, bool> in_flight_;
};

}  // namespace postern::diag
