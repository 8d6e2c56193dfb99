// Idle eviction (net/idle_eviction.h) as the SMTP session sees it: which states may be
// closed for a newcomer or under stress, and the 421 4.7.0 they get.
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern;
using namespace postern::smtp;
using namespace postern::smtp::test;

namespace {

struct Fixture {
  RecordingHost host;
  core::ManualClock clock;
  Limits limits = test_limits();
  Session session{host, limits, clock, Peer{"192.0.2.7", false, "s1"}};
  void feed(std::string_view bytes) { CHECK(session.feed(bytes) == bytes.size()); }
};

const std::string kEvicted =
    "S: 421 4.7.0 mx.example.org too busy, closing idle connection; try again later";

}  // namespace

TEST_CASE("waiting for a command before DATA is evictable; DATA, BDAT and commits are not") {
  Fixture f;
  CHECK(f.session.awaiting_command());  // greeted
  f.feed("EHLO client.example.net\r\n");
  CHECK(f.session.awaiting_command());
  f.feed("MAIL FROM:<a@example.net>\r\n");
  CHECK(f.session.awaiting_command());  // an envelope, no message bytes yet
  f.feed("RCPT TO:<bob@example.org>\r\n");
  CHECK(f.session.awaiting_command());
  f.feed("DATA\r\nSubject: x\r\n\r\nhalf a body\r\n");
  CHECK_FALSE(f.session.awaiting_command());  // in DATA
  f.feed(".\r\n");
  CHECK_FALSE(f.session.awaiting_command());  // the commit owes its 250
  f.session.on_committed({});
  CHECK(f.session.awaiting_command());
  f.feed("MAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\nBDAT 10\r\n12345");
  CHECK_FALSE(f.session.awaiting_command());  // inside a chunk
  f.feed("67890");
  CHECK_FALSE(f.session.awaiting_command());  // between chunks: message bytes under way
}

TEST_CASE("an evicted session gets 421 4.7.0 and closes; mid-message it never gets here") {
  Fixture f;
  f.feed("EHLO client.example.net\r\nMAIL FROM:<a@example.net>\r\n");
  f.session.on_evicted();
  REQUIRE(f.host.transcript.size() >= 2);
  CHECK(f.host.transcript[f.host.transcript.size() - 2] == kEvicted);
  CHECK(f.host.transcript.back() == "close");
  CHECK(std::string(f.session.state_name()) == "closed");
  CHECK_FALSE(f.session.awaiting_command());
  CHECK_FALSE(f.session.wants_input());
  const std::size_t replies = f.host.transcript.size();
  f.session.on_evicted();  // twice (or after the close) sends nothing more
  CHECK(f.host.transcript.size() == replies);
}

TEST_CASE("a client that stalls its STARTTLS handshake is evictable, and closed without a 421") {
  Fixture f;
  f.feed("EHLO client.example.net\r\nSTARTTLS\r\n");
  CHECK(f.host.tls_started);
  CHECK(f.session.awaiting_command());
  const std::size_t replies = f.host.transcript.size();
  f.session.on_evicted();
  CHECK(f.host.transcript.size() == replies + 1);
  CHECK(f.host.transcript.back() == "close");  // no plaintext into the TLS stream
  CHECK(std::string(f.session.state_name()) == "closed");
}
