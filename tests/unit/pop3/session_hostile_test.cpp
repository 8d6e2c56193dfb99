// pop3::Session against hostile or foreign peers (issue 15) and its UTF-8 support (RFC 6856):
// control bytes, another protocol on the port, lines that never end, UTF8 and LANG.
#include <doctest/doctest.h>

#include "recording_host.h"

namespace postern::pop3::test {
namespace {

const std::string kLogin = "USER alice\r\nPASS secret\r\n";
const std::string kLoggedIn[] = {"S: +OK Send PASS", "H: check_password alice secret",
                                 "H: open_maildrop alice",
                                 "S: +OK Logged in, 0 messages (0 octets)"};

std::vector<std::string> after_login(std::vector<std::string> rest) {
  std::vector<std::string> out(std::begin(kLoggedIn), std::end(kLoggedIn));
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

const char* const kWrongProtocolEnd[] = {
    "S: -ERR This is a POP3 server, not a web server; closing connection",
    "H: session_ended reason=wrong-protocol user= retrieved=0 deleted=0 removed=0", "H: close"};

std::vector<std::string> wrong_protocol_end() {
  return {std::begin(kWrongProtocolEnd), std::end(kWrongProtocolEnd)};
}

}  // namespace

TEST_CASE("every C0 control byte and DEL in a command line is a syntax error, never echoed") {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\n') continue;  // the line end
    CAPTURE(c);
    const std::string line = std::string("USER al") + static_cast<char>(c) + "ice\r\n";
    feed_all_ways(line + "NOOP x\r\n", {"S: -ERR Syntax: command contains a control character",
                                        "S: -ERR NOOP is not valid before login"});
  }
  feed_all_ways(
      "USER al\x7f"
      "ice\r\nPASS a\x1b[2Jb\r\n",
      {"S: -ERR Syntax: command contains a control character",
       "S: -ERR Syntax: command contains a control character"});
  // In TRANSACTION and in an AUTH continuation alike; the session goes on.
  feed_all_ways(kLogin + std::string("DELE\0 1\r\nNOOP\r\n", 15),
                after_login({"S: -ERR Syntax: command contains a control character", "S: +OK"}));
  feed_all_ways("AUTH PLAIN\r\nAGFsaWNl\tAHNlY3JldA==\r\nNOOP\r\n",
                {"S: + ", "S: -ERR Syntax: command contains a control character",
                 "S: -ERR NOOP is not valid before login"});
}

TEST_CASE("a control byte never reaches the password check") {
  FakeNet net;
  net.client(std::string("USER a\0b\r\nPASS x\r\nUSER a\x01\r\nPASS x\r\n", 34));
  for (const auto& line : net.host.transcript) CHECK(line.rfind("H: check_password", 0) != 0);
}

TEST_CASE("an HTTP request on the POP3 port gets one -ERR without echo and the connection closes") {
  const std::string requests[] = {
      "GET / HTTP/1.1\r\nHost: 127.0.0.1:110\r\nUser-Agent: curl/7.88\r\n\r\n",
      "POST /login HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
      "HEAD / HTTP/1.0\r\n\r\n",
      "PUT /x HTTP/1.1\r\n",
      "CONNECT mail.example:443 HTTP/1.1\r\n",
      "OPTIONS * HTTP/1.1\r\n",
      "get / HTTP/1.1\r\n",
      "Host: mail.example\r\nGET / HTTP/1.1\r\n",
      "User-Agent: Mozilla/5.0\r\n",
  };
  for (const auto& request : requests) {
    CAPTURE(request);
    const auto whole = feed_all_ways(request + "QUIT\r\n", wrong_protocol_end());
    for (const auto& line : whole) CHECK(line.find("HTTP/1") == std::string::npos);
  }
  // POP3S (TLS active from the start) and after STLS: the first command inside TLS too.
  feed_all_ways("GET / HTTP/1.1\r\n", wrong_protocol_end(), {}, default_limits(), tls_peer());
  FakeNet net(default_limits(), remote_peer());
  net.client("STLS\r\n");
  net.host.transcript.clear();
  net.client("GET / HTTP/1.1\r\nHost: x\r\n");
  CHECK(lines(net.host.transcript) == lines(wrong_protocol_end()));
}

TEST_CASE("an HTTP line after login ends the session without UPDATE") {
  FakeNet net;
  net.host.maildrops["alice"] = {{"u1", "x\r\n"}};
  net.client(kLogin + "DELE 1\r\nHost: evil.example\r\nQUIT\r\n");
  CHECK_FALSE(net.host.update_pending);
  REQUIRE(net.host.summary.has_value());
  CHECK(net.host.summary->reason == EndReason::wrong_protocol);
  CHECK(net.host.closed);
}

TEST_CASE("a line that never ends is refused as soon as it crosses the limit, then cut off") {
  FakeNet net;
  net.host.transcript.clear();  // the greeting
  net.client(std::string(254, 'x'));
  CHECK(net.host.transcript.empty());  // still fits: 255 with its LF
  net.client("x");
  CHECK(lines(net.host.transcript) == lines({"S: -ERR Line too long"}));  // before any LF
  CHECK(net.buffer.empty());                                              // nothing held
  // The rest of the line is dropped as it comes; the next line is a command again.
  net.client(std::string(10000, 'y') + "\r\nNOOP\r\n");
  CHECK(lines(net.host.transcript) ==
        lines({"S: -ERR Line too long", "S: -ERR NOOP is not valid before login"}));
  CHECK(net.session.wants_input());
}

TEST_CASE("past max_discarded_bytes of one line the connection closes, memory bounded") {
  Limits limits = default_limits();
  limits.max_discarded_bytes = 4096;
  const std::string flood(5000, 'z');
  feed_all_ways(
      flood + "\r\nNOOP\r\n",
      {"S: -ERR Line too long",
       "H: session_ended reason=line-flood user= retrieved=0 deleted=0 removed=0", "H: close"},
      {}, limits);
  FakeNet net;  // the default limit
  for (int i = 0; i < 100 && net.session.wants_input(); ++i) {
    net.client(std::string(4096, 'q'));
    CHECK(net.buffer.size() < 4096);
  }
  CHECK(net.host.closed);
  REQUIRE(net.host.summary.has_value());
  CHECK(net.host.summary->reason == EndReason::line_flood);
}

TEST_CASE("an over-long AUTH continuation is refused at its own limit and AUTH ends") {
  const std::string huge(1100, 'A');
  feed_all_ways("AUTH PLAIN\r\n" + huge + "\r\nNOOP\r\n",
                {"S: + ", "S: -ERR Line too long", "S: -ERR NOOP is not valid before login"});
}

TEST_CASE("UTF8 is announced and accepted before login only; UTF-8 user names pass unchanged") {
  feed_all_ways(
      "UTF8\r\nUTF8 now\r\nUSER j\xc3\xb6rg@b\xc3\xbc"
      "cher.example\r\nPASS p\xc3\xa4ss\r\n",
      {"S: +OK UTF8 enabled", "S: -ERR Syntax: UTF8", "S: +OK Send PASS",
       "H: check_password j\xc3\xb6rg@b\xc3\xbc"
       "cher.example p\xc3\xa4ss",
       "S: -ERR [AUTH] Invalid user name or password"});
  feed_all_ways(kLogin + "UTF8\r\n", after_login({"S: -ERR UTF8 is not valid after login"}));
  // AUTH PLAIN: "\0jörg@x\0pässwort" in base64.
  feed_all_ways("AUTH PLAIN AGrDtnJnQHgAcMOkc3N3b3J0\r\n",
                {"H: check_password j\xc3\xb6rg@x p\xc3\xa4sswort",
                 "S: -ERR [AUTH] Invalid user name or password"});
  FakeNet net;
  net.host.passwords["j\xc3\xb6rg@x"] = "p\xc3\xa4sswort";
  net.client("UTF8\r\nAUTH PLAIN AGrDtnJnQHgAcMOkc3N3b3J0\r\n");
  CHECK(net.session.state() == State::transaction);
}

TEST_CASE("LANG lists English and selects it for en, en-* and *; other languages are refused") {
  feed_all_ways(
      "LANG\r\nLANG en\r\nLANG en-GB\r\nLANG *\r\nLANG fr\r\nLANG en fr\r\n",
      {"S: +OK Language listing follows", "S: en English", "S: .", "S: +OK en Language changed",
       "S: +OK en Language changed", "S: +OK en Language changed",
       "S: -ERR Unsupported language; LANG lists the languages (en)",
       "S: -ERR Syntax: LANG [language-range]"});
  feed_all_ways(kLogin + "LANG EN\r\n", after_login({"S: +OK en Language changed"}));
}

TEST_CASE("a TOP that sent the whole message counts as a retrieval; a partial TOP does not") {
  FakeNet net;
  net.host.maildrops["alice"] = {{"u1", "A: 1\r\n\r\nb1\r\nb2\r\n"},
                                 {"u2", "A: 2\r\n\r\nc1\r\nc2\r\n"},
                                 {"u3", "A: 3\r\n\r\nd1\r\n"}};
  // fetchmail's download: TOP n 99999999; an exact fit (1 body line of 1) is whole too.
  net.client(kLogin + "TOP 1 99999999\r\nTOP 2 1\r\nTOP 3 1\r\nQUIT\r\n");
  CHECK(lines(net.host.transcript).find("H: update deleted=- retrieved=100,102") !=
        std::string::npos);
  REQUIRE(net.host.summary.has_value());
  CHECK(net.host.summary->retrieved == 2);
}

TEST_CASE("an abnormal end says whether the client kept mail on the server or had deleted some") {
  auto ended = [](const std::string& commands) {
    FakeNet net;
    net.host.maildrops["alice"] = {{"u1", "x\r\n"}, {"u2", "y\r\n"}};
    net.client(kLogin + commands);
    net.session.on_disconnect();
    REQUIRE(net.host.summary.has_value());
    return *net.host.summary;
  };
  CHECK(std::string(ended("").mode()) == "none");
  CHECK(std::string(ended("RETR 1\r\nTOP 2 99999999\r\n").mode()) == "keep");
  CHECK(ended("RETR 1\r\nTOP 2 99999999\r\n").retrieved == 2);
  const SessionSummary deleting = ended("RETR 1\r\nDELE 1\r\nRETR 2\r\n");
  CHECK(std::string(deleting.mode()) == "delete");
  CHECK(deleting.retrieved == 2);
  CHECK(deleting.marked_deleted == 1);
  CHECK(deleting.reason == EndReason::disconnect);
}

}  // namespace postern::pop3::test
