// EvictionPolicy, sans-I/O: the stress threshold, whom a newcomer displaces, and which
// idle connections the stressed sweep closes.
#include "net/idle_eviction.h"

#include <doctest/doctest.h>

#include <vector>

using namespace postern;
using namespace std::chrono_literals;

namespace {

net::IdleCandidate idle(std::uint64_t since) {
  return {true, since};
}
net::IdleCandidate busy(std::uint64_t since) {
  return {false, since};
}

}  // namespace

TEST_CASE("stressed from 80% of the limit, rounded up, and full at the limit") {
  net::EvictionPolicy ten(10, {});
  CHECK_FALSE(ten.stressed(7));
  CHECK(ten.stressed(8));
  CHECK_FALSE(ten.full(9));
  CHECK(ten.full(10));
  CHECK(ten.full(11));               // evicted ones still closing can briefly push the count over
  net::EvictionPolicy three(3, {});  // 2.4 rounds up to 3: stressed only when full
  CHECK_FALSE(three.stressed(2));
  CHECK(three.stressed(3));
  net::EvictionPolicy one(1, {});
  CHECK_FALSE(one.stressed(0));
  CHECK(one.stressed(1));
  net::EvictionOptions half;
  half.stress_percent = 50;
  CHECK(net::EvictionPolicy(10, half).stressed(5));
  net::EvictionOptions off;
  off.enabled = false;
  CHECK_FALSE(net::EvictionPolicy(10, off).stressed(10));
}

TEST_CASE("a newcomer displaces the evictable connection silent the longest") {
  net::EvictionPolicy policy(4, {});
  // Silent since 500 (busy: a DATA transfer that paused), 100 (idle), 300 (idle), 50 (busy).
  std::vector<net::IdleCandidate> open{busy(500), idle(100), idle(300), busy(50)};
  auto victim = policy.victim_for_newcomer(open);
  REQUIRE(victim);
  CHECK(*victim == 1);  // the oldest busy one (index 3) is never chosen
  // Ties go to the first given.
  std::vector<net::IdleCandidate> tie{idle(200), idle(200)};
  CHECK(policy.victim_for_newcomer(tie) == std::optional<std::size_t>(0));
  // A fresh idle connection (silent since now) is still evictable: nothing better exists.
  std::vector<net::IdleCandidate> fresh{busy(0), busy(0), busy(0), idle(1000)};
  CHECK(policy.victim_for_newcomer(fresh) == std::optional<std::size_t>(3));
}

TEST_CASE("nobody is evicted when every connection is mid-transaction or eviction is off") {
  net::EvictionPolicy policy(3, {});
  std::vector<net::IdleCandidate> all_busy{busy(1), busy(2), busy(3)};
  CHECK_FALSE(policy.victim_for_newcomer(all_busy));
  CHECK(policy.expired(all_busy, 1'000'000).empty());
  CHECK_FALSE(policy.victim_for_newcomer({}));
  net::EvictionOptions off;
  off.enabled = false;
  net::EvictionPolicy disabled(3, off);
  std::vector<net::IdleCandidate> all_idle{idle(1), idle(2), idle(3)};
  CHECK_FALSE(disabled.victim_for_newcomer(all_idle));
  CHECK(disabled.expired(all_idle, 1'000'000).empty());
}

TEST_CASE("under stress, evictable connections silent for the short timeout expire") {
  net::EvictionOptions options;
  options.stressed_idle_timeout = 10s;
  net::EvictionPolicy policy(5, options);  // stressed from 4 open
  std::vector<net::IdleCandidate> open{idle(0), idle(5'000), busy(0), idle(20'000)};
  CHECK(policy.expired(open, 9'999).empty());
  CHECK(policy.expired(open, 10'000) == std::vector<std::size_t>{0});
  CHECK(policy.expired(open, 15'000) == std::vector<std::size_t>{0, 1});
  CHECK(policy.expired(open, 30'000) == std::vector<std::size_t>{0, 1, 3});
  // A clock reading before a connection's last read (never on one loop) expires nothing.
  CHECK(policy.expired({open.data() + 3, 1}, 0).empty());
  // Below the threshold the protocol's own timeouts apply: nothing expires here.
  std::vector<net::IdleCandidate> calm{idle(0), idle(0), idle(0)};
  CHECK(policy.expired(calm, 1'000'000).empty());
}
