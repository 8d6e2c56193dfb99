// pop3::Server and Conversation (the glue) over loopback with a real store and the inline
// executor: a pipelined session end to end, the listing streamed through the write-queue
// drains of a small high-water mark, and a drop while the UPDATE is pending.
#include "pop3/server.h"

#include <doctest/doctest.h>

#include <atomic>
#include <set>

#include "core/clock.h"
#include "net/test_service.h"
#include "store/mailbox.h"
#include "store/password.h"
#include "store/store_fixture.h"

namespace postern::pop3 {
namespace {

using store::testing::add_users;
using store::testing::deliver_now;
using store::testing::mailbox_of;
using store::testing::memory_body;
using store::testing::options_for;
using store::testing::request_to;

constexpr const char* kUser = "a@x.org";
constexpr const char* kPassword = "glue-test-password";

// A store with `count` messages for kUser ("message <n>\r\n"), a password, and a server on
// 127.0.0.1 whose write queue holds only a few KiB, so long replies go out in drains.
struct Fixture {
  explicit Fixture(int count) : env(store::testing::open_store(options_for(dir.path()))) {
    add_users(*env, {kUser});
    auto set = store::run_write(*env, [&](store::WriteTxn& txn) {
      return store::set_password_hash(
          txn, kUser, store::hash_password(kPassword, env->options().pbkdf2_iterations));
    });
    REQUIRE(set.has_value());
    for (int n = 1; n <= count; ++n)
      REQUIRE(deliver_now(
          *env, request_to(memory_body("message " + std::to_string(n) + "\r\n"), {kUser})));
    ServerOptions options;
    options.listen.name = "pop3";
    options.buffers.high_water_bytes = 4 * 1024;
    options.buffers.low_water_bytes = 1024;
    options.limits.greeting_host = "glue.test";
    options.throttle.max_delay = core::Seconds(0);
    ServerDeps deps{*env, writer, executor, clock, nullptr, [&](const core::Error&) { ++fatal; }};
    auto started = Server::start(loop.get(), std::move(options), std::move(deps));
    REQUIRE(started.has_value());
    server = std::move(*started);
  }
  ~Fixture() {
    server->stop();
    server.reset();
  }
  std::size_t stored() { return store::list_messages(*env, mailbox_of(*env, kUser))->size(); }

  test::TempDir dir;
  std::unique_ptr<store::Env> env;
  core::InlineExecutor executor;
  store::Writer writer{*env, executor};
  core::ManualClock clock;
  int fatal = 0;
  test::Loop loop;
  std::unique_ptr<Server> server;
};

std::string uidl_of(const Fixture& f, std::size_t index) {
  auto list = store::list_messages(*f.env, mailbox_of(*f.env, kUser));
  return store::uidl((*list)[index].unique_id);
}

}  // namespace

TEST_CASE("a pipelined POP3 session through the glue: login, listings, RETR, DELE, QUIT") {
  constexpr int kCount = 400;  // UIDL and LIST are several times the 4 KiB high-water mark
  Fixture f(kCount);
  auto list = store::list_messages(*f.env, mailbox_of(*f.env, kUser));  // before the DELE
  REQUIRE(list->size() == kCount);
  const std::string first_uidl = uidl_of(f, 0);
  std::string greeting, reply;
  test::ClientThread client([&, port = f.server->port()] {
    test::Client c;
    if (!c.connect(port)) return;
    greeting = c.read_until("\r\n");
    c.send_all(std::string("USER ") + kUser + "\r\nPASS " + kPassword +
               "\r\nSTAT\r\nUIDL\r\nLIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n");
    reply = c.read_to_eof();
  });
  CHECK(f.loop.run_until([&] { return client.done() && f.server->connections() == 0; }));
  client.join();
  CHECK(greeting == "+OK glue.test POP3 server ready\r\n");
  std::string expected = "+OK Send PASS\r\n";
  std::uint64_t octets = 0;
  for (int n = 1; n <= kCount; ++n) octets += ("message " + std::to_string(n) + "\r\n").size();
  const std::string totals =
      std::to_string(kCount) + " messages (" + std::to_string(octets) + " octets)";
  expected += "+OK Logged in, " + totals + "\r\n";
  expected += "+OK " + std::to_string(kCount) + " " + std::to_string(octets) + "\r\n";
  expected += "+OK Unique-ID listing follows\r\n";
  for (int n = 1; n <= kCount; ++n)
    expected += std::to_string(n) + " " + store::uidl((*list)[n - 1].unique_id) + "\r\n";
  expected += ".\r\n+OK " + totals + "\r\n";
  for (int n = 1; n <= kCount; ++n)
    expected += std::to_string(n) + " " +
                std::to_string(("message " + std::to_string(n) + "\r\n").size()) + "\r\n";
  expected += ".\r\n+OK 11 octets\r\nmessage 1\r\n.\r\n";
  expected += "+OK Message 1 marked deleted\r\n";
  expected += "+OK postern signing off (" + std::to_string(kCount - 1) + " messages left)\r\n";
  CHECK(reply.size() == expected.size());
  CHECK(reply == expected);
  CHECK(f.stored() == kCount - 1);
  CHECK(uidl_of(f, 0) != first_uidl);
  CHECK(f.server->locked_maildrops() == 0);
  CHECK(f.fatal == 0);
}

TEST_CASE("the maildrop lock is held by the session and released when it drops") {
  Fixture f(3);
  std::atomic<int> step{0};
  std::string second;
  test::ClientThread client([&, port = f.server->port()] {
    test::Client one;
    if (!one.connect(port)) return;
    one.read_until("\r\n");
    one.send_all(std::string("USER ") + kUser + "\r\nPASS " + kPassword + "\r\n");
    one.read_until("Logged in");
    one.read_until("\r\n");
    step = 1;
    test::Client two;
    if (!two.connect(port)) return;
    two.read_until("\r\n");
    two.send_all(std::string("USER ") + kUser + "\r\nPASS " + kPassword + "\r\n");
    two.read_until("\r\n");
    second = two.read_until("\r\n");
    step = 2;
    one.send_all("DELE 1\r\n");  // then a drop without QUIT: no UPDATE (RFC 1939 §6)
    one.read_until("\r\n");
  });
  CHECK(f.loop.run_until([&] { return client.done() && f.server->connections() == 0; }));
  client.join();
  CHECK(step == 2);
  CHECK(second.rfind("-ERR [IN-USE]", 0) == 0);
  CHECK(f.server->locked_maildrops() == 0);
  CHECK(f.stored() == 3);
}

}  // namespace postern::pop3
