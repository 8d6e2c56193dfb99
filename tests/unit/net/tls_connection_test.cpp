// Connection with TLS: STARTTLS discarding pipelined plaintext, implicit TLS.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "net/listener.h"
#include "test_service.h"
#include "tls/credentials.h"

using namespace postern;

namespace {

struct TlsSetup {
  test::TempDir dir;
  std::unique_ptr<tls::ServerConfig> server;
  std::unique_ptr<tls::ClientConfig> client;
  TlsSetup() {
    core::SystemClock clock;
    auto random = tls::Random::create("test");
    REQUIRE(random);
    auto creds = tls::Credentials::load_or_create(dir.path(), "mail.example.net", clock, **random);
    REQUIRE(creds);
    auto s = tls::ServerConfig::create(*creds);
    REQUIRE(s);
    server = std::move(*s);
    tls::ClientOptions options;
    options.trust = *creds;  // verifies the certificate and "localhost"
    auto c = tls::ClientConfig::create(options);
    REQUIRE(c);
    client = std::move(*c);
  }
};

// Splits complete lines off the input, like a line-based session.
std::vector<std::string> take_lines(net::Connection& c) {
  std::vector<std::string> lines;
  for (;;) {
    auto end = c.input().find("\r\n");
    if (end == std::string_view::npos) return lines;
    lines.emplace_back(c.input().substr(0, end + 2));
    c.consume(end + 2);
  }
}

}  // namespace

TEST_CASE("start_tls discards plaintext pipelined after STARTTLS (CVE-2011-0411)") {
  TlsSetup setup;  // outlives the loop: connections point at its config
  test::TestService service;
  test::Loop loop;
  std::vector<std::string> seen;
  bool active_when_ready = false;
  service.on_input = [&](net::Connection& c) {
    for (const std::string& line : take_lines(c)) {
      seen.push_back(line);
      if (line == "STARTTLS\r\n") {
        c.send("220 go ahead\r\n");
        REQUIRE(c.start_tls(*setup.server));
        return;  // whatever followed STARTTLS is gone
      }
      c.send(line);
    }
  };
  service.on_tls_ready = [&](net::Connection& c) { active_when_ready = c.tls_active(); };
  auto listener = net::Listener::start(loop.get(), {}, service.factory());
  REQUIRE(listener);
  std::string go, echoed;
  bool handshake = false;
  test::ClientThread client([&, port = (*listener)->bound_port()] {
    test::Client c;
    if (!c.connect(port) || !c.send_all("STARTTLS\r\nEVIL\r\n")) return;
    go = c.read_until("\r\n");
    test::TlsClient t(c, *setup.client);
    handshake = t.handshake();
    if (handshake && t.send("HELLO\r\n")) echoed = t.read_until("\r\n");
  });
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(go == "220 go ahead\r\n");
  CHECK(handshake);
  CHECK(echoed == "HELLO\r\n");
  CHECK(service.tls_ready == 1);
  CHECK(active_when_ready);
  CHECK(seen == std::vector<std::string>{"STARTTLS\r\n", "HELLO\r\n"});
  CHECK(loop.run_until([&] { return service.closed == 1; }));
}

TEST_CASE("an implicit-TLS listener holds the greeting until the handshake and then echoes") {
  TlsSetup setup;
  test::TestService service;
  test::Loop loop;
  service.on_accept = [](net::Connection& c) {
    CHECK_FALSE(c.tls_active());
    c.send("+OK ready\r\n");  // held until the handshake completes
  };
  net::ListenerOptions options;
  options.tls = setup.server.get();
  auto listener = net::Listener::start(loop.get(), options, service.factory());
  REQUIRE(listener);
  std::string greeting, echoed;
  test::ClientThread client([&, port = (*listener)->bound_port()] {
    test::Client c;
    if (!c.connect(port)) return;
    test::TlsClient t(c, *setup.client);
    if (!t.handshake()) return;
    greeting = t.read_until("\r\n");
    if (t.send("PING one\r\nPING two\r\n")) echoed = t.read_until("two\r\n");
  });
  CHECK(loop.run_until([&] { return client.done(); }));
  client.join();
  CHECK(greeting == "+OK ready\r\n");
  CHECK(echoed == "PING one\r\nPING two\r\n");
  CHECK(service.tls_ready == 1);
  CHECK(loop.run_until([&] { return service.closed == 1; }));
}

TEST_CASE("plaintext sent to an implicit-TLS listener fails the handshake and closes") {
  TlsSetup setup;
  test::TestService service;
  test::Loop loop;
  net::ListenerOptions options;
  options.tls = setup.server.get();
  auto listener = net::Listener::start(loop.get(), options, service.factory());
  REQUIRE(listener);
  bool closed_by_server = false;
  test::ClientThread client([&, port = (*listener)->bound_port()] {
    test::Client c;
    if (!c.connect(port) || !c.send_all("USER alice\r\n")) return;
    std::string rest;
    ssize_t n;
    while ((n = c.receive(rest)) > 0) {
    }
    closed_by_server = n == 0 || errno == ECONNRESET;
  });
  CHECK(loop.run_until([&] { return client.done() && service.closed == 1; }));
  client.join();
  CHECK(closed_by_server);
  CHECK(service.inputs == 0);
  CHECK(service.tls_ready == 0);
}
