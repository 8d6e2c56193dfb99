// The results of a trace: per-hop statistics (address, RTT min/avg/max, loss, MTU) in a
// plain, JSON-friendly shape for the CLI, the status page and the event log.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace postern::diag {

// Monotonic microseconds (uv_hrtime / 1000 in production, any counter in tests).
using Micros = std::int64_t;

struct HopResult {
  int ttl = 0;
  std::string address;            // first responder; empty when nothing answered ("*")
  std::vector<std::string> also;  // other responders at this TTL (ECMP, load balancers)
  int sent = 0;                   // probes counted (MTU-rejected ones are re-sent, not counted)
  int received = 0;               // probes answered
  std::vector<Micros> rtts_us;    // one per counted probe, in send order; -1 = lost
  Micros rtt_min_us = 0;          // min/avg/max over answered probes; 0 when none
  Micros rtt_avg_us = 0;
  Micros rtt_max_us = 0;
  int mtu = 0;               // path MTU (IP bytes) known when the hop completed; 0 unknown
  bool destination = false;  // the target itself answered at this TTL
  bool unreachable = false;  // this hop said net/host unreachable or prohibited

  int lost() const { return sent - received; }
  // Loss in whole percent, rounded to nearest; 0 when nothing was sent.
  int loss_percent() const { return sent == 0 ? 0 : (lost() * 100 + sent / 2) / sent; }
};

// Accumulates one hop's probes. Not thread-safe; owned by the trace state machine.
class HopStats {
 public:
  explicit HopStats(int ttl) { hop_.ttl = ttl; }
  void answered(Micros rtt_us, const std::string& from);
  void lost();
  void set_mtu(int mtu) { hop_.mtu = mtu; }
  void mark_destination() { hop_.destination = true; }
  void mark_unreachable() { hop_.unreachable = true; }
  const HopResult& result() const { return hop_; }

 private:
  HopResult hop_;
  Micros rtt_sum_ = 0;
};

enum class TraceOutcome {
  reached,      // the destination answered (port unreachable or a UDP reply)
  max_hops,     // the last TTL completed without reaching it
  unreachable,  // a hop answered net/host unreachable or administratively prohibited
  failed,       // a local error (socket, resolution); see TraceResult::error
  cancelled,    // the owner stopped it
};
const char* to_string(TraceOutcome outcome) noexcept;

struct TraceResult {
  std::string target;   // as the user gave it (validated)
  std::string address;  // the numeric address traced
  std::string mx;       // the MX host chosen for a mail domain; empty otherwise
  std::vector<HopResult> hops;
  TraceOutcome outcome = TraceOutcome::failed;
  std::string error;  // for failed: a short reason ("resolve-nxdomain", "socket-eperm", ...)
  int path_mtu = 0;   // smallest MTU found; 0 unknown
};

// One JSON object, keys and units as named here (rtt in microseconds, loss in percent):
// {"target":"..","address":"..","mx":"..","outcome":"reached","path_mtu":1500,"error":"",
//  "hops":[{"ttl":1,"address":"..","also":[],"sent":3,"received":3,"loss":0,
//           "rtt_min_us":..,"rtt_avg_us":..,"rtt_max_us":..,"mtu":1500,"destination":false,
//           "unreachable":false}]}
// Strings are JSON-escaped (control characters as \u00XX), so a PTR or peer text is safe.
std::string to_json(const HopResult& hop);
std::string to_json(const TraceResult& result);

}  // namespace postern::diag
