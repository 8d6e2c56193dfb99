// net::SessionServer and net::SessionHandler over real loopback connections: two listeners
// with one count, session ids from the clock, the buffer limits every connection gets,
// stop(), a bind error; the shared handler events (input offered in order, a drop told to
// the session once, the timeout handed to the session).
#include "net/session_server.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "net/session_handler.h"
#include "net/test_service.h"

using namespace postern;

namespace {

// A line "session" that logs what its conversation tells it.
struct FakeSession {
  std::vector<std::string>& log;
  void on_tls_ready() { log.push_back("tls-ready"); }
  void on_disconnect() { log.push_back("disconnect"); }
  void on_timeout() { log.push_back("timeout"); }
};

// A conversation on net::SessionHandler: each line comes back as "<id> got <line>";
// "quit" closes after the reply; a timeout says so and closes.
class FakeConversation final : public net::SessionHandler<FakeSession> {
 public:
  FakeConversation(net::Connection& conn, std::string id, std::vector<std::string>& log)
      : SessionHandler(conn), id_(std::move(id)), session_{log} {}
  void on_timeout(net::Connection& conn) override {
    SessionHandler::on_timeout(conn);
    link_.send(std::string("timed out\n"));
    link_.close();
  }
  void on_closed(net::Connection&) override {
    connection_closed();
    session_.log.push_back("closed " + id_);
    delete this;
  }

 private:
  FakeSession& session() override { return session_; }
  void pump() override {
    link_.offer(
        [this](std::string_view bytes) -> std::size_t {
          const std::size_t lf = bytes.find('\n');
          if (lf == std::string_view::npos) return 0;
          const std::string line(bytes.substr(0, lf));
          session_.log.push_back("line " + line);
          link_.send(id_ + " got " + line + "\n");
          if (line == "quit") link_.close();
          return lf + 1;
        },
        [] { return true; });
  }

  std::string id_;
  FakeSession session_;
};

struct Accepted {
  std::size_t listener = 0;
  std::string id;
  bool could_send_more = true;  // after a greeting over the test's high-water mark
};

struct Fixture {
  core::ManualClock clock{core::TimePoint(core::Seconds(0x6553f100))};
  test::Loop loop;
  std::vector<std::string> log;
  std::vector<Accepted> accepted;
  std::chrono::milliseconds timeout{0};

  net::SessionServer::Accept accept(std::size_t listener) {
    return [this, listener](net::Connection& conn, std::string id) -> net::ConnectionHandler* {
      conn.send(std::string(100, '*') + "\n");  // over high_water_bytes (64) below
      accepted.push_back({listener, id, conn.can_send_more()});
      conn.set_timeout(timeout);
      return new FakeConversation(conn, std::move(id), log);
    };
  }
  std::size_t count(const std::string& entry) const {
    std::size_t n = 0;
    for (const auto& line : log) n += line == entry ? 1 : 0;
    return n;
  }
};

net::ConnectionLimits small_buffers() {
  net::ConnectionLimits buffers;
  buffers.high_water_bytes = 64;
  buffers.low_water_bytes = 16;
  return buffers;
}

}  // namespace

TEST_CASE("two listeners, one count; ids from the clock; every connection gets the buffers") {
  Fixture f;
  net::SessionServer server(f.clock, small_buffers());
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(0)));
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(1)));
  CHECK(server.port(0) != 0);
  CHECK(server.port(1) != 0);
  CHECK(server.port(0) != server.port(1));
  CHECK(server.port(2) == 0);  // no such listener
  test::Signal release;
  std::string first, second;
  test::ClientThread client([&, p0 = server.port(0), p1 = server.port(1)] {
    test::Client a, b;
    if (!a.connect(p0) || !b.connect(p1)) return;
    a.read_until("\n");
    b.read_until("\n");
    if (!release.wait()) return;
    a.send_all("one\nquit\n");
    b.send_all("two\nquit\n");
    first = a.read_to_eof();
    second = b.read_to_eof();
  });
  CHECK(f.loop.run_until([&] { return f.accepted.size() == 2 && server.connections() == 2; }));
  release.raise();
  CHECK(f.loop.run_until([&] { return client.done() && server.connections() == 0; }));
  client.join();
  REQUIRE(f.accepted.size() == 2);
  // 0x6553f100 seconds, then a counter: unique across restarts, in accept order.
  CHECK(f.accepted[0].id == "6553f1001");
  CHECK(f.accepted[1].id == "6553f1002");
  const Accepted& on0 = f.accepted[0].listener == 0 ? f.accepted[0] : f.accepted[1];
  const Accepted& on1 = f.accepted[0].listener == 0 ? f.accepted[1] : f.accepted[0];
  CHECK(on0.listener == 0);
  CHECK(on1.listener == 1);
  CHECK_FALSE(f.accepted[0].could_send_more);  // the limits were set before accept ran
  CHECK_FALSE(f.accepted[1].could_send_more);
  CHECK(first == on0.id + " got one\n" + on0.id + " got quit\n");
  CHECK(second == on1.id + " got two\n" + on1.id + " got quit\n");
}

