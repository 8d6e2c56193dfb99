// EvictionPolicy: the stress threshold, the newcomer's victim, the stressed timeouts.
#include "net/idle_eviction.h"

#include <algorithm>

namespace postern::net {

EvictionPolicy::EvictionPolicy(std::size_t max_connections, EvictionOptions options)
    : max_connections_(max_connections), options_(options) {
  const std::size_t percent = std::min<std::size_t>(options_.stress_percent, 100);
  stress_at_ = std::max<std::size_t>(1, (max_connections_ * percent + 99) / 100);
}

bool EvictionPolicy::stressed(std::size_t open) const {
  return options_.enabled && open >= stress_at_;
}

std::optional<std::size_t> EvictionPolicy::victim_for_newcomer(
    std::span<const IdleCandidate> open) const {
  if (!options_.enabled) return std::nullopt;
  std::optional<std::size_t> victim;
  for (std::size_t i = 0; i < open.size(); ++i) {
    if (!open[i].evictable) continue;
    if (!victim || open[i].silent_since_ms < open[*victim].silent_since_ms) victim = i;
  }
  return victim;
}

std::vector<std::size_t> EvictionPolicy::expired(std::span<const IdleCandidate> open,
                                                 std::uint64_t now_ms) const {
  std::vector<std::size_t> out;
  if (!stressed(open.size())) return out;
  const auto limit = static_cast<std::uint64_t>(options_.stressed_idle_timeout.count());
  for (std::size_t i = 0; i < open.size(); ++i) {
    const IdleCandidate& c = open[i];
    if (c.evictable && now_ms >= c.silent_since_ms && now_ms - c.silent_since_ms >= limit) {
      out.push_back(i);
    }
  }
  return out;
}

}  // namespace postern::net
