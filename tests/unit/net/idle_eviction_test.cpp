// EvictionPolicy, sans-I/O: the stress threshold, whom a newcomer displaces, and which
// idle connections the stressed sweep closes.
#include "net/idle_eviction.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/listener.h"
#include "test_service.h"

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

// --- net::Listener doing it, over loopback sockets ----------------------------------------

namespace {

// Greets "hi"; a connection is evictable until its client sends "busy" (then it is "mid-
// transaction"); evicted ones get "bye" and the close.
struct EvictService {
  int accepted = 0, evicted = 0, closed = 0, busy = 0;
  struct Handler final : net::ConnectionHandler {
    explicit Handler(EvictService& s) : service(s) {}
    void on_input(net::Connection& c) override {
      if (c.input().find("busy") != std::string_view::npos) {
        busy = true;
        ++service.busy;
      }
      c.consume(c.input().size());
    }
    void on_timeout(net::Connection&) override {}
    void on_closed(net::Connection&) override {
      ++service.closed;
      delete this;
    }
    bool idle_evictable(const net::Connection&) const override { return !busy; }
    void on_evict(net::Connection& c) override {
      ++service.evicted;
      c.send("bye\r\n");
      c.close_after_flush();
    }
    EvictService& service;
    bool busy = false;
  };
  net::ConnectionFactory factory() {
    return [this](net::Connection& c) -> net::ConnectionHandler* {
      ++accepted;
      c.send("hi\r\n");
      return new Handler(*this);
    };
  }
};

std::unique_ptr<net::Listener> listen(test::Loop& loop, EvictService& service,
                                      std::size_t max_connections,
                                      std::chrono::milliseconds linger = {}) {
  net::ListenerOptions options;
  options.name = "evict";
  options.max_connections = max_connections;
  options.max_per_ip = 10;
  options.reject_line = "full\r\n";
  options.reject_linger = linger;
  auto listener = net::Listener::start(loop.get(), options, service.factory());
  REQUIRE(listener);
  return std::move(*listener);
}

}  // namespace

TEST_CASE("a full listener closes its longest-idle evictable connection for a newcomer") {
  EvictService service;
  test::Loop loop;
  auto listener = listen(loop, service, 2);
  std::string idle_got, newcomer_got;
  bool idle_clean = false;
  test::Signal busy_sent;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client idle, busy, newcomer;
    if (!idle.connect(port) || idle.read_until("\r\n").empty()) return;
    if (!busy.connect(port) || busy.read_until("\r\n").empty()) return;
    if (!busy.send_all("busy\r\n") || !busy_sent.wait()) return;
    if (!newcomer.connect(port)) return;
    newcomer_got = newcomer.read_until("\r\n");
    idle_got = idle.read_to_eof(&idle_clean);
  });
  // The busy client's line must have been read before the newcomer arrives.
  REQUIRE(loop.run_until([&] { return service.busy == 1; }));
  busy_sent.raise();
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(newcomer_got == "hi\r\n");
  CHECK(idle_got == "bye\r\n");
  CHECK(idle_clean);
  CHECK(service.evicted == 1);
  CHECK(service.accepted == 3);
  CHECK(loop.run_until([&] { return service.closed == 3; }));
}

TEST_CASE("with nobody evictable the newcomer is refused, and its request is read first") {
  EvictService service;
  test::Loop loop;
  auto listener = listen(loop, service, 1, std::chrono::milliseconds(2000));
  std::string refused;
  bool clean = false;
  test::Signal busy_sent;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client busy, newcomer;
    if (!busy.connect(port) || busy.read_until("\r\n").empty()) return;
    if (!busy.send_all("busy\r\n") || !busy_sent.wait()) return;
    if (!newcomer.connect(port)) return;
    // An HTTP client speaks first; the lingering close reads that before closing, so the
    // reply is not destroyed by a reset.
    if (!newcomer.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) return;
    refused = newcomer.read_to_eof(&clean);
  });
  REQUIRE(loop.run_until([&] { return service.busy == 1; }));
  busy_sent.raise();
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(refused == "full\r\n");
  CHECK(clean);
  CHECK(service.evicted == 0);
  CHECK(service.accepted == 1);
}
