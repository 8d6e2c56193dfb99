// pop3::Session in TRANSACTION: STAT, LIST, UIDL, DELE, RSET, NOOP, numbers, UPDATE on QUIT.
#include <doctest/doctest.h>

#include "recording_host.h"

namespace postern::pop3::test {
namespace {

// Three messages of 10, 20 and 30 octets; keys 100, 101, 102.
void three_messages(FakeNet& net) {
  net.host.maildrops["alice"] = {{"uid-a", std::string(8, 'a') + "\r\n"},
                                 {"uid-b", std::string(18, 'b') + "\r\n"},
                                 {"uid-c", std::string(28, 'c') + "\r\n"}};
}

const std::string kLogin = "USER alice\r\nPASS secret\r\n";

std::vector<std::string> after_login(std::vector<std::string> rest) {
  std::vector<std::string> all = {"S: +OK Send PASS", "H: check_password alice secret",
                                  "H: open_maildrop alice",
                                  "S: +OK Logged in, 3 messages (60 octets)"};
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

}  // namespace

TEST_CASE("STAT, LIST and UIDL describe the snapshot") {
  feed_all_ways(
      kLogin + "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 3\r\nNOOP\r\n",
      after_login({"S: +OK 3 60", "S: +OK 3 messages (60 octets)", "S: 1 10", "S: 2 20", "S: 3 30",
                   "S: .", "S: +OK 2 20", "S: +OK Unique-ID listing follows", "S: 1 uid-a",
                   "S: 2 uid-b", "S: 3 uid-c", "S: .", "S: +OK 3 uid-c", "S: +OK"}),
      three_messages);
}

TEST_CASE("DELE hides a message from STAT and LIST; RSET brings it back") {
  feed_all_ways(kLogin + "DELE 2\r\nSTAT\r\nLIST\r\nUIDL\r\nRSET\r\nSTAT\r\n",
                after_login({"S: +OK Message 2 marked deleted", "S: +OK 2 40",
                             "S: +OK 2 messages (40 octets)", "S: 1 10", "S: 3 30", "S: .",
                             "S: +OK Unique-ID listing follows", "S: 1 uid-a", "S: 3 uid-c", "S: .",
                             "S: +OK Maildrop has 3 messages (60 octets)", "S: +OK 3 60"}),
                three_messages);
}

TEST_CASE("numbers out of range or marked deleted are refused with the number") {
  feed_all_ways(
      kLogin +
          "DELE 1\r\nLIST 0\r\nLIST 4\r\nRETR 1\r\nDELE 1\r\nTOP 1 0\r\n"
          "UIDL 1\r\nLIST 1\r\nRETR 99\r\n",
      after_login({"S: +OK Message 1 marked deleted", "S: -ERR No message 0 in the maildrop",
                   "S: -ERR No message 4 in the maildrop", "S: -ERR Message 1 is marked deleted",
                   "S: -ERR Message 1 is marked deleted", "S: -ERR Message 1 is marked deleted",
                   "S: -ERR Message 1 is marked deleted", "S: -ERR Message 1 is marked deleted",
                   "S: -ERR No message 99 in the maildrop"}),
      three_messages);
}

TEST_CASE("bad arguments are answered with the command's syntax") {
  feed_all_ways(
      kLogin +
          "RETR\r\nRETR x\r\nRETR -1\r\nRETR 1 2\r\nDELE\r\nTOP 1\r\nTOP 1 x\r\n"
          "LIST a\r\nLIST 1 2\r\nUIDL +1\r\nSTAT 1\r\nNOOP x\r\nRSET 1\r\n"
          "RETR 99999999999999999999\r\n",
      after_login(
          {"S: -ERR Syntax: RETR <message number>", "S: -ERR Syntax: RETR <message number>",
           "S: -ERR Syntax: RETR <message number>", "S: -ERR Syntax: RETR <message number>",
           "S: -ERR Syntax: DELE <message number>", "S: -ERR Syntax: TOP <message number> <lines>",
           "S: -ERR Syntax: TOP <message number> <lines>", "S: -ERR Syntax: LIST [message number]",
           "S: -ERR Syntax: LIST [message number]", "S: -ERR Syntax: UIDL [message number]",
           "S: -ERR Syntax: STAT", "S: -ERR Syntax: NOOP", "S: -ERR Syntax: RSET",
           "S: -ERR Syntax: RETR <message number>"}),
      three_messages, [] {
        Limits limits = default_limits();
        limits.max_errors = 100;
        return limits;
      }());
}

TEST_CASE("verbs are case-insensitive and a trailing space is tolerated") {
  feed_all_ways(kLogin + "stat\r\nLiSt 1 \r\nnoop \r\n",
                after_login({"S: +OK 3 60", "S: +OK 1 10", "S: +OK"}), three_messages);
}

TEST_CASE("QUIT enters UPDATE and hands the deleted and retrieved keys to the host") {
  FakeNet net;
  three_messages(net);
  net.client(kLogin + "RETR 1\r\nDELE 1\r\nDELE 3\r\nQUIT\r\n");
  CHECK(net.host.last_deleted == std::vector<std::uint64_t>{100, 102});
  CHECK(net.host.last_retrieved == std::vector<std::uint64_t>{100});
  const std::vector<std::string> tail(net.host.transcript.end() - 4, net.host.transcript.end());
  CHECK(tail == std::vector<std::string>{
                    "H: update deleted=100,102 retrieved=100",
                    "S: +OK postern signing off (1 messages left)",
                    "H: session_ended reason=quit user=alice retrieved=1 deleted=2 removed=2",
                    "H: close"});
}

TEST_CASE("QUIT waits for the commit: nothing is answered until on_updated") {
  FakeNet net;
  three_messages(net);
  net.auto_complete = false;
  net.client(kLogin);
  net.complete_one();  // the password
  net.complete_one();  // the snapshot
  net.client("DELE 2\r\nQUIT\r\nNOOP\r\n");
  CHECK(net.session.state() == State::update);
  CHECK_FALSE(net.session.wants_input());
  CHECK(net.host.transcript.back() == "H: update deleted=101 retrieved=-");
  net.session.on_updated(core::Result<void>());
  CHECK(net.host.transcript.back() == "H: close");
  CHECK(net.buffer == "NOOP\r\n");  // never answered: the session is over
  CHECK(net.host.summary->reason == EndReason::quit);
  CHECK_FALSE(net.host.summary->abnormal());
}

TEST_CASE("a failed UPDATE commit is answered -ERR [SYS/TEMP] and reported abnormal") {
  auto fail = [](FakeNet& net) {
    three_messages(net);
    net.update_outcome = core::make_error(core::Errc::full, "commit");
  };
  feed_all_ways(
      kLogin + "DELE 1\r\nQUIT\r\n",
      after_login({"S: +OK Message 1 marked deleted", "H: update deleted=100 retrieved=-",
                   "S: -ERR [SYS/TEMP] Some deleted messages not removed; try again later",
                   "H: session_ended reason=update-failed user=alice retrieved=0 "
                   "deleted=1 removed=0",
                   "H: close"}),
      fail);
}

TEST_CASE("QUIT with nothing deleted or retrieved needs no commit") {
  feed_all_ways(kLogin + "LIST 1\r\nQUIT\r\n",
                after_login({"S: +OK 1 10", "S: +OK postern signing off (3 messages left)",
                             "H: session_ended reason=quit user=alice retrieved=0 deleted=0 "
                             "removed=0",
                             "H: close"}),
                three_messages);
}

TEST_CASE("DELE then a dropped connection: no UPDATE, reported abnormal with counts") {
  FakeNet net;
  three_messages(net);
  net.client(kLogin + "RETR 2\r\nDELE 1\r\nDELE 2\r\n");
  net.session.on_disconnect();
  CHECK_FALSE(net.host.update_pending);
  for (const auto& line : net.host.transcript) CHECK(line.rfind("H: update", 0) != 0);
  REQUIRE(net.host.summary);
  CHECK(net.host.summary->abnormal());
  CHECK(net.host.summary->reason == EndReason::disconnect);
  CHECK(net.host.summary->user == "alice");
  CHECK(net.host.summary->retrieved == 1);
  CHECK(net.host.summary->marked_deleted == 2);
  CHECK(net.host.summary->removed == 0);
  CHECK_FALSE(net.host.closed);  // the connection is already gone
  CHECK_FALSE(net.session.wants_input());
  net.session.on_disconnect();  // idempotent
  net.session.on_timeout();
  CHECK(net.host.transcript.back().rfind("H: session_ended", 0) == 0);
}

TEST_CASE("the autologout timer closes without a reply and without UPDATE") {
  FakeNet net;
  three_messages(net);
  net.client(kLogin + "DELE 3\r\n");
  const auto before = net.host.raw.size();
  net.clock.advance(std::chrono::minutes(10));
  net.session.on_timeout();
  CHECK(net.host.raw.size() == before);
  CHECK(net.host.transcript.back() == "H: close");
  CHECK(net.host.summary->reason == EndReason::timeout);
  CHECK(net.host.summary->marked_deleted == 1);
  CHECK(net.host.summary->duration == std::chrono::seconds(600));
  CHECK(net.session.limits().idle_timeout >= std::chrono::minutes(10));
}

TEST_CASE("a drop while the UPDATE commit is in flight reports its outcome later") {
  FakeNet net;
  three_messages(net);
  net.auto_complete = false;
  net.client(kLogin);
  net.complete_one();  // the password
  net.complete_one();  // the snapshot
  net.client("DELE 1\r\nQUIT\r\n");
  net.session.on_disconnect();
  CHECK_FALSE(net.host.summary);
  const auto before = net.host.raw.size();
  net.session.on_updated(core::Result<void>());
  CHECK(net.host.raw.size() == before);
  REQUIRE(net.host.summary);
  CHECK(net.host.summary->reason == EndReason::quit);
  CHECK(net.host.summary->removed == 1);
  CHECK_FALSE(net.host.closed);
}

}  // namespace postern::pop3::test