TEST_CASE("stop() closes every listener's connections; each session hears of the drop once") {
  Fixture f;
  net::SessionServer server(f.clock, {});
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(0)));
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(1)));
  std::string a_rest, b_rest;
  bool a_clean = false, b_clean = false;
  test::ClientThread client([&, p0 = server.port(0), p1 = server.port(1)] {
    test::Client a, b;
    if (!a.connect(p0) || !b.connect(p1)) return;
    a.read_until("\n");
    b.read_until("\n");
    a_rest = a.read_to_eof(&a_clean);
    b_rest = b.read_to_eof(&b_clean);
  });
  CHECK(f.loop.run_until([&] { return server.connections() == 2; }));
  server.stop();
  CHECK(f.loop.run_until([&] { return client.done() && f.count("disconnect") == 2; }));
  client.join();
  CHECK(server.connections() == 0);
  CHECK(a_rest.empty());
  CHECK(b_rest.empty());
  CHECK(f.count("disconnect") == 2);  // on_closed only: no EOF came first
}

TEST_CASE("a port already in use comes back from listen() as Errc::busy") {
  Fixture f;
  net::SessionServer first(f.clock, {});
  REQUIRE(first.listen(f.loop.get(), {}, f.accept(0)));
  net::SessionServer second(f.clock, {});
  net::ListenerOptions taken;
  taken.port = first.port(0);
  auto listening = second.listen(f.loop.get(), taken, f.accept(0));
  REQUIRE_FALSE(listening);
  CHECK(listening.error().code == core::Errc::busy);
  CHECK(second.port(0) == 0);
  CHECK(second.connections() == 0);
}

TEST_CASE("SessionHandler: input in order, an EOF told once, then the close") {
  Fixture f;
  net::SessionServer server(f.clock, {});
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(0)));
  std::string got;
  test::ClientThread client([&, port = server.port(0)] {
    test::Client c;
    if (!c.connect(port)) return;
    c.read_until("\n");
    c.send_all("a\nb\nc\n");
    c.shutdown_write();
    got = c.read_to_eof();
  });
  CHECK(f.loop.run_until([&] { return client.done() && server.connections() == 0; }));
  client.join();
  CHECK(got == "6553f1001 got a\n6553f1001 got b\n6553f1001 got c\n");
  CHECK(f.log ==
        std::vector<std::string>{"line a", "line b", "line c", "disconnect", "closed 6553f1001"});
}

TEST_CASE("SessionHandler: the timeout goes to the session") {
  Fixture f;
  f.timeout = std::chrono::milliseconds(20);
  net::SessionServer server(f.clock, {});
  REQUIRE(server.listen(f.loop.get(), {}, f.accept(0)));
  std::string got;
  test::ClientThread client([&, port = server.port(0)] {
    test::Client c;
    if (!c.connect(port)) return;
    c.read_until("\n");
    got = c.read_to_eof();  // says nothing until the server gives up
  });
  CHECK(f.loop.run_until([&] { return client.done() && server.connections() == 0; }));
  client.join();
  CHECK(got == "timed out\n");
  REQUIRE(f.log.size() >= 2);
  CHECK(f.log.front() == "timeout");
  CHECK(f.log.back() == "closed 6553f1001");
}
