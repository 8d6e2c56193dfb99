// pop3::Session framing and lifecycle: state x verb, CAPA, STLS, long lines, error limit.
#include <doctest/doctest.h>

#include <algorithm>

#include "recording_host.h"

namespace postern::pop3::test {
namespace {

const std::string kLogin = "USER alice\r\nPASS secret\r\n";
const char* const kAllVerbs[] = {"USER", "PASS", "AUTH", "STLS", "CAPA", "QUIT", "STAT",
                                 "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP",  "UIDL"};
bool legal_before_login(std::string_view v) {
  return v == "USER" || v == "PASS" || v == "AUTH" || v == "STLS" || v == "CAPA" || v == "QUIT";
}
bool legal_after_login(std::string_view v) {
  return v != "USER" && v != "PASS" && v != "AUTH" && v != "STLS";
}

std::vector<std::string> capa(FakeNet& net) {
  net.host.transcript.clear();
  net.client("CAPA\r\n");
  return net.host.transcript;
}

}  // namespace

TEST_CASE("every verb in every state: wrong-state verbs get one -ERR and no handler runs") {
  for (const char* verb : kAllVerbs) {
    INFO("verb " << verb);
    {
      FakeNet net;
      net.host.transcript.clear();
      net.client(std::string(verb) + "\r\n");
      REQUIRE(!net.host.transcript.empty());
      if (legal_before_login(verb)) {
        CHECK(net.host.transcript[0].find("not valid") == std::string::npos);
      } else {
        CHECK(net.host.transcript == std::vector<std::string>{"S: -ERR " + std::string(verb) +
                                                              " is not valid before login"});
      }
    }
    {
      FakeNet net;
      net.host.maildrops["alice"] = {{"u1", "x\r\n"}};
      net.client(kLogin);
      REQUIRE(net.session.state() == State::transaction);
      net.host.transcript.clear();
      net.client(std::string(verb) + " 1\r\n");
      REQUIRE(!net.host.transcript.empty());
      if (legal_after_login(verb)) {
        CHECK(net.host.transcript[0].find("not valid") == std::string::npos);
      } else {
        CHECK(net.host.transcript == std::vector<std::string>{"S: -ERR " + std::string(verb) +
                                                              " is not valid after login"});
        CHECK(net.session.state() == State::transaction);
      }
    }
  }
}

TEST_CASE("unknown verbs, APOP and empty lines are answered -ERR Unknown command") {
  feed_all_ways("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\nXYZZY\r\n\r\n",
                {"S: -ERR Unknown command", "S: -ERR Unknown command", "S: -ERR Unknown command"});
}

TEST_CASE("CAPA before login over plain TCP offers STLS but neither USER nor SASL PLAIN") {
  FakeNet net(default_limits(), remote_peer());
  CHECK(lines(capa(net)) ==
        lines({"S: +OK Capability list follows", "S: TOP", "S: UIDL", "S: RESP-CODES",
               "S: AUTH-RESP-CODE", "S: PIPELINING", "S: STLS", "S: EXPIRE NEVER", "S: UTF8",
               "S: LANG", "S: IMPLEMENTATION postern", "S: ."}));
}

TEST_CASE("CAPA over TLS offers USER and SASL PLAIN but not STLS, in both states") {
  FakeNet net;
  const std::vector<std::string> expected = {"S: +OK Capability list follows",
                                             "S: TOP",
                                             "S: UIDL",
                                             "S: USER",
                                             "S: SASL PLAIN",
                                             "S: RESP-CODES",
                                             "S: AUTH-RESP-CODE",
                                             "S: PIPELINING",
                                             "S: EXPIRE NEVER",
                                             "S: UTF8 USER",
                                             "S: LANG",
                                             "S: IMPLEMENTATION postern",
                                             "S: ."};
  CHECK(lines(capa(net)) == lines(expected));
  net.client(kLogin);
  CHECK(lines(capa(net)) == lines(expected));
}

TEST_CASE("CAPA on loopback lists USER, STLS; configured EXPIRE and LOGIN-DELAY appear") {
  Limits limits = default_limits();
  limits.expire = std::chrono::days(30);
  limits.login_delay = std::chrono::seconds(900);
  limits.implementation = "postern 0.1";
  FakeNet net(limits, loopback_peer());
  CHECK(lines(capa(net)) ==
        lines({"S: +OK Capability list follows", "S: TOP", "S: UIDL", "S: USER", "S: SASL PLAIN",
               "S: RESP-CODES", "S: AUTH-RESP-CODE", "S: PIPELINING", "S: STLS", "S: EXPIRE 30",
               "S: LOGIN-DELAY 900", "S: UTF8 USER", "S: LANG", "S: IMPLEMENTATION postern 0.1",
               "S: ."}));
  net.client(kLogin);
  const auto after = capa(net);
  CHECK(std::find(after.begin(), after.end(), "S: STLS") == after.end());
  CHECK(std::find(after.begin(), after.end(), "S: USER") != after.end());
}

TEST_CASE("STLS stops consuming after its line and discards what was pipelined behind it") {
  FakeNet net(default_limits(), remote_peer());
  net.auto_complete = false;
  net.host.transcript.clear();
  net.client("USER alice\r\nSTLS\r\nUSER mallory\r\nPASS injected\r\n");
  CHECK(lines(net.host.transcript) ==
        lines({"S: -ERR [AUTH] Plaintext login is disabled: use STLS or POP3S (port 995)",
               "S: +OK Begin TLS negotiation", "H: start_tls"}));
  CHECK_FALSE(net.session.wants_input());
  CHECK(net.buffer.empty());  // FakeNet discards like net must; the session consumed nothing
  net.host.tls_pending = false;
  net.session.on_tls_ready();
  CHECK(net.session.wants_input());
  CHECK(net.session.peer().tls_active);
  CHECK(net.session.state() == State::authorization);
  net.client("PASS secret\r\nUSER alice\r\nPASS secret\r\nSTLS\r\n");
  net.auto_complete = true;
  net.run();
  CHECK(lines({net.host.transcript.end() - 6, net.host.transcript.end()}) ==
        lines({"S: -ERR Send USER first", "S: +OK Send PASS", "H: check_password alice secret",
               "H: open_maildrop alice", "S: +OK Logged in, 0 messages (0 octets)",
               "S: -ERR STLS is not valid after login"}));
}

TEST_CASE("STLS forgets a USER sent before it") {
  FakeNet net(default_limits(), loopback_peer());
  net.host.transcript.clear();
  net.client("USER alice\r\nSTLS\r\n");
  net.client("PASS secret\r\n");
  CHECK(net.host.transcript.back() == "S: -ERR Send USER first");
}

TEST_CASE("STLS is refused when TLS is active or not available") {
  feed_all_ways("STLS\r\n", {"S: -ERR Command not permitted when TLS active"});
  Limits no_tls = default_limits();
  no_tls.stls_available = false;
  feed_all_ways("STLS\r\nSTLS x\r\n",
                {"S: -ERR STLS is not available on this server",
                 "S: -ERR STLS is not available on this server"},
                {}, no_tls, remote_peer());
  feed_all_ways("STLS now\r\n", {"S: -ERR Syntax: STLS"}, {}, default_limits(), remote_peer());
}

TEST_CASE("a line over max_line is answered once and discarded without buffering it") {
  const std::string fits = "NOOP" + std::string(249, ' ') + "\r\n";  // 255 octets with CRLF
  REQUIRE(fits.size() == 255);
  const std::string too_long = "NOOP" + std::string(250, ' ') + "\r\n";
  feed_all_ways(fits + too_long + "X" + std::string(5000, 'y') + "\r\nQUIT\r\n",
                {"S: -ERR NOOP is not valid before login", "S: -ERR Line too long",
                 "S: -ERR Line too long", "S: +OK mail.example POP3 server signing off",
                 "H: session_ended reason=quit user= retrieved=0 deleted=0 removed=0", "H: close"});
  FakeNet net;
  net.client(std::string(100000, 'z'));
  CHECK(net.buffer.empty());  // consumed, not held
}

TEST_CASE("bare LF ends a command line; CR or NUL inside a line is refused") {
  feed_all_ways("USER alice\nPASS secret\nNOOP\n",
                {"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
                 "S: +OK Logged in, 0 messages (0 octets)", "S: +OK"});
  feed_all_ways(std::string("NO\rOP\r\nUSER a\0b\r\n", 17),
                {"S: -ERR Syntax: command contains a control character",
                 "S: -ERR Syntax: command contains a control character"});
}

TEST_CASE("the error limit closes the session with a reply that says so") {
  Limits limits = default_limits();
  limits.max_errors = 3;
  feed_all_ways(
      "BAD\r\nBAD\r\nBAD\r\nNOOP\r\n",
      {"S: -ERR Unknown command", "S: -ERR Unknown command",
       "S: -ERR Too many errors; closing connection",
       "H: session_ended reason=error-limit user= retrieved=0 deleted=0 removed=0", "H: close"},
      {}, limits);
}

TEST_CASE("after the error limit in TRANSACTION nothing is removed") {
  Limits limits = default_limits();
  limits.max_errors = 2;
  FakeNet net(limits);
  net.host.maildrops["alice"] = {{"u1", "x\r\n"}};
  net.client(kLogin + "DELE 1\r\nRETR 5\r\nRETR 6\r\n");
  CHECK_FALSE(net.host.update_pending);
  CHECK(net.host.summary->reason == EndReason::error_limit);
  CHECK(net.host.summary->marked_deleted == 1);
  CHECK(net.host.summary->abnormal());
}

TEST_CASE("completions that are not awaited are ignored") {
  FakeNet net;
  const auto before = net.host.transcript;
  net.session.on_password_checked(true);
  net.session.on_updated(core::Result<void>());
  net.session.on_tls_ready();
  net.session.on_drain();
  CHECK(net.host.transcript == before);
  CHECK(net.session.state() == State::authorization);
}

TEST_CASE("a timeout during the password check ends the session; the late answer is dropped") {
  FakeNet net;
  net.auto_complete = false;
  net.client(kLogin);
  net.session.on_timeout();
  CHECK(net.host.closed);
  const auto size = net.host.transcript.size();
  net.session.on_password_checked(true);
  CHECK(net.host.transcript.size() == size);
  CHECK(net.host.summary->reason == EndReason::timeout);
  CHECK_FALSE(net.host.summary->authenticated);
}

}  // namespace postern::pop3::test
