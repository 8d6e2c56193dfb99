// diag::LinkMonitor: periodic light probes of a few targets (the default gateway, the DNS
// server, peers whose sessions broke off recently), one sample per target per round.
//
// A round sends `probes` UDP probes with a full TTL to each target (a Tracer limited to
// one TTL) and reports {target, time, rtt, loss}; the port-unreachable answer is the
// echo. A target that filters it (many firewalls do) shows 100 % loss: read the series
// for change, not as an absolute. Loop thread only. Typical call sequence:
//   auto monitor = LinkMonitor::start(loop, clock, options, default_targets(), on_sample);
//   monitor->add_peer("198.51.100.7");   // from the session glue, on a broken session
//   monitor.reset();                       // stops; rounds in flight end without samples
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "diag/trace_machine.h"
#include "diag/tracer.h"
#include "net/timer.h"

namespace postern::diag {

struct MonitorTarget {
  std::string address;  // numeric IPv4 or IPv6
  std::string role;     // "gateway", "dns", "peer"
};

struct MonitorSample {
  std::string target;
  std::string role;
  core::TimePoint time;  // when the round started
  Micros rtt_us = -1;    // mean over answered probes; -1 when none answered
  int sent = 0;
  int lost = 0;
};

struct MonitorOptions {
  std::chrono::milliseconds interval{60'000};
  int probes = 3;
  Micros probe_timeout_us = 2'000'000;
  std::size_t max_peers = 8;                 // the most recent peers are kept
  std::chrono::seconds peer_lifetime{3600};  // a peer is probed this long after add_peer
};

// The IPv4 default gateway from /proc/net/route text (the Gateway column is a
// little-endian hex word), or nothing.
std::optional<std::string> parse_default_gateway(std::string_view proc_net_route);
// The `nameserver` addresses of resolv.conf text, in order, numeric ones only.
std::vector<std::string> parse_nameservers(std::string_view resolv_conf);
// Reads /proc/net/route and /etc/resolv.conf (small files, read once at start-up).
std::vector<MonitorTarget> default_targets();

class LinkMonitor {
 public:
  using SampleFn = std::function<void(const MonitorSample& sample)>;
  // The first round starts at once, then every interval. Errors: check_options() of the
  // derived TraceOptions (Errc::invalid).
  // REQUIRES: `loop` and `clock` outlive the monitor.
  static core::Result<std::unique_ptr<LinkMonitor>> start(uv_loop_t* loop, const core::Clock& clock,
                                                          MonitorOptions options,
                                                          std::vector<MonitorTarget> targets,
                                                          SampleFn on_sample);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // Adds (or refreshes) a peer to probe for peer_lifetime. Non-numeric text is ignored.
  void add_peer(std::string_view address);
  std::vector<MonitorTarget> targets() const;  // fixed ones, then live peers

 private:
  struct Peer {
    std::string address;
    core::TimePoint added;
  };
  LinkMonitor(uv_loop_t* loop, const core::Clock& clock, MonitorOptions options,
              std::vector<MonitorTarget> targets, SampleFn on_sample);
  void round();

  uv_loop_t* loop_;
  const core::Clock& clock_;
  MonitorOptions options_;
  TraceOptions trace_options_;
  std::vector<MonitorTarget> fixed_;
  std::vector<Peer> peers_;
  SampleFn on_sample_;
  std::unique_ptr<net::Timer> timer_;  // one round every interval
  std::uint64_t next_ = 0;
  // Targets already logged at info (fixed ones plus the latest peers; bounded).
  static constexpr std::size_t kMaxAnnounced = 64;
  std::vector<std::string> announced_;
  std::vector<std::pair<std::uint64_t, std::unique_ptr<Tracer>>> running_;
};

}  // namespace postern::diag
