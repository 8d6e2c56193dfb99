// SMTPUTF8 (RFC 6531) through the session: UTF-8 local parts and U-label domains
// only with the SMTPUTF8 parameter, valid UTF-8 only, passed on unchanged, and
// carried into Return-Path and Received ("with UTF8SMTP", RFC 6531 §4.4).
#include <doctest/doctest.h>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;

namespace {

const std::string kEhlo = "EHLO client.example.net\r\n";
// jörg@bücher.example and ñandú@example.org in UTF-8.
const std::string kJoerg =
    "j\xc3\xb6rg@b\xc3\xbc"
    "cher.example";
const std::string kNandu =
    "\xc3\xb1"
    "and\xc3\xba@example.org";
const std::string kNeeds =
    "S: 553 5.6.7 Non-ASCII address without SMTPUTF8: add the SMTPUTF8 parameter to MAIL FROM, "
    "or use an ASCII address";
const std::string kBadSender =
    "S: 501 5.1.7 Bad sender address: not valid UTF-8, or it holds a control character (RFC "
    "6531 §3.3)";
const std::string kBadRecipient =
    "S: 501 5.1.3 Bad recipient address: not valid UTF-8, or it holds a control character (RFC "
    "6531 §3.3)";

}  // namespace

TEST_CASE("with SMTPUTF8, UTF-8 addresses are accepted and passed on as sent") {
  Run run =
      feed_all_ways({client(kEhlo + "MAIL FROM:<" + kJoerg + "> SMTPUTF8\r\nRCPT TO:<" + kNandu +
                            ">\r\nDATA\r\nSubject: gr\xc3\xbc\xc3\x9f"
                            "e\r\n\r\nhi\r\n.\r\n"),
                     commit_ok()});
  CHECK(run.transcript ==
        lines({{kGreeting},
               ehlo_reply(),
               {"S: 250 2.1.0 Sender ok", "check " + kNandu, "S: 250 2.1.5 Recipient ok",
                "begin from=<" + kJoerg + "> to=<" + kNandu + ">",
                "S: 354 End data with <CR><LF>.<CR><LF>", "data 24", "end",
                "S: 250 2.0.0 Ok: queued as s1.1"}}));
  REQUIRE(run.traces.size() == 1);
  CHECK(run.traces[0] == "Return-Path: <" + kJoerg +
                             ">\r\n"
                             "Received: from client.example.net (192.0.2.7)\r\n"
                             "\tby mx.example.org with UTF8SMTP id s1.1\r\n"
                             "\tfor <" +
                             kNandu + ">; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
}

TEST_CASE("an ASCII transaction that asked for SMTPUTF8 is still traced as UTF8SMTP") {
  Run run = feed_all_ways({client(
      kEhlo + "MAIL FROM:<a@example.net> SMTPUTF8\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")});
  REQUIRE(run.traces.size() == 1);
  CHECK(run.traces[0].find("with UTF8SMTP id") != std::string::npos);
}

TEST_CASE("a non-ASCII address without SMTPUTF8 is 553 5.6.7, at MAIL and at RCPT") {
  Run run = feed_all_ways({client(kEhlo + "MAIL FROM:<" + kJoerg + ">\r\n" +
                                  "MAIL FROM:<a@example.net>\r\nRCPT TO:<" + kNandu + ">\r\n")});
  CHECK(run.transcript ==
        lines({{kGreeting}, ehlo_reply(), {kNeeds, "S: 250 2.1.0 Sender ok", kNeeds}}));
  CHECK(run.state == "mail");
}

TEST_CASE("SMTPUTF8 after HELO is refused: parameters are ESMTP only") {
  Run run = feed_all_ways({client("HELO c.example\r\nMAIL FROM:<" + kJoerg + "> SMTPUTF8\r\n")});
  CHECK(run.transcript.back() ==
        "S: 555 5.5.4 Parameter not recognised; see the EHLO reply for what we support");
}

TEST_CASE("malformed UTF-8 and C1 controls in an address are refused even with SMTPUTF8") {
  for (std::string bad : {std::string("\xc3"
                                      "a@example.org"),  // a lead octet without its continuation
                          std::string("\xc0\xaf@example.org"),          // overlong '/'
                          std::string("\xed\xa0\x80@example.org"),      // UTF-16 surrogate
                          std::string("\xf4\x90\x80\x80@example.org"),  // above U+10FFFF
                          std::string("a\xc2\x85@example.org"),         // C1 NEL
                          std::string("a@b\xff.example")}) {
    CAPTURE(bad);
    Run run = feed_all_ways({client(kEhlo + "MAIL FROM:<" + bad +
                                    "> SMTPUTF8\r\nMAIL FROM:<a@example.net> SMTPUTF8\r\n"
                                    "RCPT TO:<" +
                                    bad + ">\r\n")});
    CHECK(
        run.transcript ==
        lines({{kGreeting}, ehlo_reply(), {kBadSender, "S: 250 2.1.0 Sender ok", kBadRecipient}}));
  }
}
