// The (state x verb) walk: every verb in every command state gets 503 5.5.1 exactly where
// RFC 5321 (and RFC 3030, RFC 3207) say it is out of sequence, and nowhere else.
#include <doctest/doctest.h>

#include <set>

#include "session_harness.h"

using namespace postern::smtp;
using namespace postern::smtp::test;

namespace {

struct StateSetup {
  const char* state;
  std::string prefix;
  const char* hint;
};

struct Verb {
  const char* name;
  std::string line;  // with any payload it carries
  std::set<std::string> legal;
};

}  // namespace

TEST_CASE("every verb in every command state: 503 5.5.1 exactly where it is out of sequence") {
  const std::string ehlo = "EHLO c.example\r\n";
  const std::string mail = "MAIL FROM:<a@example.net>\r\n";
  const std::string rcpt = "RCPT TO:<b@example.org>\r\n";
  const std::vector<StateSetup> states = {
      {"connected", "", "send EHLO or HELO first"},
      {"ready", ehlo, "send MAIL FROM first"},
      {"mail", ehlo + mail, "send RCPT TO first, or RSET"},
      {"rcpt", ehlo + mail + rcpt, "send more RCPT TO, then DATA or BDAT, or RSET"},
      {"bdat", ehlo + mail + rcpt + "BDAT 1\r\nx", "send the next BDAT chunk, or RSET"},
  };
  const std::set<std::string> all = {"connected", "ready", "mail", "rcpt", "bdat"};
  const std::set<std::string> no_bdat = {"connected", "ready", "mail", "rcpt"};
  const std::vector<Verb> verbs = {
      {"EHLO", "EHLO c.example\r\n", no_bdat},
      {"HELO", "HELO c.example\r\n", no_bdat},
      {"MAIL", mail, {"ready"}},
      {"RCPT", rcpt, {"mail", "rcpt"}},
      {"DATA", "DATA\r\n", {"mail", "rcpt"}},
      {"BDAT", "BDAT 1\r\ny", {"mail", "rcpt", "bdat"}},
      {"RSET", "RSET\r\n", all},
      {"NOOP", "NOOP\r\n", all},
      {"QUIT", "QUIT\r\n", all},
      {"HELP", "HELP\r\n", all},
      {"VRFY", "VRFY b\r\n", no_bdat},
      {"EXPN", "EXPN b\r\n", no_bdat},
      {"STARTTLS", "STARTTLS\r\n", {"ready"}},
  };
  for (const auto& state : states) {
    Run before = feed_all_ways({client(state.prefix)});
    REQUIRE(before.state == state.state);
    for (const auto& verb : verbs) {
      CAPTURE(state.state);
      CAPTURE(verb.name);
      // NOOP afterwards proves a refused verb leaves the session in step (a
      // refused BDAT's payload is read past, not run as a command).
      Run run = feed_all_ways({client(state.prefix + verb.line + "NOOP\r\n")});
      REQUIRE(run.transcript.size() > before.transcript.size());
      const std::string& reply = run.transcript[before.transcript.size()];
      bool legal = verb.legal.count(state.state) > 0;
      if (legal) {
        CHECK(reply.rfind("S: 503", 0) != 0);
      } else {
        CHECK(reply == std::string("S: 503 5.5.1 Bad sequence of commands: ") + state.hint);
        CHECK(run.state == state.state);
        CHECK(run.transcript.back() == "S: 250 2.0.0 Ok");
      }
    }
  }
}

TEST_CASE("no command is read while DATA, a commit or a TLS handshake is under way") {
  const std::string open =
      "EHLO c.example\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\n";
  SUBCASE("in DATA a verb is body text") {
    Run run = feed_all_ways({client(open + "DATA\r\nQUIT\r\n.\r\n"), commit_ok()});
    CHECK(run.bodies == std::vector<std::string>{"QUIT\r\n"});
  }
  SUBCASE("committing") {
    Run run = feed_all_ways({client(open + "DATA\r\n.\r\nQUIT\r\n")});
    CHECK(run.state == "committing");
    CHECK(run.leftover == 6);
  }
  SUBCASE("closed") {
    Run run = feed_all_ways({client("QUIT\r\nNOOP\r\n")});
    CHECK(run.state == "closed");
    CHECK(run.leftover == 6);
  }
}
