// LinkMonitor: default targets from /proc and resolv.conf, rounds of one-TTL probe runs.
#include "diag/link_monitor.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/log.h"
#include "diag/target.h"
#include "diag/tracer.h"

namespace postern::diag {

namespace {

std::optional<sockaddr_storage> numeric_address(const std::string& text) {
  sockaddr_storage ss{};
  auto& in = reinterpret_cast<sockaddr_in&>(ss);
  auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
  if (::inet_pton(AF_INET, text.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    return ss;
  }
  if (::inet_pton(AF_INET6, text.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    return ss;
  }
  return std::nullopt;
}

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str().substr(0, 64 * 1024);
}

}  // namespace

std::optional<std::string> parse_default_gateway(std::string_view text) {
  std::istringstream lines{std::string(text)};
  std::string line;
  std::getline(lines, line);  // header: Iface Destination Gateway Flags ...
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string iface, destination, gateway, flags;
    if (!(fields >> iface >> destination >> gateway >> flags)) continue;
    if (destination != "00000000") continue;
    const unsigned long word = std::strtoul(gateway.c_str(), nullptr, 16);
    const unsigned long flag_bits = std::strtoul(flags.c_str(), nullptr, 16);
    if (word == 0 || !(flag_bits & 0x2)) continue;  // RTF_GATEWAY
    // The kernel prints the address in host byte order; on Linux that is the network
    // order bytes read as a little-endian word on little-endian machines.
    in_addr addr{};
    addr.s_addr = static_cast<in_addr_t>(word);
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &addr, buf, sizeof buf);
    return std::string(buf);
  }
  return std::nullopt;
}

std::vector<std::string> parse_nameservers(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string keyword, address;
    if (!(fields >> keyword >> address) || keyword != "nameserver") continue;
    auto target = validate_target(address);
    if (target && target->kind != TargetKind::host_name) out.push_back(target->text);
  }
  return out;
}

std::vector<MonitorTarget> default_targets() {
  std::vector<MonitorTarget> out;
  if (auto gateway = parse_default_gateway(read_small_file("/proc/net/route"))) {
    out.push_back({*gateway, "gateway"});
  }
  auto servers = parse_nameservers(read_small_file("/etc/resolv.conf"));
  if (!servers.empty()) out.push_back({servers.front(), "dns"});
  return out;
}

LinkMonitor::LinkMonitor(uv_loop_t* loop, const core::Clock& clock, MonitorOptions options,
                         std::vector<MonitorTarget> targets, SampleFn on_sample)
    : loop_(loop),
      clock_(clock),
      options_(options),
      fixed_(std::move(targets)),
      on_sample_(std::move(on_sample)) {
  trace_options_.first_ttl = 64;  // one TTL, long enough for any path: only the target answers
  trace_options_.max_hops = 64;
  trace_options_.probes = options_.probes;
  trace_options_.probe_timeout_us = options_.probe_timeout_us;
  trace_options_.initial_mtu = 576;  // light probes; no path-MTU search
}

core::Result<std::unique_ptr<LinkMonitor>> LinkMonitor::start(uv_loop_t* loop,
                                                              const core::Clock& clock,
                                                              MonitorOptions options,
                                                              std::vector<MonitorTarget> targets,
                                                              SampleFn on_sample) {
  std::unique_ptr<LinkMonitor> self(
      new LinkMonitor(loop, clock, options, std::move(targets), std::move(on_sample)));
  if (auto ok = check_options(self->trace_options_); !ok) return ok.error();
  if (options.interval.count() <= 0)
    return core::make_error(core::Errc::invalid, "monitor-interval");
  self->timer_ = std::make_unique<net::Timer>(loop);
  const std::chrono::milliseconds every(options.interval.count());
  self->timer_->start(std::chrono::milliseconds(0), every, [raw = self.get()] { raw->round(); });
  return self;
}

LinkMonitor::~LinkMonitor() {
  running_.clear();  // Tracers cancel: no more samples
  timer_.reset();
}

void LinkMonitor::add_peer(std::string_view address) {
  auto target = validate_target(address);
  if (!target || target->kind == TargetKind::host_name) return;
  const auto now = clock_.now();
  peers_.erase(std::remove_if(peers_.begin(), peers_.end(),
                              [&](const Peer& p) { return p.address == target->text; }),
               peers_.end());
  peers_.push_back({target->text, now});
  if (peers_.size() > options_.max_peers) peers_.erase(peers_.begin());  // the oldest
}

std::vector<MonitorTarget> LinkMonitor::targets() const {
  std::vector<MonitorTarget> out = fixed_;
  const auto now = clock_.now();
  for (const auto& p : peers_) {
    if (now - p.added < options_.peer_lifetime) out.push_back({p.address, "peer"});
  }
  return out;
}

void LinkMonitor::round() {
  const auto now = clock_.now();
  peers_.erase(
      std::remove_if(peers_.begin(), peers_.end(),
                     [&](const Peer& p) { return now - p.added >= options_.peer_lifetime; }),
      peers_.end());
  for (const auto& target : targets()) {
    auto address = numeric_address(target.address);
    if (!address) continue;
    // Every probe target is logged, parseably: at info the first time this monitor probes it
    // (the e2e harness checks no test probes outside loopback), at debug on later rounds.
    if (std::find(announced_.begin(), announced_.end(), target.address) == announced_.end()) {
      if (announced_.size() >= kMaxAnnounced) announced_.erase(announced_.begin());
      announced_.push_back(target.address);
      POSTERN_LOG_INFO("diag event=probe target=%s by=monitor role=%s", target.address.c_str(),
                       target.role.c_str());
    } else {
      POSTERN_LOG_DEBUG("diag event=probe target=%s by=monitor role=%s", target.address.c_str(),
                        target.role.c_str());
    }
    const std::uint64_t id = next_++;
    MonitorSample base{target.address, target.role, now, -1, 0, 0};
    auto tracer = Tracer::start(
        loop_, *address, trace_options_, nullptr, [this, id, base](TraceResult result) {
          MonitorSample sample = base;
          if (!result.hops.empty()) {
            const auto& hop = result.hops.back();
            sample.sent = hop.sent;
            sample.lost = hop.lost();
            if (hop.received > 0) sample.rtt_us = hop.rtt_avg_us;
          }
          auto it = std::find_if(running_.begin(), running_.end(),
                                 [&](const auto& r) { return r.first == id; });
          std::unique_ptr<Tracer> finished;
          if (it != running_.end()) {
            finished = std::move(it->second);  // dies when this callback returns
            running_.erase(it);
          }
          if (on_sample_) on_sample_(sample);
        });
    if (!tracer) {
      POSTERN_LOG_WARN("diag monitor event=probe-failed target=%s where=%s", target.address.c_str(),
                       tracer.error().where);
      continue;
    }
    running_.emplace_back(id, std::move(*tracer));
  }
}

}  // namespace postern::diag
