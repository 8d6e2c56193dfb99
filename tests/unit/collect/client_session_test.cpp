// collect::ClientSession against a scripted server: login variants, listing, streamed
// RETR with dot-unstuffing, deletion only after commit and QUIT, failures in words.
#include <doctest/doctest.h>

#include "fake_server.h"

namespace postern::collect::test {
namespace {

constexpr Split kSplits[] = {Split::whole, Split::bytes, Split::random};

std::vector<ServerMessage> two_messages() {
  return {{"uid-a", "Subject: a\r\n\r\n.leading dot\r\n..two\r\nend\r\n"},
          {"uid-b", "Subject: b\r\n\r\nbody b\r\n.\r\nafter lone dot\r\n"}};
}

}  // namespace

TEST_CASE("a plain run lists, fetches every message byte for byte and quits") {
  for (Split split : kSplits) {
    INFO("split " << static_cast<int>(split));
    Driver d;
    d.split = split;
    d.server.messages = two_messages();
    d.run();
    CHECK(lines(d.transcript) ==
          "C: CAPA\nC: USER alice\nC: PASS secret\nC: STAT\nC: LIST\nC: UIDL\n"
          "H: plan listed=2 fetch=2\nC: RETR 1\nH: deliver uid-a 40\nC: RETR 2\n"
          "H: deliver uid-b 41\nC: QUIT\nH: finished none fetched=2 deleted=0\n");
    CHECK(d.delivered["uid-a"] == d.server.messages[0].body);
    CHECK(d.delivered["uid-b"] == d.server.messages[1].body);
    CHECK(d.server.removed.empty());
  }
}

TEST_CASE("messages collected before are not fetched again") {
  Driver d;
  d.server.messages = two_messages();
  d.already = {"uid-a"};
  d.run();
  CHECK(d.delivered.size() == 1);
  CHECK(d.delivered.count("uid-b") == 1);
  CHECK(d.outcome->fetched == 1);
}

TEST_CASE("delete-once-collected sends DELE only after each commit, removed at QUIT") {
  for (Split split : kSplits) {
    Driver d;
    d.split = split;
    d.delete_after = true;
    d.limits.max_pending_deliveries = 1;
    d.server.messages = two_messages();
    d.run();
    CHECK(lines(d.transcript) ==
          "C: CAPA\nC: USER alice\nC: PASS secret\nC: STAT\nC: LIST\nC: UIDL\n"
          "H: plan listed=2 fetch=2\nC: RETR 1\nH: deliver uid-a 40\nC: DELE 1\nC: RETR 2\n"
          "H: deliver uid-b 41\nC: DELE 2\nC: QUIT\nH: finished none fetched=2 deleted=2\n");
    CHECK(d.server.removed == std::vector<std::size_t>{1, 2});
  }
}

TEST_CASE("a failed commit deletes nothing of that message and stops fetching") {
  Driver d;
  d.delete_after = true;
  d.server.messages = two_messages();
  d.delivery_error = core::Error{core::Errc::full, 28, "deliver"};
  d.limits.max_pending_deliveries = 1;
  d.run();
  REQUIRE(d.outcome);
  CHECK(d.outcome->failure == Failure::store);
  CHECK(d.server.removed.empty());
  CHECK(lines(d.transcript).find("RETR 2") == std::string::npos);
}

TEST_CASE("a link cut anywhere deletes only what was delivered, and delivers whole copies") {
  std::size_t total = 0;
  {
    Driver whole;
    whole.server.messages = two_messages();
    whole.delete_after = true;
    whole.run();
    REQUIRE(whole.outcome->ok());
    total = whole.bytes_fed();
  }
  for (std::size_t cut = 1; cut < total; ++cut) {
    INFO("cut after " << cut << " of " << total);
    Driver d;
    d.delete_after = true;
    d.server.messages = two_messages();
    d.cut_after_bytes = cut;
    d.split = Split::random;
    d.run();
    REQUIRE(d.outcome);
    CHECK(d.outcome->failure == Failure::network);
    CHECK(d.outcome->deleted == 0);
    for (std::size_t n : d.server.removed) CHECK(d.delivered.count(n == 1 ? "uid-a" : "uid-b"));
    if (d.delivered.count("uid-a")) CHECK(d.delivered["uid-a"] == d.server.messages[0].body);
    if (d.delivered.count("uid-b")) CHECK(d.delivered["uid-b"] == d.server.messages[1].body);
  }
}

TEST_CASE("old durable messages in the plan are deleted, with QUIT") {
  Driver d;
  d.server.messages = two_messages();
  d.already = {"uid-a", "uid-b"};
  d.remove_uids = {"uid-a"};
  d.run();
  CHECK(lines(d.transcript).find("C: DELE 1\nC: QUIT\n") != std::string::npos);
  CHECK(d.server.removed == std::vector<std::size_t>{1});
  CHECK(d.outcome->deleted == 1);
}

TEST_CASE("STLS is used when offered, and CAPA is asked again after the handshake") {
  for (Split split : kSplits) {
    Driver d;
    d.split = split;
    d.server.capa = {"STLS", "UIDL", "TOP", "SASL PLAIN"};
    d.run({"alice", "secret", TlsMode::stls});
    CHECK(lines(d.transcript) ==
          "C: CAPA\nC: STLS\nH: start_tls\nC: CAPA\nC: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
          "C: STAT\nC: LIST\nC: UIDL\nH: plan listed=0 fetch=0\nC: QUIT\n"
          "H: finished none fetched=0 deleted=0\n");
  }
}

TEST_CASE("a server without STLS is refused before any password is sent") {
  Driver d;
  d.run({"alice", "secret", TlsMode::stls});
  CHECK(lines(d.transcript) == "C: CAPA\nH: finished no-tls fetched=0 deleted=0\n");
  CHECK(describe(Failure::no_tls, "").find("server offers no TLS") == 0);
}

TEST_CASE("POP3S skips STLS") {
  Driver d;
  d.server.capa = {"UIDL"};
  d.run({"alice", "secret", TlsMode::pop3s}, true);
  CHECK(lines(d.transcript).find("C: CAPA\nC: USER alice\n") == 0);
}

TEST_CASE("a wrong password is reported in plain words") {
  Driver d;
  d.server.password = "other";
  d.run();
  REQUIRE(d.outcome);
  CHECK(d.outcome->failure == Failure::auth);
  CHECK(describe(d.outcome->failure, d.outcome->detail) ==
        "authentication failed — check the user name and password ([AUTH] Authentication "
        "failed.)");
}

TEST_CASE("[IN-USE] is told apart from a wrong password (RFC 3206)") {
  Driver d;
  d.server.password = "other";
  d.server.auth_error = "-ERR [IN-USE] Mailbox locked";
  d.run();
  CHECK(d.outcome->failure == Failure::in_use);
}

TEST_CASE("without UIDL, a digest of the headers from TOP n 0 identifies messages") {
  for (Split split : kSplits) {
    Driver d;
    d.split = split;
    d.server.uidl_supported = false;
    d.server.messages = two_messages();
    d.run();
    CHECK(lines(d.transcript)
              .find("C: UIDL\nC: TOP 1 0\nC: TOP 2 0\nH: plan listed=2 fetch=2 "
                    "headers\n") != std::string::npos);
    CHECK(d.outcome->uid_from_headers);
    CHECK(d.delivered.size() == 2);
    for (const auto& [uid, body] : d.delivered) CHECK(uid.rfind("hdr:", 0) == 0);
  }
}

TEST_CASE("neither UIDL nor TOP: the run stops with a sentence") {
  Driver d;
  d.server.uidl_supported = false;
  d.server.capa = {"USER"};
  d.server.messages = two_messages();
  d.run();
  CHECK(d.outcome->failure == Failure::no_uidl);
  CHECK(d.delivered.empty());
}

TEST_CASE("a server without CAPA is still collected") {
  Driver d;
  d.server.capa_supported = false;
  d.server.messages = two_messages();
  d.run();
  CHECK(d.outcome->ok());
  CHECK(d.delivered.size() == 2);
}

TEST_CASE("a large message streams through in many pieces") {
  std::string body = "Subject: big\r\n\r\n";
  for (int i = 0; i < 20000; ++i) body += (i % 7 == 0 ? "." : "") + std::to_string(i) + "\r\n";
  Driver d;
  d.split = Split::random;
  d.server.messages = {{"big", body}};
  d.run();
  CHECK(d.delivered["big"] == body);
}

TEST_CASE("an over-long reply line is a protocol failure, not unbounded memory") {
  Driver d;
  d.limits.max_line_bytes = 64;
  d.server.capa = {std::string(200, 'X')};
  d.run();
  CHECK(d.outcome->failure == Failure::protocol);
}

}  // namespace postern::collect::test
