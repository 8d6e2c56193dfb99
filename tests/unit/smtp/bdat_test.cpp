// CHUNKING (RFC 3030) through the session: BDAT chunks, LAST, sizes, and mixing with DATA and RSET.
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;

namespace {

const std::string kEnvelope =
    "EHLO client.example.net\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n";

std::vector<std::string> enveloped() {
  return lines({{kGreeting},
                ehlo_reply(),
                {"S: 250 2.1.0 Sender ok", "check bob@example.org", "S: 250 2.1.5 Recipient ok"}});
}

const std::string kBegin = "begin from=<alice@example.net> to=<bob@example.org> bdat";
const std::string kTooBig =
    "S: 552 5.3.4 Message too big: this mailbox accepts at most 10000 octets; send a link to "
    "the file instead, or split it into smaller messages";

}  // namespace

TEST_CASE("BDAT chunks are stored as sent and BDAT 0 LAST ends the message") {
  Run run = feed_all_ways({client(kEnvelope + "BDAT 5\r\nhelloBDAT 0 LAST\r\n"), commit_ok()});
  CHECK(run.transcript == lines({enveloped(),
                                 {kBegin, "data 5", "S: 250 2.0.0 5 octets received", "end",
                                  "S: 250 2.0.0 Ok: queued as s1.1"}}));
  CHECK(run.bodies == std::vector<std::string>{"hello"});
}

TEST_CASE("a BDAT chunk is binary: no dot-unstuffing and no line-ending checks") {
  std::string chunk = "a\r\n.\r\n..b\nc\rQUIT\r\n";
  Run run = feed_all_ways(
      {client(kEnvelope + "BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk),
       commit_ok()});
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok: queued as s1.1");
  CHECK(run.bodies == std::vector<std::string>{chunk});
}

TEST_CASE("a BDAT chunk holding one 200 000-octet line is stored as sent") {
  // No line length limit in BDAT either: only the message size counts, and the
  // chunk streams to the host in pieces of at most 64 KiB (RecordingHost checks).
  Limits limits = test_limits();
  limits.max_message_bytes = 1 << 20;
  std::string chunk = "Subject: b\r\n\r\n" + std::string(200 * 1000, 'Q') + "\r\n";
  Run run = feed_all_ways(
      {client(kEnvelope + "BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk),
       commit_ok()},
      limits);
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok: queued as s1.1");
  CHECK(run.bodies == std::vector<std::string>{chunk});
}

TEST_CASE("BDAT 0 LAST alone sends an empty message") {
  Run run = feed_all_ways({client(kEnvelope + "BDAT 0 LAST\r\n"), commit_ok()});
  CHECK(run.transcript == lines({enveloped(), {kBegin, "end", "S: 250 2.0.0 Ok: queued as s1.1"}}));
  CHECK(run.bodies == std::vector<std::string>{""});
}

TEST_CASE("a BDAT in the wrong state still has its chunk read past before 503") {
  // The payload holds a command line that must never run.
  Run run = feed_all_ways({client("EHLO c.example\r\nBDAT 6\r\nQUIT\r\nNOOP\r\n")});
  CHECK(run.transcript == lines({{kGreeting},
                                 ehlo_reply(),
                                 {"S: 503 5.5.1 Bad sequence of commands: send MAIL FROM first",
                                  "S: 250 2.0.0 Ok"}}));
}

TEST_CASE("BDAT without an accepted recipient reads the chunk and answers 554") {
  Run run = feed_all_ways(
      {client("EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nBDAT 3 LAST\r\nabcNOOP\r\n")});
  CHECK(run.transcript.end()[-2] == "S: 554 5.5.1 No valid recipients; send RCPT TO first");
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
}

TEST_CASE("DATA after BDAT is 503, and RSET aborts the BDAT message") {
  Run run = feed_all_ways(
      {client(kEnvelope + "BDAT 3\r\nabcDATA\r\nRSET\r\n" + "MAIL FROM:<a@example.net>\r\n")});
  CHECK(run.transcript ==
        lines({enveloped(),
               {kBegin, "data 3", "S: 250 2.0.0 3 octets received",
                "S: 503 5.5.1 Bad sequence of commands: send the next BDAT chunk, or RSET",
                "abort reset", "S: 250 2.0.0 Ok", "S: 250 2.1.0 Sender ok"}}));
  CHECK(run.bodies.empty());
}

TEST_CASE("BDAT after DATA's end starts a new message only after a new MAIL") {
  Run run = feed_all_ways(
      {client(kEnvelope + "DATA\r\nx\r\n.\r\n"), commit_ok(), client("BDAT 1 LAST\r\nyNOOP\r\n")});
  CHECK(run.transcript.end()[-2] == "S: 503 5.5.1 Bad sequence of commands: send MAIL FROM first");
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
}

TEST_CASE("a BDAT chunk larger than the limit is aborted at once and refused after it is read") {
  std::string big(10001, 'z');
  Run run = feed_all_ways({client(kEnvelope + "BDAT 10001 LAST\r\n" + big + "NOOP\r\n")});
  CHECK(run.transcript ==
        lines({enveloped(), {kBegin, "abort too_big", kTooBig, "S: 250 2.0.0 Ok"}}));
  CHECK(run.state == "ready");
}

TEST_CASE("BDAT chunks that add up past the limit fail the message; later chunks get 552 too") {
  std::string six(6000, 's');
  Run run = feed_all_ways({client(kEnvelope + "BDAT 6000\r\n" + six + "BDAT 6000\r\n" + six +
                                  "BDAT 3 LAST\r\nendNOOP\r\n")});
  CHECK(run.transcript == lines({enveloped(),
                                 {kBegin, "data 6000", "S: 250 2.0.0 6000 octets received",
                                  "abort too_big", kTooBig, kTooBig, "S: 250 2.0.0 Ok"}}));
}

TEST_CASE("BDAT needs a size") {
  Run run = feed_all_ways({client(kEnvelope + "BDAT\r\nBDAT x\r\nBDAT 5 NOW\r\n")});
  const std::string reply = "S: 501 5.5.4 Syntax error: use BDAT <octets> [LAST]";
  CHECK(run.transcript == lines({enveloped(), {reply, reply, reply}}));
}

TEST_CASE("QUIT between BDAT chunks aborts the message") {
  Run run = feed_all_ways({client(kEnvelope + "BDAT 2\r\nabQUIT\r\n")});
  CHECK(run.transcript.end()[-3] == "abort reset");
  CHECK(run.transcript.end()[-2] == "S: 221 2.0.0 mx.example.org closing connection");
}

TEST_CASE("a disconnect or a timeout inside a BDAT chunk aborts the message") {
  SUBCASE("disconnect") {
    Run run = feed_all_ways({client(kEnvelope + "BDAT 10\r\nabc"), disconnect()});
    CHECK(run.transcript.back() == "abort connection_lost");
  }
  SUBCASE("timeout") {
    Run run = feed_all_ways({client(kEnvelope + "BDAT 10\r\nabc"), timeout()});
    CHECK(run.transcript.end()[-3] == "abort timeout");
  }
}
