// Connection over real loopback sockets: echo, backpressure, pause, timeout,
// flush, water marks.
#include "net/connection.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>

#include "net/listener.h"
#include "net/read_budget.h"
#include "test_service.h"

using namespace postern;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 31 + i / 977) % 26);
  return s;
}

std::unique_ptr<net::Listener> listen(test::Loop& loop, test::TestService& service,
                                      net::ListenerOptions options = {}) {
  auto listener = net::Listener::start(loop.get(), std::move(options), service.factory());
  REQUIRE(listener);
  CHECK((*listener)->bound_port() != 0);
  return std::move(*listener);
}

}  // namespace

TEST_CASE("an echo service returns every byte over IPv4 and closes after the client's EOF") {
  test::TestService service;
  test::Loop loop;
  std::string peer;
  bool loopback = false;
  service.on_accept = [&](net::Connection& c) {
    peer = c.peer_address();
    loopback = c.is_loopback();
  };
  auto listener = listen(loop, service);
  const std::string sent = pattern(300'000);
  std::string echoed;
  bool clean = false;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port) || !c.send_all(sent)) return;
    c.shutdown_write();
    echoed = c.read_to_eof(&clean);
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(clean);
  CHECK(echoed.size() == sent.size());
  CHECK(echoed == sent);
  CHECK(peer == "127.0.0.1");
  CHECK(loopback);
  CHECK(listener->connection_count() == 0);
}

TEST_CASE("an echo service works over IPv6 loopback") {
  test::TestService service;
  test::Loop loop;
  std::string peer;
  service.on_accept = [&](net::Connection& c) { peer = c.peer_address(); };
  net::ListenerOptions options;
  options.address = "::1";
  auto listener = listen(loop, service, options);
  std::string reply;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port, "::1") || !c.send_all("ping\r\n")) return;
    reply = c.read_until("\r\n");
  });
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(reply == "ping\r\n");
  CHECK(peer == "::1");
}

TEST_CASE("a full input buffer stops reading until the service consumes") {
  test::TestService service;
  test::Loop loop;
  std::size_t largest = 0;
  service.on_accept = [](net::Connection& c) {
    net::ConnectionLimits limits;
    limits.max_input_bytes = 1000;
    c.set_limits(limits);
  };
  service.on_input = [&](net::Connection& c) { largest = std::max(largest, c.input().size()); };
  auto listener = listen(loop, service);
  const std::string sent = pattern(5500);
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (c.connect(port) && c.send_all(sent)) c.read_to_eof();  // wait for the server to end it
  });
  std::string received;
  while (received.size() < sent.size()) {
    const std::size_t expect = std::min<std::size_t>(1000, sent.size() - received.size());
    REQUIRE(loop.run_until(
        [&] { return service.last != nullptr && service.last->input().size() == expect; }));
    net::Connection& c = *service.last;
    if (expect == 1000) CHECK_FALSE(c.reading());  // backpressure: the socket is not read
    received += c.input();
    c.consume(c.input().size());
    CHECK(c.reading());
  }
  CHECK(largest <= 1000);
  CHECK(received == sent);
  service.last->close_after_flush();
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
}

TEST_CASE("paused input is buffered but not offered until resume, which re-offers the rest") {
  test::TestService service;
  test::Loop loop;
  std::string lines;
  service.on_input = [&](net::Connection& c) {
    auto end = c.input().find("\r\n");
    if (end == std::string_view::npos) return;
    lines += c.input().substr(0, end + 2);
    c.consume(end + 2);
    c.pause_reading();  // like a session waiting for a commit
  };
  auto listener = listen(loop, service);
  test::Signal paused;
  std::string goodbye;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port) || !c.send_all("A\r\nB\r\n")) return;
    if (!paused.wait() || !c.send_all("C\r\n")) return;
    goodbye = c.read_to_eof();
  });
  REQUIRE(loop.run_until([&] { return lines == "A\r\n"; }));
  CHECK(service.inputs == 1);
  paused.raise();
  REQUIRE(loop.run_until([&] { return service.last->input() == "B\r\nC\r\n"; }));
  CHECK(service.inputs == 1);  // read while paused, never offered
  CHECK(lines == "A\r\n");
  service.last->resume_reading();
  CHECK(service.inputs == 1);  // offered on a later turn, not from inside resume
  REQUIRE(loop.run_until([&] { return lines == "A\r\nB\r\n"; }));
  service.last->resume_reading();
  REQUIRE(loop.run_until([&] { return lines == "A\r\nB\r\nC\r\n"; }));
  service.last->send("bye\r\n");
  service.last->close_after_flush();
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(goodbye == "bye\r\n");
}

