// Session transcripts: commands, pipelining, the state table, limits and completions.
#include "smtp/session.h"

#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;
using postern::core::Errc;

namespace {

const std::string kEhlo = "EHLO client.example.net\r\n";
const std::string kMail = "MAIL FROM:<alice@example.net>\r\n";
const std::string kRcpt = "RCPT TO:<bob@example.org>\r\n";

std::vector<std::string> ehlo_mail_rcpt() {
  return lines({{kGreeting},
                ehlo_reply(),
                {"S: 250 2.1.0 Sender ok", "check bob@example.org", "S: 250 2.1.5 Recipient ok"}});
}

}  // namespace

TEST_CASE("the session greets with 220 and no enhanced code") {
  Run run = feed_all_ways({});
  CHECK(run.transcript == std::vector<std::string>{kGreeting});
  CHECK(run.state == "connected");
}

TEST_CASE("a pipelined MAIL, RCPT, RCPT, DATA and body is stored and queued after the commit") {
  Run run =
      feed_all_ways({client(kEhlo + kMail + kRcpt + "RCPT TO:<carol@example.org>\r\nDATA\r\n" +
                            "Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
                     commit_ok()});
  CHECK(run.transcript ==
        lines({ehlo_mail_rcpt(),
               {"check carol@example.org", "S: 250 2.1.5 Recipient ok",
                "begin from=<alice@example.net> to=<bob@example.org><carol@example.org>",
                "S: 354 End data with <CR><LF>.<CR><LF>", "data 22", "end",
                "S: 250 2.0.0 Ok: queued as s1.1", "S: 221 2.0.0 mx.example.org closing connection",
                "close"}}));
  REQUIRE(run.bodies.size() == 1);
  CHECK(run.bodies[0] == "Subject: hi\r\n\r\nhello\r\n");
  CHECK(run.state == "closed");
}

TEST_CASE("nothing pipelined after the final dot is answered before the commit completes") {
  Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + "DATA\r\nx\r\n.\r\nNOOP\r\n")});
  CHECK(run.transcript.back() == "end");
  CHECK(run.state == "committing");
  CHECK(run.leftover == 6);  // "NOOP\r\n" still waits in net
}

TEST_CASE("commit outcomes become 250, 452 4.3.1, 451 4.3.0, and 451 then 421 when fatal") {
  const std::string msg = kEhlo + kMail + kRcpt + "DATA\r\nx\r\n.\r\n";
  SUBCASE("ok") {
    Run run = feed_all_ways({client(msg), commit_ok(), client("NOOP\r\n")});
    CHECK(run.transcript.end()[-2] == "S: 250 2.0.0 Ok: queued as s1.1");
    CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
  }
  SUBCASE("full") {
    Run run = feed_all_ways({client(msg), commit_fails(Errc::full)});
    CHECK(run.transcript.back() == "S: 452 4.3.1 Insufficient system storage; try again later");
    CHECK(run.state == "ready");
  }
  SUBCASE("io") {
    Run run = feed_all_ways({client(msg), commit_fails(Errc::io)});
    CHECK(run.transcript.back() == "S: 451 4.3.0 Local error in processing; try again later");
    CHECK(run.state == "ready");
  }
  SUBCASE("fatal") {
    Run run = feed_all_ways({client(msg), commit_fails(Errc::fatal), client("NOOP\r\n")});
    CHECK(run.transcript.end()[-3] == "S: 451 4.3.0 Local error in processing; try again later");
    CHECK(run.transcript.end()[-2] ==
          "S: 421 4.3.0 mx.example.org local error, closing connection");
    CHECK(run.transcript.back() == "close");
    CHECK(run.state == "closed");
  }
}

TEST_CASE("a second message in the same session gets the next id") {
  const std::string msg = kMail + kRcpt + "DATA\r\nx\r\n.\r\n";
  Run run = feed_all_ways({client(kEhlo + msg), commit_ok(), client(msg), commit_ok()});
  CHECK(run.transcript.back() == "S: 250 2.0.0 Ok: queued as s1.2");
  CHECK(run.bodies.size() == 2);
}

TEST_CASE("every command is answered in the ready state") {
  Run run = feed_all_ways(
      {client(kEhlo + "NOOP\r\nnoop with args\r\nHELP\r\nVRFY bob\r\nVRFY\r\n"
                      "EXPN staff\r\nRSET\r\nFOO\r\nHELO again.example\r\nQUIT\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.0.0 Ok", "S: 250 2.0.0 Ok",
                "S: 214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY "
                "STARTTLS; see RFC 5321",
                "S: 252 2.0.0 Cannot VRFY user; send the message and delivery will be attempted",
                "S: 501 5.5.4 Syntax error: send VRFY <address>",
                "S: 502 5.5.1 EXPN not available here", "S: 250 2.0.0 Ok",
                "S: 500 5.5.2 Command unrecognised; try HELP", "S: 250 mx.example.org",
                "S: 221 2.0.0 mx.example.org closing connection", "close"}}));
}

