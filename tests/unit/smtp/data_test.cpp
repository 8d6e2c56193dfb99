// DATA through the session: dot-unstuffing, line endings (smuggling), long lines and SIZE.
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;

namespace {

const std::string kOpen =
    "EHLO client.example.net\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
    "DATA\r\n";

std::vector<std::string> opened() {
  return lines({{kGreeting},
                ehlo_reply(),
                {"S: 250 2.1.0 Sender ok", "check bob@example.org", "S: 250 2.1.5 Recipient ok",
                 "begin from=<alice@example.net> to=<bob@example.org>",
                 "S: 354 End data with <CR><LF>.<CR><LF>"}});
}

const std::string kBareReply =
    "S: 550 5.6.0 Message rejected: bare CR or LF in the data; send CRLF line endings (RFC 5321 "
    "§2.3.8)";

}  // namespace

TEST_CASE("an empty message ends at the first dot line") {
  Run run = feed_all_ways({client(kOpen + ".\r\n"), commit_ok()});
  CHECK(run.transcript == lines({opened(), {"end", "S: 250 2.0.0 Ok: queued as s1.1"}}));
  CHECK(run.bodies == std::vector<std::string>{""});
}

TEST_CASE("dot-stuffed lines are unstuffed, including a line that is only two dots") {
  Run run = feed_all_ways({client(kOpen + "..\r\n...x\r\n.y\r\nz.\r\n\r\n.\r\n"), commit_ok()});
  REQUIRE(run.bodies.size() == 1);
  CHECK(run.bodies[0] == ".\r\n..x\r\ny\r\nz.\r\n\r\n");
}

TEST_CASE("binary octets and 8-bit text pass through unchanged") {
  std::string body = std::string("caf\xc3\xa9\t\x01\x7f\xff", 9) + "\r\n";
  Run run = feed_all_ways({client(kOpen + body + ".\r\n"), commit_ok()});
  REQUIRE(run.bodies.size() == 1);
  CHECK(run.bodies[0] == body);
}

TEST_CASE("a large message reaches the host in pieces of at most 64 KiB") {
  Limits limits = test_limits();
  limits.max_message_bytes = 1 << 20;
  std::string line = std::string(998, 'a') + "\r\n";
  std::string body;
  while (body.size() < 200 * 1024) body += line;
  RecordingHost host;
  postern::core::ManualClock clock;
  Session s(host, limits, clock, Peer{"192.0.2.7", false, "s1"});
  std::string all = kOpen + body + ".\r\n";
  CHECK(s.feed(all) == all.size());  // RecordingHost checks each piece is <= 64 KiB
  REQUIRE(host.bodies.size() == 1);
  CHECK(host.bodies[0] == body);
}

TEST_CASE("bare LF and bare CR never end DATA and never smuggle a second message") {
  // Each attempt hides "MAIL/RCPT/DATA" after a fake terminator; the true end
  // follows. The message is refused, the hidden commands are never run, and the
  // command after the true end is answered exactly once.
  const std::string smuggled =
      "MAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nforged\r\n";
  for (const char* fake : {"\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\n.\r"}) {
    CAPTURE(fake);
    Run run = feed_all_ways({client(kOpen + "legit" + fake + smuggled + ".\r\nNOOP\r\n")});
    // The host sees exactly the octets before the offending one, then the abort.
    std::string seen = std::string(fake).rfind("\r\n", 0) == 0 ? "data 7" : "data 5";
    CHECK(run.transcript ==
          lines({opened(), {seen, "abort bad_line_ending", kBareReply, "S: 250 2.0.0 Ok"}}));
    CHECK(run.bodies.empty());
    CHECK(run.state == "ready");
  }
}

TEST_CASE("a bare LF anywhere in the body rejects the message at the true end") {
  Run run = feed_all_ways({client(kOpen + "line one\r\nline two\nline three\r\n.\r\nNOOP\r\n")});
  CHECK(run.transcript ==
        lines({opened(), {"data 18", "abort bad_line_ending", kBareReply, "S: 250 2.0.0 Ok"}}));
}

TEST_CASE("a bare CR after a stuffed dot rejects the message") {
  Run run = feed_all_ways({client(kOpen + ".\rx\r\n.\r\n")});
  CHECK(run.transcript == lines({opened(), {"abort bad_line_ending", kBareReply}}));
}

