// Hostile peers at the command level: control bytes, lines that never end, and
// other protocols (HTTP) on the SMTP port. Each reply is checked whole, byte at a
// time and in random splits.
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;
using namespace std::string_literals;

namespace {

const std::string kEhlo = "EHLO client.example.net\r\n";
const std::string kControl =
    "S: 501 5.5.2 Syntax error: control character in the command line; send printable text only";
const std::string kTooLong = "S: 500 5.5.6 Line too long; command lines are limited to 512 octets";
const std::string kOtherProtocol =
    "S: 554 5.7.0 This is an SMTP mail server, not a web server; closing connection";
const std::string kNeverEnds =
    "S: 421 4.7.0 mx.example.org command line without end, closing connection";

}  // namespace

TEST_CASE("a NUL in MAIL FROM is 501 5.5.2 and never reaches the envelope") {
  Run run = feed_all_ways({client(kEhlo + "MAIL FROM:<a\0b@example.net>\r\n"s +
                                  "MAIL FROM:<ab@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
                                  "DATA\r\n.\r\n"),
                           commit_ok()});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {kControl, "S: 250 2.1.0 Sender ok", "check bob@example.org",
                "S: 250 2.1.5 Recipient ok", "begin from=<ab@example.net> to=<bob@example.org>",
                "S: 354 End data with <CR><LF>.<CR><LF>", "end",
                "S: 250 2.0.0 Ok: queued as s1.1"}}));
  REQUIRE(run.traces.size() == 1);
  CHECK(run.traces[0].find('\0') == std::string::npos);
}

TEST_CASE("every C0 control and DEL in any command line is 501 5.5.2") {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\r' || c == '\n') continue;  // line endings: their own replies
    for (std::string line : {std::string("NOOP x") + char(c), std::string("EHLO a") + char(c) + "b",
                             std::string("RCPT TO:<b") + char(c) + "@example.org>"}) {
      CAPTURE(c);
      Run run = feed_all_ways({client(line + "\r\nNOOP\r\n")});
      CHECK(run.transcript == std::vector<std::string>{kGreeting, kControl, "S: 250 2.0.0 Ok"});
    }
  }
  Run del = feed_all_ways({client(kEhlo + "MAIL FROM:<a\x7f@example.net>\r\n")});
  CHECK(del.transcript.back() == kControl);
  CHECK(del.state == "ready");
}

TEST_CASE("a command line that never ends is answered 500 5.5.6 as soon as it passes 512") {
  // Only 600 octets so far and no CRLF: the reply must not wait for one.
  Run run = feed_all_ways({client(kEhlo + std::string(600, 'x'))});
  CHECK(run.transcript == lines({{kGreeting}, ehlo_reply(), {kTooLong}}));
  CHECK(run.state == "ready");
  CHECK(run.leftover == 0);  // discarded, not buffered
}

TEST_CASE("the rest of an over-long line is discarded and the next line is served") {
  Run run = feed_all_ways({client(std::string(3000, 'x')), client("yz\r\nNOOP\r\n")});
  CHECK(run.transcript == std::vector<std::string>{kGreeting, kTooLong, "S: 250 2.0.0 Ok"});
}

TEST_CASE("after max_discarded_command_bytes without a line end the session closes with 421") {
  // The harness sets the bound to 4096 octets; the count includes the first 512.
  SUBCASE("one octet short of the bound, then the end: served on") {
    Run run = feed_all_ways({client(std::string(4095, 'x') + "\nNOOP\r\n")});
    CHECK(run.transcript == std::vector<std::string>{kGreeting, kTooLong, "S: 250 2.0.0 Ok"});
  }
  SUBCASE("the bound reached: 421 and close, the rest never read") {
    Run run = feed_all_ways({client(std::string(4096, 'x') + "\r\nNOOP\r\n")});
    CHECK(run.transcript == std::vector<std::string>{kGreeting, kTooLong, kNeverEnds, "close"});
    CHECK(run.state == "closed");
    CHECK(run.leftover == 8);
  }
  SUBCASE("100 KB without CRLF") {
    Run run = feed_all_ways({client(std::string(100 * 1000, 'x'))});
    CHECK(run.transcript == std::vector<std::string>{kGreeting, kTooLong, kNeverEnds, "close"});
  }
}

TEST_CASE("an over-long line counts as an error towards max_errors") {
  Limits limits = test_limits();
  limits.max_errors = 2;
  Run run = feed_all_ways({client("FOO\r\n" + std::string(700, 'x') + "\r\nNOOP\r\n")}, limits);
  CHECK(run.transcript ==
        std::vector<std::string>{kGreeting, "S: 500 5.5.2 Command unrecognised; try HELP", kTooLong,
                                 "S: 421 4.7.0 mx.example.org too many errors, closing connection",
                                 "close"});
}

TEST_CASE("an HTTP request on the SMTP port gets one reply, no echo, and the close") {
  for (std::string first :
       {"GET / HTTP/1.1", "POST /api/login HTTP/1.1", "HEAD / HTTP/1.0", "PUT /x HTTP/1.1",
        "CONNECT mx.example.org:25 HTTP/1.1", "OPTIONS * HTTP/1.1", "get /lower HTTP/1.1",
        "Host: mx.example.org", "User-Agent: curl/7.88", "X-Anything:value"}) {
    CAPTURE(first);
    std::string request = first + "\r\nHost: mx.example.org\r\nContent-Length: 4\r\n\r\nQUIT";
    Run run = feed_all_ways({client(request)});
    CHECK(run.transcript == std::vector<std::string>{kGreeting, kOtherProtocol, "close"});
    CHECK(run.state == "closed");
  }
}

TEST_CASE("an HTTP request with bare LF line ends is recognised too") {
  Run run = feed_all_ways({client("GET / HTTP/1.0\nHost: x\n\n")});
  CHECK(run.transcript == std::vector<std::string>{kGreeting, kOtherProtocol, "close"});
}

TEST_CASE("an HTTP request line longer than 512 octets is still recognised") {
  Run run = feed_all_ways({client("GET /" + std::string(2000, 'a') + " HTTP/1.1\r\n")});
  CHECK(run.transcript == std::vector<std::string>{kGreeting, kOtherProtocol, "close"});
}

TEST_CASE("after TLS starts the first command is checked again") {
  Run run = feed_all_ways(
      {client(kEhlo + "STARTTLS\r\n"), tls_ready(), client("GET / HTTP/1.1\r\nHost: x\r\n\r\n")});
  CHECK(run.transcript.end()[-2] == kOtherProtocol);
  CHECK(run.transcript.back() == "close");
}

TEST_CASE("SMTP lines that merely contain a colon or an HTTP word are not refused") {
  Run run = feed_all_ways(
      {client("NOOP GET / HTTP/1.1\r\nHELO [IPv6:2001:db8::1]\r\nMAIL FROM:<a@example.net>\r\n"
              "RSET\r\nGET / HTTP/1.1\r\n")});
  CHECK(run.transcript ==
        std::vector<std::string>{kGreeting, "S: 250 2.0.0 Ok", "S: 250 mx.example.org",
                                 "S: 250 2.1.0 Sender ok", "S: 250 2.0.0 Ok",
                                 // After HELO a stray "GET" is only an unknown command.
                                 "S: 500 5.5.2 Command unrecognised; try HELP"});
}
