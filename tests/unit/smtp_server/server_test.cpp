// smtp::Server and Conversation (the glue) over loopback with a real store and the inline
// executor: a pipelined message stored, and a DATA broken by a drop kept as a labelled
// partial (Delivery::keep_partial) when the owner asks for it.
#include "smtp/server.h"

#include <doctest/doctest.h>

#include "core/clock.h"
#include "net/test_service.h"
#include "store/mailbox.h"
#include "store/store_fixture.h"

namespace postern::smtp {
namespace {

using store::testing::add_users;
using store::testing::mailbox_of;
using store::testing::options_for;

constexpr const char* kUser = "a@x.org";

struct Fixture {
  explicit Fixture(dedup::PartialPolicy partial)
      : env(store::testing::open_store(options_for(dir.path()))) {
    add_users(*env, {kUser});
    ServerOptions options;
    options.listen.name = "smtp";
    options.limits.hostname = "glue.test";
    dedup::Settings settings;
    settings.partial = partial;
    ServerDeps deps{*env,
                    writer,
                    executor,
                    clock,
                    nullptr,
                    [&](const core::Error&) { ++fatal; },
                    [settings] { return settings; },
                    [&](const std::string&) { ++broken; }};
    auto started = Server::start(loop.get(), std::move(options), std::move(deps));
    REQUIRE(started.has_value());
    server = std::move(*started);
  }
  ~Fixture() {
    server->stop();
    server.reset();
  }
  std::vector<store::MessageInfo> stored() {
    return *store::list_messages(*env, mailbox_of(*env, kUser));
  }

  test::TempDir dir;
  std::unique_ptr<store::Env> env;
  core::InlineExecutor executor;
  store::Writer writer{*env, executor};
  core::ManualClock clock;
  int fatal = 0;
  int broken = 0;
  test::Loop loop;
  std::unique_ptr<Server> server;
};

const std::string kEnvelope =
    "EHLO client.test\r\nMAIL FROM:<s@y.org>\r\nRCPT TO:<a@x.org>\r\nDATA\r\n";

}  // namespace

TEST_CASE("a pipelined message goes through the glue into the store") {
  Fixture f(dedup::PartialPolicy::discard);
  std::string all;
  test::ClientThread client([&, port = f.server->port()] {
    test::Client c;
    if (!c.connect(port)) return;
    c.read_until("\r\n");
    c.send_all("EHLO client.test\r\n");
    c.read_until("250 ");
    c.read_until("\r\n");
    c.send_all("MAIL FROM:<s@y.org>\r\nRCPT TO:<a@x.org>\r\nDATA\r\n");
    c.read_until("354");
    c.read_until("\r\n");
    c.send_all("Subject: glue\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    all = c.read_to_eof();
  });
  CHECK(f.loop.run_until([&] { return client.done() && f.server->connections() == 0; }));
  client.join();
  CHECK(all.rfind("250 2.0.0", 0) == 0);  // the message, then QUIT's 221
  CHECK(all.find("221 ") != std::string::npos);
  auto messages = f.stored();
  REQUIRE(messages.size() == 1);
  CHECK((messages[0].flags & store::kFlagPartial) == 0);
  CHECK(f.broken == 0);
  CHECK(f.fatal == 0);
}

TEST_CASE("a DATA broken by a drop is kept as a labelled partial when the owner asks") {
  for (auto policy : {dedup::PartialPolicy::keep_as_alert, dedup::PartialPolicy::discard}) {
    const bool keep = policy == dedup::PartialPolicy::keep_as_alert;
    INFO("keep: " << keep);
    Fixture f(policy);
    test::ClientThread client([&, port = f.server->port()] {
      test::Client c;
      if (!c.connect(port)) return;
      c.read_until("\r\n");
      c.send_all("EHLO client.test\r\n");
      c.read_until("250 ");
      c.read_until("\r\n");
      c.send_all("MAIL FROM:<s@y.org>\r\nRCPT TO:<a@x.org>\r\nDATA\r\n");
      c.read_until("354");
      c.read_until("\r\n");
      c.send_all("Subject: cut short\r\n\r\nthe first half of the body\r\n");
      // The client goes away here: no final ".".
    });
    CHECK(f.loop.run_until([&] { return client.done() && f.server->connections() == 0; }));
    client.join();
    CHECK(f.broken == 1);  // the link service may trace the peer
    auto messages = f.stored();
    if (keep) {
      REQUIRE(messages.size() == 1);
      CHECK((messages[0].flags & store::kFlagPartial) != 0);
      const std::string body =
          store::testing::read_body(*f.env, messages[0].body, messages[0].size);
      CHECK(body.find("the first half of the body") != std::string::npos);
    } else {
      CHECK(messages.empty());
    }
    CHECK(f.fatal == 0);
  }
}

}  // namespace postern::smtp