TEST_CASE("text lines of 3 000 and 200 000 octets are accepted and stored as sent") {
  // RFC 5321 §4.5.3.1: "impose no limits on the length of these objects" where
  // possible. Cheap devices send base64 without line breaks; the only bound is
  // the message size. The net buffer the harness models never holds a line.
  Limits limits = test_limits();
  limits.max_message_bytes = 1 << 20;
  const std::string body = "Subject: camera alert\r\n\r\n" + std::string(3000, 'a') + "\r\n" +
                           std::string(200 * 1000, 'B') + "\r\n" + "." + std::string(5000, 'c') +
                           "\r\n";
  // On the wire the last line is dot-stuffed: "..ccc".
  const std::string wire = "Subject: camera alert\r\n\r\n" + std::string(3000, 'a') + "\r\n" +
                           std::string(200 * 1000, 'B') + "\r\n" + ".." + std::string(5000, 'c') +
                           "\r\n";
  Run run = feed_all_ways({client(kOpen + wire + ".\r\nNOOP\r\n"), commit_ok()}, limits);
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
  CHECK(run.transcript.end()[-2] == "S: 250 2.0.0 Ok: queued as s1.1");
  REQUIRE(run.bodies.size() == 1);
  CHECK(run.bodies[0] == body);
}

TEST_CASE("a long line past the size limit is refused with 552 5.3.4 saying what to do") {
  std::string long_line = std::string(20000, 'b') + "\r\n";
  Run run = feed_all_ways({client(kOpen + long_line + ".\r\nNOOP\r\n")});
  CHECK(run.transcript ==
        lines({opened(),
               {"data 10000", "abort too_big",
                "S: 552 5.3.4 Message too big: this mailbox accepts at most 10000 octets; send a "
                "link to the file instead, or split it into smaller messages",
                "S: 250 2.0.0 Ok"}}));
  CHECK(run.bodies.empty());
}

TEST_CASE("a stuffed dot does not count towards the message size") {
  std::string body = std::string(9998, 'a') + "\r\n";  // exactly the limit once unstuffed
  Run run = feed_all_ways({client(kOpen + "." + body + ".\r\n"), commit_ok()});
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok: queued as s1.1");
  CHECK(run.bodies == std::vector<std::string>{body});
}

TEST_CASE("a message over the size limit is discarded and refused with 552 5.3.4 at the end") {
  std::string line = std::string(98, 'x') + "\r\n";
  std::string body;
  for (int i = 0; i < 101; ++i) body += line;  // 10100 octets > 10000
  Run run = feed_all_ways({client(kOpen + body + ".\r\nNOOP\r\n")});
  REQUIRE(run.transcript.size() >= 4);
  CHECK(run.transcript.end()[-3] == "abort too_big");
  CHECK(run.transcript.end()[-2] ==
        "S: 552 5.3.4 Message too big: this mailbox accepts at most 10000 octets; send a link to "
        "the file instead, or split it into smaller messages");
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
  CHECK(run.bodies.empty());
}

TEST_CASE("a message of exactly the size limit is accepted") {
  std::string line = std::string(98, 'x') + "\r\n";
  std::string body;
  for (int i = 0; i < 100; ++i) body += line;  // 10000 octets
  Run run = feed_all_ways({client(kOpen + body + ".\r\n"), commit_ok()});
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok: queued as s1.1");
  CHECK(run.bodies == std::vector<std::string>{body});
}

TEST_CASE("DATA with arguments and DATA without recipients are refused") {
  Run run =
      feed_all_ways({client("EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nDATA\r\n"
                            "RCPT TO:<b@example.org>\r\nDATA now\r\n")});
  CHECK(run.transcript.end()[-4] == "S: 554 5.5.1 No valid recipients; send RCPT TO first");
  CHECK(run.transcript.back() == "S: 501 5.5.4 Syntax error: DATA takes no arguments");
}

TEST_CASE("a commit pipelined mid-body is not needed: the data after DATA is consumed whole") {
  RecordingHost host;
  postern::core::ManualClock clock;
  Limits limits = test_limits();
  Session s(host, limits, clock, Peer{"192.0.2.7", false, "s1"});
  std::string all = kOpen + "body\r\n.\r\nRSET\r\n";
  CHECK(s.feed(all) == all.size() - 6);  // stops after ".\r\n"
  CHECK_FALSE(s.wants_input());
  CHECK(std::string(s.state_name()) == "committing");
}
