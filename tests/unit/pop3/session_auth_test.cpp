// pop3::Session in AUTHORIZATION: greeting, USER/PASS, AUTH PLAIN, plaintext policy, IN-USE.
#include <doctest/doctest.h>

#include "recording_host.h"

namespace postern::pop3::test {
namespace {

// base64("\0alice\0secret") and friends, computed by hand from RFC 4648's table.
constexpr const char* kPlainAlice = "AGFsaWNlAHNlY3JldA==";           // "\0alice\0secret"
constexpr const char* kPlainAliceAuthz = "YWxpY2UAYWxpY2UAc2VjcmV0";  // "alice\0alice\0secret"
constexpr const char* kPlainBobAuthz = "Ym9iAGFsaWNlAHNlY3JldA==";    // "bob\0alice\0secret"
constexpr const char* kPlainWrong = "AGFsaWNlAHdyb25n";               // "\0alice\0wrong"

const std::vector<std::string> kLoginOk = {
    "S: +OK Send PASS",
    "H: check_password alice secret",
    "H: open_maildrop alice",
    "S: +OK Logged in, 0 messages (0 octets)",
};

}  // namespace

TEST_CASE("the greeting names the host and carries no APOP timestamp") {
  FakeNet net;
  CHECK(net.host.transcript == std::vector<std::string>{"S: +OK mail.example POP3 server ready"});
  CHECK(net.host.raw.find('<') == std::string::npos);
  CHECK(net.session.state() == State::authorization);
}

TEST_CASE("USER and PASS over TLS log in and enter TRANSACTION") {
  feed_all_ways("USER alice\r\nPASS secret\r\n", kLoginOk);
  FakeNet net;
  net.client("USER alice\r\nPASS secret\r\n");
  CHECK(net.session.state() == State::transaction);
}

TEST_CASE("PASS keeps spaces inside the password") {
  feed_all_ways("USER alice\r\nPASS two words \r\n",
                {"S: +OK Send PASS", "H: check_password alice two words ",
                 "S: -ERR [AUTH] Invalid user name or password"});
}

TEST_CASE("a wrong password is answered -ERR [AUTH] and USER must be sent again") {
  feed_all_ways("USER alice\r\nPASS nope\r\nPASS secret\r\nSTAT\r\n",
                {"S: +OK Send PASS", "H: check_password alice nope",
                 "S: -ERR [AUTH] Invalid user name or password", "S: -ERR Send USER first",
                 "S: -ERR STAT is not valid before login"});
}

TEST_CASE("PASS without USER and USER without a name are refused") {
  feed_all_ways(
      "PASS secret\r\nUSER\r\nUSER a b\r\n",
      {"S: -ERR Send USER first", "S: -ERR Syntax: USER <name>", "S: -ERR Syntax: USER <name>"});
}

TEST_CASE("commands pipelined after PASS wait for the password check and run in order") {
  FakeNet net;
  net.auto_complete = false;
  net.host.maildrops["alice"] = {{"u1", "Subject: a\r\n\r\nhi\r\n"}};
  net.host.transcript.clear();
  net.client("USER alice\r\nPASS secret\r\nSTAT\r\nQUIT\r\n");
  CHECK_FALSE(net.session.wants_input());
  CHECK(net.host.transcript ==
        std::vector<std::string>{"S: +OK Send PASS", "H: check_password alice secret"});
  CHECK(net.buffer == "STAT\r\nQUIT\r\n");
  net.auto_complete = true;
  net.run();
  CHECK(net.host.transcript ==
        std::vector<std::string>{
            "S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
            "S: +OK Logged in, 1 messages (18 octets)", "S: +OK 1 18",
            "S: +OK postern signing off (1 messages left)",
            "H: session_ended reason=quit user=alice retrieved=0 deleted=0 removed=0", "H: close"});
}

TEST_CASE("a failed password check itself is answered -ERR [SYS/TEMP]") {
  FakeNet net;
  net.auto_complete = false;
  net.client("USER alice\r\nPASS secret\r\n");
  net.session.on_password_checked(core::make_error(core::Errc::io, "pbkdf2"));
  CHECK(net.host.transcript.back() ==
        "S: -ERR [SYS/TEMP] Temporary server failure; try again later");
  CHECK(net.session.state() == State::authorization);
  CHECK(net.session.wants_input());
}

TEST_CASE("AUTH PLAIN with an initial response logs in") {
  feed_all_ways(std::string("AUTH PLAIN ") + kPlainAlice + "\r\n",
                {"H: check_password alice secret", "H: open_maildrop alice",
                 "S: +OK Logged in, 0 messages (0 octets)"});
  feed_all_ways(std::string("auth plain ") + kPlainAliceAuthz + "\r\n",
                {"H: check_password alice secret", "H: open_maildrop alice",
                 "S: +OK Logged in, 0 messages (0 octets)"});
}

TEST_CASE("AUTH PLAIN with the continuation form logs in") {
  feed_all_ways(std::string("AUTH PLAIN\r\n") + kPlainAlice + "\r\n",
                {"S: + ", "H: check_password alice secret", "H: open_maildrop alice",
                 "S: +OK Logged in, 0 messages (0 octets)"});
}

TEST_CASE("AUTH PLAIN failures: wrong password, bad base64, foreign authzid, malformed") {
  feed_all_ways(std::string("AUTH PLAIN ") + kPlainWrong + "\r\n",
                {"H: check_password alice wrong", "S: -ERR [AUTH] Invalid user name or password"});
  feed_all_ways(
      "AUTH PLAIN AGFsaWNl*HNlY3JldA==\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA=\r\n",
      {"S: -ERR Invalid base64 in AUTH response", "S: -ERR Invalid base64 in AUTH response"});
  feed_all_ways(std::string("AUTH PLAIN ") + kPlainBobAuthz + "\r\n",
                {"S: -ERR [AUTH] Authorization identity must be empty or equal the user name"});
  feed_all_ways("AUTH PLAIN YWxpY2U=\r\nAUTH PLAIN =\r\n",  // "alice": no NULs; empty
                {"S: -ERR Malformed PLAIN response", "S: -ERR Malformed PLAIN response"});
}

TEST_CASE("AUTH continuation: '*' cancels, bad base64 ends the exchange, then commands resume") {
  feed_all_ways(
      "AUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n!!!!\r\nNOOP\r\n",
      {"S: + ", "S: -ERR AUTH cancelled", "S: + ", "S: -ERR Invalid base64 in AUTH response",
       "S: -ERR NOOP is not valid before login"});
}

TEST_CASE("AUTH with another mechanism or too many words is refused") {
  feed_all_ways("AUTH CRAM-MD5\r\nAUTH PLAIN a b\r\nAPOP alice 0123\r\n",
                {"S: -ERR Unsupported SASL mechanism: use PLAIN",
                 "S: -ERR Syntax: AUTH PLAIN [initial-response]", "S: -ERR Unknown command"});
}

TEST_CASE("a bare AUTH lists PLAIN where a plaintext login is accepted, nothing where not") {
  FakeNet local;
  local.host.transcript.clear();
  local.client("AUTH\r\n");
  CHECK(lines(local.host.transcript) ==
        lines({"S: +OK SASL mechanisms follow", "S: PLAIN", "S: ."}));
  FakeNet remote(default_limits(), remote_peer());
  remote.host.transcript.clear();
  remote.client("AUTH\r\n");
  CHECK(lines(remote.host.transcript) == lines({"S: +OK SASL mechanisms follow", "S: ."}));
  CHECK(remote.session.state() == State::authorization);
}

TEST_CASE("plaintext login over a non-TLS remote connection is refused with advice") {
  const std::string refused =
      "S: -ERR [AUTH] Plaintext login is disabled: use STLS or POP3S (port 995)";
  feed_all_ways(
      std::string("USER alice\r\nPASS secret\r\nAUTH PLAIN ") + kPlainAlice + "\r\nAUTH PLAIN\r\n",
      {refused, refused, refused, refused}, {}, default_limits(), remote_peer());
}

TEST_CASE("plaintext login is allowed on loopback and when the setting allows it") {
  feed_all_ways("USER alice\r\nPASS secret\r\n", kLoginOk, {}, default_limits(), loopback_peer());
  Limits lenient = default_limits();
  lenient.allow_plaintext_login = true;
  feed_all_ways("USER alice\r\nPASS secret\r\n", kLoginOk, {}, lenient, remote_peer());
}

TEST_CASE("a locked maildrop is answered -ERR [IN-USE]; other store errors [SYS/TEMP]") {
  auto busy = [](FakeNet& net) {
    net.host.open_error = core::make_error(core::Errc::busy, "lock");
  };
  feed_all_ways("USER alice\r\nPASS secret\r\nSTAT\r\n",
                {"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
                 "S: -ERR [IN-USE] Maildrop is locked by another session; try again later",
                 "S: -ERR STAT is not valid before login"},
                busy);
  for (auto code : {core::Errc::full, core::Errc::io, core::Errc::fatal}) {
    auto fail = [code](FakeNet& net) { net.host.open_error = core::make_error(code, "open"); };
    feed_all_ways("USER alice\r\nPASS secret\r\n",
                  {"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
                   "S: -ERR [SYS/TEMP] Temporary server failure; try again later"},
                  fail);
  }
  auto delay = [](FakeNet& net) {
    net.host.open_error = core::make_error(core::Errc::denied, "delay");
  };
  feed_all_ways("USER alice\r\nPASS secret\r\n",
                {"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
                 "S: -ERR [LOGIN-DELAY] Logged in too recently; try again later"},
                delay);
}

TEST_CASE("QUIT in AUTHORIZATION signs off, closes, and updates nothing") {
  feed_all_ways("USER alice\r\nQUIT\r\nNOOP\r\n",
                {"S: +OK Send PASS", "S: +OK mail.example POP3 server signing off",
                 "H: session_ended reason=quit user= retrieved=0 deleted=0 removed=0", "H: close"});
}

TEST_CASE("QUIT's reply carries the close: sent first, then the close, nothing read after") {
  CHECK(replies::quit_authorization("mail.example").close_after);
  CHECK_FALSE(replies::ok().close_after);
  CHECK_FALSE(replies::unknown_command().close_after);
  FakeNet net;
  net.host.transcript.clear();
  net.client("QUIT\r\nNOOP\r\n");
  CHECK(net.host.transcript ==
        std::vector<std::string>{
            "S: +OK mail.example POP3 server signing off",
            "H: session_ended reason=quit user= retrieved=0 deleted=0 removed=0", "H: close"});
  CHECK(net.session.state() == State::closed);
  CHECK(net.buffer == "NOOP\r\n");  // never read
}

TEST_CASE("+OK to PASS waits for the maildrop snapshot; pipelined commands wait behind it") {
  FakeNet net;
  net.auto_complete = false;
  net.host.maildrops["alice"] = {{"u1", "a\r\n"}, {"u2", "bc\r\n"}};
  net.host.transcript.clear();
  net.client("USER alice\r\nPASS secret\r\nSTAT\r\nUIDL\r\n");
  REQUIRE(net.complete_one());  // the password is good: the maildrop is asked for
  // RFC 1939 §4: no "+OK" before the maildrop is locked and snapshotted.
  CHECK(net.host.transcript.back() == "H: open_maildrop alice");
  CHECK(net.session.state() == State::authorization);
  CHECK_FALSE(net.session.wants_input());
  net.run();
  CHECK(net.buffer == "STAT\r\nUIDL\r\n");
  net.session.on_drain();                 // not awaited: harmless
  net.session.on_password_checked(true);  // not awaited: ignored
  CHECK(net.host.transcript.back() == "H: open_maildrop alice");
  REQUIRE(net.complete_one());
  CHECK(net.session.state() == State::transaction);
  net.run();
  CHECK(lines(net.host.transcript) ==
        lines({"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
               "S: +OK Logged in, 2 messages (7 octets)", "S: +OK 2 7",
               "S: +OK Unique-ID listing follows", "S: 1 u1", "S: 2 u2", "S: ."}));
  // A late second answer changes nothing.
  net.session.on_maildrop_opened(core::make_error(core::Errc::busy, "late"));
  CHECK(net.session.state() == State::transaction);
}

TEST_CASE("a drop or a timeout while the snapshot is pending ends the session, unauthenticated") {
  for (bool timeout : {false, true}) {
    INFO("timeout: " << timeout);
    FakeNet net;
    net.auto_complete = false;
    net.host.maildrops["alice"] = {{"u1", "a\r\n"}};
    net.client("USER alice\r\nPASS secret\r\n");
    REQUIRE(net.complete_one());
    REQUIRE(net.host.maildrop_request);
    if (timeout) {
      net.session.on_timeout();
      CHECK(net.host.closed);
    } else {
      net.session.on_disconnect();
      CHECK_FALSE(net.host.closed);
    }
    REQUIRE(net.host.summary);  // session_ended: the host releases the maildrop lock
    CHECK(net.host.summary->reason == (timeout ? EndReason::timeout : EndReason::disconnect));
    CHECK_FALSE(net.host.summary->authenticated);
    const std::size_t sent = net.host.raw.size();
    const std::size_t calls = net.host.transcript.size();
    REQUIRE(net.complete_one());  // the snapshot arrives after all
    CHECK(net.host.raw.size() == sent);
    CHECK(net.host.transcript.size() == calls);
    CHECK(net.session.state() == State::closed);
    CHECK_FALSE(net.session.wants_input());
  }
}

}  // namespace postern::pop3::test
