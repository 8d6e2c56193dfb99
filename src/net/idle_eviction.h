// Idle eviction: whom a listener closes when idle clients hold its connection limit.
//
// Idle clients from many addresses can hold max_connections until their protocol timeouts
// (SMTP 5 min, RFC 5321 §4.5.3.2.7; POP3 10 min, RFC 1939 §3) and lock everyone else out.
// Like Postfix under stress (smtpd "stress-dependent" timeouts: 10 s instead of 300 s) and
// nginx (it closes the oldest idle keep-alive connection when worker_connections run out):
//   * stressed (open >= stress_percent of the limit): a connection the service calls
//     evictable (it owes the next command before authentication, or between messages, with
//     nothing under way; ConnectionHandler::idle_evictable) gets stressed_idle_timeout
//     instead of its protocol timeout: the listener's sweep closes it after that much
//     silence, with the protocol's goodbye (ConnectionHandler::on_evict);
//   * full (open == limit): a newcomer is admitted by closing the evictable connection that
//     has been silent the longest; only when none is evictable is the newcomer refused.
// A session with message bytes under way (SMTP DATA/BDAT), a login being checked or an
// authenticated POP3 session is never evictable.
//
// EvictionPolicy is the decision alone (sans-I/O, tests/unit/net/idle_eviction_test.cpp);
// net::Listener gathers the candidates and does the closing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace postern::net {

struct EvictionOptions {
  bool enabled = true;
  // Stressed from this share of max_connections (rounded up, at least 1 connection).
  unsigned stress_percent = 80;
  // The idle timeout of evictable connections while stressed (Postfix: ${stress?10}s).
  std::chrono::milliseconds stressed_idle_timeout{10'000};
};

// One open connection as the policy sees it.
struct IdleCandidate {
  bool evictable = false;             // the service says it may be closed (see above)
  std::uint64_t silent_since_ms = 0;  // loop time of its last read (or its accept)
};

class EvictionPolicy {
 public:
  EvictionPolicy(std::size_t max_connections, EvictionOptions options);

  // `open`: admitted connections not already being evicted.
  bool stressed(std::size_t open) const;
  bool full(std::size_t open) const { return open >= max_connections_; }

  // Which connection to close so a newcomer fits a full listener: the evictable one silent
  // the longest (earliest silent_since_ms; the first given on a tie). nullopt: none is
  // evictable (or eviction is off) and the newcomer is refused.
  std::optional<std::size_t> victim_for_newcomer(std::span<const IdleCandidate> open) const;

  // While stressed, the evictable connections silent for stressed_idle_timeout or more, in
  // the order given; empty when not stressed.
  std::vector<std::size_t> expired(std::span<const IdleCandidate> open, std::uint64_t now_ms) const;

  std::chrono::milliseconds stressed_idle_timeout() const { return options_.stressed_idle_timeout; }

 private:
  std::size_t max_connections_;
  std::size_t stress_at_;
  EvictionOptions options_;
};

}  // namespace postern::net