TEST_CASE("commands are case-insensitive") {
  Run run =
      feed_all_ways({client("ehlo client.example.net\r\nmail from:<a@example.net>\r\n"
                            "rCpT tO:<bob@example.org>\r\nquit\r\n")});
  CHECK(run.transcript ==
        lines({ehlo_mail_rcpt(), {"S: 221 2.0.0 mx.example.org closing connection", "close"}}));
}

TEST_CASE("EHLO and HELO need an argument") {
  Run run = feed_all_ways({client("EHLO\r\nHELO\r\n")});
  CHECK(run.transcript ==
        std::vector<std::string>{kGreeting,
                                 "S: 501 5.5.4 Syntax error: send EHLO <your domain or [address]>",
                                 "S: 501 5.5.4 Syntax error: send HELO <your domain>"});
}

TEST_CASE("MAIL accepts the null reverse-path and the parameters we advertise") {
  Run run = feed_all_ways(
      {client(kEhlo + "MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n" + kRcpt + "RSET\r\n" +
              "MAIL FROM:<a@example.net> BODY=7BIT\r\n" + "RSET\r\n" +
              "MAIL FROM:<a@example.net> FOO=1\r\n" + "MAIL FROM:<a@example.net> SIZE=x\r\n" +
              "MAIL FROM:a@example.net\r\n" + "MAIL FROM:<\xc3\xa9@example.net>\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.1.0 Sender ok", "check bob@example.org", "S: 250 2.1.5 Recipient ok",
                "S: 250 2.0.0 Ok", "S: 250 2.1.0 Sender ok", "S: 250 2.0.0 Ok",
                "S: 555 5.5.4 Parameter not recognised; see the EHLO reply for what we support",
                "S: 501 5.5.4 Syntax error: use SIZE=<octets>, BODY=7BIT or BODY=8BITMIME, "
                "SMTPUTF8, once each",
                "S: 501 5.1.7 Bad sender address syntax; use MAIL FROM:<user@domain> or <>",
                "S: 553 5.6.7 Non-ASCII address without SMTPUTF8: add the SMTPUTF8 parameter to "
                "MAIL FROM, "
                "or use an ASCII address"}}));
}

TEST_CASE("MAIL parameters are refused after HELO") {
  Run run = feed_all_ways({client("HELO c.example\r\nMAIL FROM:<a@example.net> SIZE=10\r\n")});
  CHECK(run.transcript.back() ==
        "S: 555 5.5.4 Parameter not recognised; see the EHLO reply for what we support");
}

TEST_CASE("a declared SIZE above the limit is refused at MAIL with 552 5.3.4") {
  Run run = feed_all_ways({client(kEhlo + "MAIL FROM:<a@example.net> SIZE=10001\r\n" +
                                  "MAIL FROM:<a@example.net> SIZE=10000\r\n")});
  CHECK(run.transcript.end()[-2] ==
        "S: 552 5.3.4 Message too big: this mailbox accepts at most 10000 octets; send a link to "
        "the file instead, or split it into smaller messages");
  CHECK(run.transcript.back() == "S: 250 2.1.0 Sender ok");
}

TEST_CASE("recipient verdicts map to their replies") {
  std::map<std::string, RecipientVerdict> verdicts = {
      {"nobody@example.org", RecipientVerdict::unknown_user},
      {"x@elsewhere.example", RecipientVerdict::relay_denied},
      {"full@example.org", RecipientVerdict::over_quota},
      {"later@example.org", RecipientVerdict::temp_failure}};
  Run run =
      feed_all_ways({client(kEhlo + kMail + "RCPT TO:<nobody@example.org>\r\n" +
                            "RCPT TO:<x@elsewhere.example>\r\nRCPT TO:<full@example.org>\r\n" +
                            "RCPT TO:<later@example.org>\r\nDATA\r\n")},
                    test_limits(), verdicts);
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.1.0 Sender ok", "check nobody@example.org",
                "S: 550 5.1.1 Mailbox unknown; check the address", "check x@elsewhere.example",
                "S: 550 5.7.1 Relay denied: we do not relay; send to the domain's own MX",
                "check full@example.org", "S: 452 4.2.2 Mailbox full; try again later",
                "check later@example.org", "S: 451 4.3.0 Temporary local failure; try again later",
                "S: 554 5.5.1 No valid recipients; send RCPT TO first"}}));
  CHECK(run.state == "mail");
}