TEST_CASE("an idle connection gets on_timeout and the goodbye line before EOF") {
  test::TestService service;
  test::Loop loop;
  service.on_accept = [](net::Connection& c) {
    c.send("hello\r\n");
    c.set_timeout(50ms);
  };
  service.on_timeout = [](net::Connection& c) {
    c.send("timeout\r\n");
    c.close_after_flush();
  };
  auto listener = listen(loop, service);
  std::string all;
  bool clean = false;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (c.connect(port)) all = c.read_to_eof(&clean);
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(service.timeouts == 1);
  CHECK(clean);
  CHECK(all == "hello\r\ntimeout\r\n");
}

TEST_CASE("close_after_flush delivers every queued byte before EOF") {
  test::TestService service;
  test::Loop loop;
  const std::string big = pattern(4 << 20);  // far beyond the socket buffers
  bool could_send_more = true;
  service.on_accept = [&](net::Connection& c) {
    c.send(big);
    could_send_more = c.can_send_more();
    c.send("END\r\n");
    c.close_after_flush();
    c.send("never\r\n");  // ignored once closing
  };
  auto listener = listen(loop, service);
  std::string got;
  bool clean = false;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (c.connect(port)) got = c.read_to_eof(&clean);
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK_FALSE(could_send_more);
  CHECK(clean);
  CHECK(got.size() == big.size() + 5);
  CHECK(got == big + "END\r\n");
}

TEST_CASE("an owning send() queues its buffer as it is, counted like a copied one") {
  test::TestService service;
  test::Loop loop;
  const std::string big = pattern(1 << 20);
  std::size_t queued = 0;
  service.on_accept = [&](net::Connection& c) {
    std::string owned = big;
    c.send(std::move(owned));
    queued = c.queued_bytes();
    c.send(std::string());  // nothing to write: ignored
    c.send(std::string("END\r\n"));
    c.close_after_flush();
    c.send(std::string("never\r\n"));  // ignored once closing
  };
  auto listener = listen(loop, service);
  std::string got;
  bool clean = false;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (c.connect(port)) got = c.read_to_eof(&clean);
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(queued == big.size());
  CHECK(clean);
  CHECK(got == big + "END\r\n");
}

TEST_CASE("a sender that stops at the high-water mark resumes on on_drain") {
  test::TestService service;
  test::Loop loop;
  const std::size_t total = 3 << 20;
  const std::string chunk = pattern(16 * 1024);
  std::size_t sent = 0;
  std::size_t peak = 0;
  auto pump = [&](net::Connection& c) {
    while (sent < total && c.can_send_more()) {
      c.send(chunk);
      sent += chunk.size();
      peak = std::max(peak, c.queued_bytes());
    }
    if (sent >= total) c.close_after_flush();
  };
  service.on_accept = [&](net::Connection& c) {
    net::ConnectionLimits limits;
    limits.high_water_bytes = 64 * 1024;
    limits.low_water_bytes = 16 * 1024;
    c.set_limits(limits);
    pump(c);
  };
  service.on_drain = [&](net::Connection& c) {
    CHECK(c.queued_bytes() <= 16 * 1024);
    pump(c);
  };
  auto listener = listen(loop, service);
  std::size_t received = 0;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (c.connect(port)) received = c.read_to_eof().size();
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(received == total);
  CHECK(service.drains > 0);
  CHECK(peak < 64 * 1024 + chunk.size());  // never more than one chunk past high water
}

TEST_CASE("with a read budget, no loop iteration takes more than its share of the input") {
  test::TestService service;
  test::Loop loop;
  net::ReadBudget budget(loop.get());
  // Runs before the budget's own prepare handle (libuv runs the newest first): sees what
  // the iteration that ends has read.
  struct Watch {
    uv_prepare_t handle{};
    net::ReadBudget* budget = nullptr;
    std::size_t max_spent = 0;
  } watch;
  watch.budget = &budget;
  uv_prepare_init(loop.get(), &watch.handle);
  watch.handle.data = &watch;
  uv_prepare_start(&watch.handle, [](uv_prepare_t* h) {
    auto* w = static_cast<Watch*>(h->data);
    w->max_spent = std::max(w->max_spent, w->budget->spent());
  });
  auto listener = listen(loop, service);
  const std::string sent = pattern(4'000'000);
  std::string echoed;
  bool clean = false;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port)) return;
    std::thread reader([&] { echoed = c.read_to_eof(&clean); });
    c.send_all(sent);
    c.shutdown_write();
    reader.join();
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(echoed == sent);
  // One read of at most 16 KiB may cross the line before reading stops.
  CHECK(watch.max_spent <= net::ReadBudget::kBytesPerIteration + 16 * 1024);
  CHECK(budget.renewals() >= sent.size() / (net::ReadBudget::kBytesPerIteration + 16 * 1024));
  uv_close(reinterpret_cast<uv_handle_t*>(&watch.handle), nullptr);
}
