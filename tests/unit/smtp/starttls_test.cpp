// STARTTLS (RFC 3207) through the session: no plaintext read past the command, a fresh start after.
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;

TEST_CASE(
    "bytes pipelined after STARTTLS are not consumed, and after the handshake EHLO is needed") {
  Run run = feed_all_ways(
      {client("EHLO c.example\r\nSTARTTLS\r\nMAIL FROM:<evil@example.net>\r\n"), tls_ready(),
       client("MAIL FROM:<a@example.net>\r\nEHLO c.example\r\n"
              "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 220 2.0.0 Ready to start TLS", "start_tls", "net discards 30 bytes",
                "S: 503 5.5.1 Bad sequence of commands: send EHLO or HELO first"},
               ehlo_reply(/*starttls=*/false),
               {"S: 250 2.1.0 Sender ok", "check b@example.org", "S: 250 2.1.5 Recipient ok",
                "begin from=<a@example.net> to=<b@example.org>",
                "S: 354 End data with <CR><LF>.<CR><LF>"}}));
  REQUIRE(run.traces.size() == 1);
  CHECK(run.traces[0].find("with ESMTPS id") != std::string::npos);
}

TEST_CASE("feed returns right after the STARTTLS line and wants no input until the handshake") {
  RecordingHost host;
  postern::core::ManualClock clock;
  Limits limits = test_limits();
  Session s(host, limits, clock, Peer{"192.0.2.7", false, "s1"});
  std::string head = "EHLO c.example\r\nSTARTTLS\r\n";
  CHECK(s.feed(head + "NOOP\r\n") == head.size());
  CHECK_FALSE(s.wants_input());
  CHECK(s.feed("NOOP\r\n") == 0);
  s.on_tls_ready();
  CHECK(s.wants_input());
  CHECK(std::string(s.state_name()) == "connected");
}

TEST_CASE("STARTTLS is refused when unavailable, with arguments, before EHLO or in a transaction") {
  SUBCASE("unavailable, and not advertised") {
    Limits limits = test_limits();
    limits.tls_available = false;
    Run run = feed_all_ways({client("EHLO c.example\r\nSTARTTLS\r\n")}, limits);
    CHECK(run.transcript ==
          lines({{kGreeting}, ehlo_reply(false), {"S: 502 5.5.1 STARTTLS not available"}}));
  }
  SUBCASE("with arguments") {
    Run run = feed_all_ways({client("EHLO c.example\r\nSTARTTLS now\r\n")});
    CHECK(run.transcript.back() == "S: 501 5.5.4 Syntax error: STARTTLS takes no arguments");
  }
  SUBCASE("before EHLO") {
    Run run = feed_all_ways({client("STARTTLS\r\n")});
    CHECK(run.transcript.back() ==
          "S: 503 5.5.1 Bad sequence of commands: send EHLO or HELO first");
  }
  SUBCASE("in a transaction") {
    Run run =
        feed_all_ways({client("EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nSTARTTLS\r\n")});
    CHECK(run.transcript.back() ==
          "S: 503 5.5.1 Bad sequence of commands: send RCPT TO first, or RSET");
  }
  SUBCASE("twice") {
    Run run = feed_all_ways(
        {client("EHLO c.example\r\nSTARTTLS\r\n"), tls_ready(), client("EHLO c\r\nSTARTTLS\r\n")});
    CHECK(run.transcript.back() == "S: 503 5.5.1 TLS already active");
  }
}

TEST_CASE("implicit TLS is not offered STARTTLS and is recorded as ESMTPS") {
  RecordingHost host;
  postern::core::ManualClock clock;
  Limits limits = test_limits();
  Session s(host, limits, clock, Peer{"192.0.2.7", true, "s9"});
  std::string in =
      "EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";
  CHECK(s.feed(in) == in.size());
  CHECK(std::find(host.transcript.begin(), host.transcript.end(), "S: 250-STARTTLS") ==
        host.transcript.end());
  REQUIRE(host.traces.size() == 1);
  CHECK(host.traces[0].find("with ESMTPS id s9.1") != std::string::npos);
}

TEST_CASE("a timeout during the TLS handshake closes without a plaintext reply") {
  Run run = feed_all_ways({client("EHLO c.example\r\nSTARTTLS\r\n"), timeout()});
  CHECK(run.transcript.end()[-3] == "S: 220 2.0.0 Ready to start TLS");
  CHECK(run.transcript.end()[-2] == "start_tls");
  CHECK(run.transcript.back() == "close");
  CHECK(run.state == "closed");
}