TEST_CASE("<Postmaster> without a domain is accepted and passed as postmaster") {
  Run run = feed_all_ways({client(kEhlo + kMail + "RCPT TO:<Postmaster>\r\n")});
  CHECK(run.transcript.end()[-2] == "check postmaster");
  CHECK(run.transcript.back() == "S: 250 2.1.5 Recipient ok");
}

TEST_CASE("bad RCPT syntax and RCPT parameters are refused") {
  Run run = feed_all_ways({client(kEhlo + kMail + "RCPT TO:bob@example.org\r\n" +
                                  "RCPT TO:<bob@example.org> NOTIFY=NEVER\r\nRCPT TO:<>\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.1.0 Sender ok",
                "S: 501 5.1.3 Bad recipient address syntax; use RCPT TO:<user@domain>",
                "S: 555 5.5.4 Parameter not recognised; see the EHLO reply for what we support",
                "S: 501 5.1.3 Bad recipient address syntax; use RCPT TO:<user@domain>"}}));
}

TEST_CASE("more recipients than the limit get 452 4.5.3 and a repeated one is stored once") {
  Run run =
      feed_all_ways({client(kEhlo + kMail + "RCPT TO:<a@example.org>\r\n" +
                            "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n" +
                            "RCPT TO:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.1.0 Sender ok", "check a@example.org", "S: 250 2.1.5 Recipient ok",
                "S: 250 2.1.5 Recipient ok", "check b@example.org", "S: 250 2.1.5 Recipient ok",
                "check c@example.org", "S: 250 2.1.5 Recipient ok",
                "S: 452 4.5.3 Too many recipients; send the rest in another transaction",
                "begin from=<alice@example.net> to=<a@example.org><b@example.org><c@example.org>",
                "S: 354 End data with <CR><LF>.<CR><LF>"}}));
}

TEST_CASE("RSET ends the transaction: RCPT after RSET is out of sequence") {
  Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + "RSET\r\n" + kRcpt)});
  CHECK(run.transcript.end()[-2] == "S: 250 2.0.0 Ok");
  CHECK(run.transcript.back() == "S: 503 5.5.1 Bad sequence of commands: send MAIL FROM first");
}

TEST_CASE("EHLO inside a transaction starts over") {
  Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + kEhlo + "DATA\r\n")});
  CHECK(run.transcript.back() == "S: 503 5.5.1 Bad sequence of commands: send MAIL FROM first");
}

TEST_CASE("a command line without CR is refused with 500 5.5.2") {
  Run run = feed_all_ways({client("NOOP\nNO\rOP\r\nNOOP\r\n")});
  const std::string bare =
      "S: 500 5.5.2 Command line rejected: bare CR or LF; end every line with CRLF (RFC 5321 "
      "§2.3.8)";
  CHECK(run.transcript == std::vector<std::string>{kGreeting, bare, bare, "S: 250 2.0.0 Ok"});
}

TEST_CASE("a command line over the limit is discarded in pieces and answered 500 once") {
  std::string longline = "NOOP " + std::string(3000, 'x') + "\r\n";
  Run run = feed_all_ways({client(longline + "NOOP\r\n")});
  CHECK(run.transcript == std::vector<std::string>{
                              kGreeting,
                              "S: 500 5.5.6 Line too long; command lines are limited to 512 octets",
                              "S: 250 2.0.0 Ok"});
}

TEST_CASE("a command line of exactly the limit is accepted, one more octet is not") {
  std::string fits = "NOOP " + std::string(512 - 7, 'x') + "\r\n";
  std::string over = "NOOP " + std::string(512 - 6, 'x') + "\r\n";
  REQUIRE(fits.size() == 512);
  Run run = feed_all_ways({client(fits + over)});
  CHECK(run.transcript ==
        std::vector<std::string>{
            kGreeting, "S: 250 2.0.0 Ok",
            "S: 500 5.5.6 Line too long; command lines are limited to 512 octets"});
}

TEST_CASE("an incomplete command line is left to net") {
  Run run = feed_all_ways({client("NOOP\r\nNO")});
  CHECK(run.transcript == std::vector<std::string>{kGreeting, "S: 250 2.0.0 Ok"});
  CHECK(run.leftover == 2);
}

