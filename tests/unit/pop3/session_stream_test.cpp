// pop3::Session RETR and TOP: byte-exact dot-stuffing, chunk boundaries, backpressure.
#include <doctest/doctest.h>

#include "recording_host.h"

namespace postern::pop3::test {
namespace {

const std::string kLogin = "USER alice\r\nPASS secret\r\n";

// Logs in with one stored message and returns the bytes sent after the login reply.
std::string retrieve(const std::string& body, const std::string& command, std::size_t chunk_size,
                     FakeNet* out_net = nullptr) {
  FakeNet local;
  FakeNet& net = out_net ? *out_net : local;
  net.host.maildrops["alice"] = {{"u1", body}};
  net.host.chunk_size = chunk_size;
  net.client(kLogin);
  const std::size_t mark = net.host.raw.size();
  net.client(command);
  return net.host.raw.substr(mark);
}

}  // namespace

TEST_CASE("RETR sends the size, the stuffed body and the terminator, byte for byte") {
  const std::string body = "Subject: dots\r\n\r\n.leading\r\nmid.dle\r\n..two\r\n.\r\nend\r\n";
  const std::string expected =
      "+OK 51 octets\r\nSubject: dots\r\n\r\n..leading\r\nmid.dle\r\n"
      "...two\r\n..\r\nend\r\n.\r\n";
  REQUIRE(body.size() == 51);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 16u, 17u, 18u, 1000u}) {
    INFO("chunk size " << chunk);
    CHECK(retrieve(body, "RETR 1\r\n", chunk) == expected);
  }
}

TEST_CASE("a '.' right after a chunk boundary at a line start is stuffed") {
  // With 5-octet chunks the second chunk starts exactly at ".x".
  const std::string body = "abc\r\n.x\r\n";
  CHECK(retrieve(body, "RETR 1\r\n", 5) == "+OK 9 octets\r\nabc\r\n..x\r\n.\r\n");
  CHECK(retrieve(body, "RETR 1\r\n", 4) == "+OK 9 octets\r\nabc\r\n..x\r\n.\r\n");
}

// The store never holds such a body (store/stored_form.h); should a damaged one appear, the
// terminator must still be recognisable.
TEST_CASE("a body without a final CRLF still ends with CRLF before the terminator") {
  CHECK(retrieve("Subject: x\r\n\r\nno newline", "RETR 1\r\n", 4) ==
        "+OK 24 octets\r\nSubject: x\r\n\r\nno newline\r\n.\r\n");
  CHECK(retrieve("ends in CR\r", "RETR 1\r\n", 3) == "+OK 11 octets\r\nends in CR\r\n.\r\n");
  CHECK(retrieve("", "RETR 1\r\n", 3) == "+OK 0 octets\r\n.\r\n");
  CHECK(retrieve(".", "RETR 1\r\n", 3) == "+OK 1 octets\r\n..\r\n.\r\n");
}

TEST_CASE("TOP sends the headers, the blank line and the first n body lines") {
  const std::string body = "A: 1\r\nB: 2\r\n\r\n.l1\r\nl2\r\nl3\r\n";
  for (std::size_t chunk : {1u, 3u, 64u}) {
    INFO("chunk size " << chunk);
    CHECK(retrieve(body, "TOP 1 0\r\n", chunk) ==
          "+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n.\r\n");
    CHECK(retrieve(body, "TOP 1 2\r\n", chunk) ==
          "+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n..l1\r\nl2\r\n.\r\n");
    CHECK(retrieve(body, "TOP 1 99\r\n", chunk) ==
          "+OK Top of message follows\r\nA: 1\r\nB: 2\r\n\r\n..l1\r\nl2\r\nl3\r\n.\r\n");
  }
  CHECK(retrieve("A: 1\r\nB: 2", "TOP 1 5\r\n", 4) ==
        "+OK Top of message follows\r\nA: 1\r\nB: 2\r\n.\r\n");
}

TEST_CASE("TOP stops reading chunks once it has its lines") {
  FakeNet net;
  std::string body = "A: 1\r\n\r\nfirst\r\n";
  for (int i = 0; i < 1000; ++i) body += "more body text\r\n";
  retrieve(body, "TOP 1 1\r\n", 8, &net);
  CHECK(net.host.chunk_reads <= 3);
}

TEST_CASE("a partial TOP does not mark a message retrieved; RETR does, once") {
  FakeNet net;
  retrieve("x: 1\r\n\r\nbody\r\n", "TOP 1 0\r\nRETR 1\r\nRETR 1\r\n", 2, &net);
  net.session.on_disconnect();
  CHECK(net.host.summary->retrieved == 1);
}

TEST_CASE("RETR pauses while the write queue is full and resumes on drain") {
  FakeNet net;
  std::string body;
  for (int i = 0; i < 50; ++i) body += "line " + std::to_string(i) + "\r\n";
  net.host.maildrops["alice"] = {{"u1", body}};
  net.host.chunk_size = 10;
  net.client(kLogin);
  net.host.send_budget = 30;
  const std::size_t mark = net.host.raw.size();
  net.client("RETR 1\r\nNOOP\r\n");
  CHECK_FALSE(net.session.wants_input());
  CHECK(net.buffer == "NOOP\r\n");  // pipelined command waits for the stream
  const std::size_t reads_when_paused = net.host.chunk_reads;
  CHECK(reads_when_paused < body.size() / 10);
  CHECK(net.host.raw.size() - mark < 60);
  int drains = 0;
  while (!net.session.wants_input() && drains < 1000) {
    net.host.send_budget = 30;
    net.session.on_drain();
    ++drains;
  }
  CHECK(drains > 3);
  net.run();
  CHECK(net.host.raw.substr(mark) ==
        "+OK " + std::to_string(body.size()) + " octets\r\n" + body + ".\r\n+OK\r\n");
  net.session.on_drain();  // no stream: harmless
}

TEST_CASE("a store error before the first byte is -ERR [SYS/TEMP]; after it, the session ends") {
  FakeNet early;
  early.host.read_error = core::make_error(core::Errc::io, "chunk");
  CHECK(retrieve("abcdefgh\r\n", "RETR 1\r\nNOOP\r\n", 4, &early) ==
        "-ERR [SYS/TEMP] Temporary server failure; try again later\r\n+OK\r\n");

  FakeNet late;
  late.host.read_error = core::make_error(core::Errc::corrupt, "chunk");
  late.host.read_error_at_chunk = 1;
  CHECK(retrieve("abcdefgh\r\n", "RETR 1\r\nNOOP\r\n", 4, &late) == "+OK 10 octets\r\nabcd");
  REQUIRE(late.host.summary);
  CHECK(late.host.summary->reason == EndReason::store_error);
  CHECK(late.host.summary->retrieved == 0);
  CHECK(late.host.closed);
}

TEST_CASE("a drop in the middle of RETR does not count the message as retrieved") {
  FakeNet net;
  net.host.maildrops["alice"] = {{"u1", std::string(100, 'x') + "\r\n"}};
  net.host.chunk_size = 10;
  net.client(kLogin);
  net.host.send_budget = 5;
  net.client("RETR 1\r\n");
  net.session.on_disconnect();
  net.session.on_drain();
  CHECK(net.host.summary->retrieved == 0);
  CHECK(net.host.summary->reason == EndReason::disconnect);
}

}  // namespace postern::pop3::test
