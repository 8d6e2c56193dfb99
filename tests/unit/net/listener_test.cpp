// Listener: admission limits with the service's reject line, bind errors.
#include "net/listener.h"

#include <doctest/doctest.h>

#include <string>

#include "test_service.h"

using namespace postern;

namespace {

const char* const kReject = "421 4.7.0 too many connections, try later\r\n";

std::unique_ptr<net::Listener> listen(test::Loop& loop, test::TestService& service,
                                      std::size_t max_connections, std::size_t max_per_ip) {
  net::ListenerOptions options;
  options.name = "test";
  options.max_connections = max_connections;
  options.max_per_ip = max_per_ip;
  options.reject_line = kReject;
  auto listener = net::Listener::start(loop.get(), options, service.factory());
  REQUIRE(listener);
  return std::move(*listener);
}

}  // namespace

TEST_CASE("a second connection from one address over max_per_ip gets the reject line, then EOF") {
  test::TestService service;
  test::Loop loop;
  service.on_accept = [](net::Connection& c) { c.send("hi\r\n"); };
  auto listener = listen(loop, service, 10, 1);
  std::string first_greeting, second_all, third_greeting;
  bool second_clean = false;
  test::Signal first_gone;
  test::ClientThread client([&, port = listener->bound_port()] {
    {
      test::Client first;
      if (!first.connect(port)) return;
      first_greeting = first.read_until("\r\n");
      test::Client second;
      if (!second.connect(port)) return;
      second_all = second.read_to_eof(&second_clean);
    }  // the first one leaves: its slot is released
    if (!first_gone.wait()) return;
    test::Client third;
    if (third.connect(port)) third_greeting = third.read_until("\r\n");
  });
  REQUIRE(loop.run_until([&] { return service.closed == 1; }));
  CHECK(listener->connection_count() == 0);
  first_gone.raise();
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(first_greeting == "hi\r\n");
  CHECK(second_all == kReject);
  CHECK(second_clean);
  CHECK(third_greeting == "hi\r\n");
  CHECK(service.accepted == 2);  // the rejected one never reached the service
}

TEST_CASE("a connection over max_connections gets the reject line whatever its address") {
  test::TestService service;
  test::Loop loop;
  service.on_accept = [](net::Connection& c) { c.send("hi\r\n"); };
  auto listener = listen(loop, service, 2, 5);
  std::string greetings, third_all;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client a, b, c;
    if (!a.connect(port, "127.0.0.1", "127.0.0.1")) return;
    greetings += a.read_until("\r\n");
    if (!b.connect(port, "127.0.0.1", "127.0.0.2")) return;
    greetings += b.read_until("\r\n");
    if (!c.connect(port, "127.0.0.1", "127.0.0.3")) return;
    third_all = c.read_to_eof();
  });
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(greetings == "hi\r\nhi\r\n");
  CHECK(third_all == kReject);
  CHECK(service.accepted == 2);
  CHECK(loop.run_until([&] { return service.closed == 2; }));
  CHECK(listener->connection_count() == 0);
}

TEST_CASE("closing the listener aborts its open connections, each reaching on_closed") {
  test::TestService service;
  test::Loop loop;
  service.on_accept = [](net::Connection& c) { c.send("hi\r\n"); };
  auto listener = listen(loop, service, 10, 10);
  test::Signal closed;
  std::string greeting, rest;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port)) return;
    greeting = c.read_until("\r\n");
    rest = c.read_to_eof();
  });
  REQUIRE(loop.run_until([&] { return service.accepted == 1; }));
  listener.reset();
  CHECK(loop.run_until([&] { return service.closed == 1 && client.done(); }));
  client.join();
  CHECK(greeting == "hi\r\n");
  CHECK(rest.empty());
}

TEST_CASE("binding a port in use is Errc::busy and a bad address Errc::invalid") {
  test::TestService service;
  test::Loop loop;
  auto first = listen(loop, service, 1, 1);
  net::ListenerOptions same;
  same.port = first->bound_port();
  auto clash = net::Listener::start(loop.get(), same, service.factory());
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code == core::Errc::busy);
  net::ListenerOptions bad;
  bad.address = "mail.example.net";  // names are never resolved here
  auto named = net::Listener::start(loop.get(), bad, service.factory());
  REQUIRE_FALSE(named);
  CHECK(named.error().code == core::Errc::invalid);
}
