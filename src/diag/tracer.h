// diag::Tracer: one traceroute on the libuv loop, UDP probes with increasing TTL whose ICMP
// answers are read from the socket's error queue (IP_RECVERR / IPV6_RECVERR), as tracepath
// does: no privilege, no raw socket, no external binary.
//
// Loop thread only. Typical call sequence:
//   auto tracer = Tracer::start(loop, address, options, on_hop, on_done);  // probes go out
//   ... on_hop(hop) for each completed hop, in TTL order (live progress) ...
//   ... on_done(result) once: reached, max-hops, unreachable or failed ...
//   tracer.reset();   // also allowed inside on_done; before it, cancels (no callback)
//
// Probes are DF-marked (IP_PMTUDISC_PROBE: the kernel neither fragments nor applies its
// cached path MTU), so the trace also finds the path MTU (see TraceMachine).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <memory>

#include "core/result.h"
#include "diag/hop_stats.h"
#include "diag/trace_machine.h"

namespace postern::diag {

class Tracer {
 public:
  using HopFn = std::function<void(const HopResult& hop)>;
  using DoneFn = std::function<void(TraceResult result)>;

  // Opens the probe socket and sends the first probe at the loop's next turn. `destination`
  // is a numeric IPv4 or IPv6 address (port ignored). `result_template` (target, mx) is
  // copied into the result. Errors: check_options() failures, socket()/setsockopt() errno
  // (Errc::io, where = "trace-socket").
  // REQUIRES: `loop` outlives the Tracer. on_hop must not destroy the Tracer; on_done may.
  static core::Result<std::unique_ptr<Tracer>> start(uv_loop_t* loop,
                                                     const sockaddr_storage& destination,
                                                     const TraceOptions& options, HopFn on_hop,
                                                     DoneFn on_done,
                                                     TraceResult result_template = {});
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Probes currently answered per hop so far (for a status page polling mid-trace).
  const std::vector<HopResult>& hops() const { return machine_.hops(); }

 private:
  struct Io;
  Tracer(const sockaddr_storage& destination, const TraceOptions& options, Family family,
         HopFn on_hop, DoneFn on_done, TraceResult result_template);
  static void on_poll(uv_poll_t* handle, int status, int events) noexcept;
  static void on_timer(uv_timer_t* handle) noexcept;
  static void on_close(uv_handle_t* handle) noexcept;
  void pump();
  void send(const ProbeRequest& probe);
  void drain();
  void close_io();

  sockaddr_storage destination_;
  Family family_;
  TraceMachine machine_;
  HopFn on_hop_;
  DoneFn on_done_;
  TraceResult result_;
  Io* io_ = nullptr;  // freed in the handles' close callbacks
  std::vector<char> payload_;
};

}  // namespace postern::diag
