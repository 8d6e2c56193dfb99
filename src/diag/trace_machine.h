// The traceroute state machine, sans-I/O: which probe to send when, what each ICMP answer
// means, when a hop is complete and when the trace ends. Time is an argument.
//
// Typical call sequence (diag::Tracer is the production driver; tests drive it by hand):
//   TraceMachine m(options, Family::ipv4);
//   loop {
//     while (auto p = m.next_probe(now)) send p (TTL p->ttl, UDP port p->port, p->payload_bytes)
//                                         -> on failure m.on_send_failed(p->id, errno, now);
//     for each error-queue entry / reply: m.on_reply({kind, port, from, mtu, at});
//     on the timer: m.on_tick(now);
//     for (auto& hop : m.take_completed()) report hop;   // streaming, in TTL order
//     if (m.done()) break; else arm a timer for *m.next_wakeup();
//   }
// Each hop sends `probes` probes, `probe_interval_us` apart, all in flight together; a hop
// is complete when each probe is answered or timed out. Probes are told apart by their
// UDP destination port (base_port + id % 4096), as classic traceroute does.
//
// Path MTU (tracepath's method): probes start at `initial_mtu` IP bytes with DF set (the
// glue uses IP_PMTUDISC_PROBE); a local EMSGSIZE, ICMP frag-needed (RFC 1191) or ICMPv6
// packet-too-big (RFC 8201) lowers the path MTU and the probes too big for it are re-sent
// at the new size, uncounted. Each hop reports the MTU known when it completed.
//
// Thread affinity: none; one owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "diag/hop_stats.h"
#include "diag/packet.h"

namespace postern::diag {

struct TraceOptions {
  int first_ttl = 1;
  int max_hops = 30;  // the last TTL tried
  int probes = 3;     // per hop
  Micros probe_timeout_us = 1'000'000;
  // Spacing of sends: routers rate-limit ICMP errors (Linux: a burst of 6, then one per
  // icmp_ratelimit ms per source), so a burst of probes would look like loss.
  Micros probe_interval_us = 20'000;
  int initial_mtu = 65535;          // IP bytes of the first probe; the path says smaller
  std::uint16_t base_port = 33434;  // traceroute's customary base
};

// first_ttl 1..255, max_hops first_ttl..255, probes 1..100, timeout 1 ms..60 s,
// interval 0..10 s, initial_mtu 68..65535. Errc::invalid, where names the field.
core::Result<void> check_options(const TraceOptions& options);

struct ProbeRequest {
  std::uint32_t id = 0;
  int ttl = 0;
  std::uint16_t port = 0;
  int packet_bytes = 0;   // IP datagram size
  int payload_bytes = 0;  // UDP payload to send
};

struct ProbeReply {
  ReplyKind kind = ReplyKind::other;
  std::uint16_t port = 0;  // the probe's destination port; 0 when unknown (local errors)
  std::string from;        // responder's numeric address
  int mtu = 0;             // for ReplyKind::mtu
  Micros at = 0;
};

class TraceMachine {
 public:
  // REQUIRES: check_options(options) succeeded.
  TraceMachine(const TraceOptions& options, Family family);

  // The probe due at `now`, marked in flight; nothing when none is due yet or done().
  std::optional<ProbeRequest> next_probe(Micros now);
  // The send of probe `id` failed with errno `err`. EMSGSIZE lowers the MTU to the next
  // RFC 1191 plateau (unless an error-queue entry already gave the exact value) and
  // re-sends; ENETUNREACH, EPERM, EACCES end the trace (failed); others count as lost.
  void on_send_failed(std::uint32_t id, int err, Micros now);
  void on_reply(const ProbeReply& reply);
  // Expires probes whose timeout passed.
  void on_tick(Micros now);

  // When the owner must call on_tick()/next_probe() again; nothing when done().
  std::optional<Micros> next_wakeup() const;
  bool done() const { return done_; }
  TraceOutcome outcome() const { return outcome_; }
  const std::string& error() const { return error_; }
  // Hops completed since the last call, in TTL order.
  std::vector<HopResult> take_completed();
  const std::vector<HopResult>& hops() const { return hops_; }
  int path_mtu() const { return path_mtu_; }
  int current_ttl() const { return ttl_; }

 private:
  enum class SlotState { waiting, in_flight, answered, lost };
  struct Slot {
    SlotState state = SlotState::waiting;
    std::uint32_t id = 0;
    std::uint16_t port = 0;
    int packet_bytes = 0;
    Micros sent_at = 0;
    Micros deadline = 0;
    Micros rtt = 0;
    std::string from;
  };

  Slot* in_flight_by_port(std::uint16_t port);
  void lower_mtu(int mtu);
  void finish_hop_if_complete();
  void finish(TraceOutcome outcome, std::string error = {});
  void start_hop(int ttl);

  TraceOptions options_;
  Family family_;
  int ttl_ = 0;
  std::vector<Slot> slots_;
  bool hop_destination_ = false;
  bool hop_unreachable_ = false;
  std::optional<Micros> last_send_;
  int path_mtu_;
  std::uint32_t next_id_ = 0;
  bool done_ = false;
  TraceOutcome outcome_ = TraceOutcome::failed;
  std::string error_;
  std::vector<HopResult> hops_;
  std::size_t reported_ = 0;  // hops_ handed out by take_completed()
};

}  // namespace postern::diag
