// net::SessionLink over a real loopback connection: lines offered in order and never
// re-entered, the drop told once (EOF then close), nothing sent after close, STARTTLS
// without a certificate a no-op.
#include "net/session_link.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "net/listener.h"
#include "net/test_service.h"

using namespace postern;

namespace {

// A line-echo "session": each whole line comes back as "got <line>". A line "nest" makes
// the handler offer again from inside feed(), as a completion from an inline executor would.
struct LineHandler final : net::ConnectionHandler {
  explicit LineHandler(net::Connection& conn, std::vector<std::string>& log)
      : link(conn), log(log) {}
  std::size_t feed(std::string_view bytes) {
    const std::size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) return 0;
    const std::string line(bytes.substr(0, lf));
    log.push_back("line " + line);
    if (line == "nest") log.push_back(offer() ? "nested offer ran" : "nested offer refused");
    if (line == "tls") link.start_tls(nullptr);  // no certificate: nothing happens
    link.send("got " + line + "\n");
    if (line == "quit") link.close();
    return lf + 1;
  }
  bool offer() {
    return link.offer([this](std::string_view b) { return feed(b); }, [] { return true; });
  }
  void on_input(net::Connection&) override { offer(); }
  void on_eof(net::Connection& conn) override {
    link.on_eof(conn, [this] { log.push_back("told"); });
  }
  void on_timeout(net::Connection& conn) override { conn.abort(); }
  void on_closed(net::Connection&) override {
    link.on_closed([this] { log.push_back("told"); });
    log.push_back(link.open() ? "still open" : "closed");
    link.send(std::string("after close\n"));  // ignored
    link.close();
    delete this;
  }
  net::SessionLink link;
  std::vector<std::string>& log;
};

std::unique_ptr<net::Listener> listen(test::Loop& loop, std::vector<std::string>& log,
                                      int& accepted) {
  auto listener = net::Listener::start(loop.get(), {}, [&](net::Connection& conn) {
    ++accepted;
    return new LineHandler(conn, log);
  });
  REQUIRE(listener);
  return std::move(*listener);
}

}  // namespace

TEST_CASE("SessionLink offers lines in order, never re-entered, and tells an EOF once") {
  test::Loop loop;
  std::vector<std::string> log;
  int accepted = 0;
  auto listener = listen(loop, log, accepted);
  std::string got;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port)) return;
    c.send_all("one\nnest\ntls\ntwo\n");
    c.shutdown_write();
    got = c.read_to_eof();
  });
  CHECK(loop.run_until([&] { return client.done() && !log.empty() && log.back() == "closed"; }));
  client.join();
  CHECK(accepted == 1);
  CHECK(got == "got one\ngot nest\ngot tls\ngot two\n");
  CHECK(log == std::vector<std::string>{"line one", "line nest", "nested offer refused", "line tls",
                                        "line two", "told", "closed"});
}

TEST_CASE("SessionLink closes after the flush and tells a drop without EOF once") {
  test::Loop loop;
  std::vector<std::string> log;
  int accepted = 0;
  auto listener = listen(loop, log, accepted);
  std::string got;
  test::ClientThread client([&, port = listener->bound_port()] {
    test::Client c;
    if (!c.connect(port)) return;
    c.send_all("hello\nquit\nafter quit: not answered\n");
    got = c.read_to_eof();
  });
  CHECK(loop.run_until([&] { return client.done() && !log.empty() && log.back() == "closed"; }));
  client.join();
  CHECK(got == "got hello\ngot quit\n");
  CHECK(log.front() == "line hello");
  CHECK(log.back() == "closed");
  int told = 0;
  for (const auto& line : log) told += line == "told" ? 1 : 0;
  CHECK(told == 1);
}