TEST_CASE("too many errors end the session with 421 4.7.0") {
  Limits limits = test_limits();
  limits.max_errors = 3;
  Run run = feed_all_ways({client("FOO\r\nBAR\r\nBAZ\r\nNOOP\r\n")}, limits);
  CHECK(run.transcript ==
        std::vector<std::string>{kGreeting, "S: 500 5.5.2 Command unrecognised; try HELP",
                                 "S: 500 5.5.2 Command unrecognised; try HELP",
                                 "S: 500 5.5.2 Command unrecognised; try HELP",
                                 "S: 421 4.7.0 mx.example.org too many errors, closing connection",
                                 "close"});
  CHECK(run.state == "closed");
  CHECK(run.leftover == 6);  // NOOP never read
}

TEST_CASE("too many commands before MAIL end the session with 421 4.7.0") {
  Limits limits = test_limits();
  limits.max_commands_before_mail = 3;
  SUBCASE("without MAIL") {
    Run run = feed_all_ways({client(kEhlo + "NOOP\r\nNOOP\r\nNOOP\r\n")}, limits);
    CHECK(run.transcript.end()[-2] ==
          "S: 421 4.7.0 mx.example.org too many commands without MAIL, closing connection");
  }
  SUBCASE("MAIL resets the count") {
    Run run =
        feed_all_ways({client(kEhlo + "NOOP\r\n" + kMail + "RSET\r\nNOOP\r\nNOOP\r\n")}, limits);
    CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
  }
}

TEST_CASE("a timeout answers 421 4.4.2 and closes; mid-DATA it aborts the message") {
  SUBCASE("between commands") {
    Run run = feed_all_ways({client(kEhlo), timeout()});
    CHECK(run.transcript.end()[-2] == "S: 421 4.4.2 mx.example.org timeout, closing connection");
    CHECK(run.transcript.back() == "close");
  }
  SUBCASE("mid-DATA") {
    Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + "DATA\r\npart"), timeout()});
    CHECK(run.transcript.end()[-4] == "data 4");
    CHECK(run.transcript.end()[-3] == "abort timeout");
    CHECK(run.transcript.end()[-2] == "S: 421 4.4.2 mx.example.org timeout, closing connection");
    CHECK(run.bodies.empty());
  }
}

TEST_CASE("a disconnect mid-DATA aborts the message and sends nothing") {
  Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + "DATA\r\npart\r\n"), disconnect()});
  CHECK(run.transcript.back() == "abort connection_lost");
  CHECK(run.state == "closed");
}

TEST_CASE("a disconnect between commands aborts nothing") {
  Run run = feed_all_ways({client(kEhlo + kMail), disconnect()});
  CHECK(run.transcript.back() == "S: 250 2.1.0 Sender ok");
}

TEST_CASE("current_timeout follows RFC 5321 §4.5.3.2") {
  RecordingHost host;
  postern::core::ManualClock clock;
  Limits limits = test_limits();
  Session s(host, limits, clock, Peer{"192.0.2.7", false, "s1"});
  CHECK(s.current_timeout() == std::chrono::seconds{300});
  std::string in = kEhlo + kMail + kRcpt + "DATA\r\n";
  CHECK(s.feed(in) == in.size());
  CHECK(s.current_timeout() == std::chrono::seconds{180});
  CHECK(s.feed(".\r\n") == 3);
  CHECK(s.current_timeout() == std::chrono::seconds{600});
  s.on_committed({});
  CHECK(s.current_timeout() == std::chrono::seconds{300});
  s.on_disconnect();
  CHECK(s.current_timeout() == std::chrono::seconds{0});
}

TEST_CASE("the trace headers carry the envelope, the peer, the id and the clock's date") {
  Run run = feed_all_ways({client(kEhlo + kMail + kRcpt + "DATA\r\n")});
  REQUIRE(run.traces.size() == 1);
  CHECK(run.traces[0] ==
        "Return-Path: <alice@example.net>\r\n"
        "Received: from client.example.net (192.0.2.7)\r\n"
        "\tby mx.example.org with ESMTP id s1.1\r\n"
        "\tfor <bob@example.org>; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST_CASE("QUIT returns its 221; the close follows it, and nothing after QUIT is read") {
  for (const std::string& before : {std::string(), kEhlo, kEhlo + kMail + kRcpt}) {
    Run run = feed_all_ways({client(before + "QUIT\r\nNOOP\r\n")});
    CHECK(run.transcript.end()[-2] == "S: 221 2.0.0 mx.example.org closing connection");
    CHECK(run.transcript.back() == "close");
    CHECK(run.state == "closed");
    CHECK(run.leftover == 6);  // "NOOP\r\n"
  }
}
