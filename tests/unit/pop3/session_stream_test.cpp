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

// `count` messages; message n (1-based) is n % 7 + 1 'x' octets plus CRLF, UIDL "uid-<n>".
void many_messages(FakeNet& net, int count) {
  auto& drop = net.host.maildrops["alice"];
  for (int n = 1; n <= count; ++n)
    drop.push_back({"uid-" + std::to_string(n), std::string(n % 7 + 1, 'x') + "\r\n"});
}

std::uint64_t size_of(int n) {
  return static_cast<std::uint64_t>(n % 7 + 3);
}

// The listing's lines for messages 1..count, leaving out `deleted`.
std::vector<std::string> listing_lines(int count, bool uidl, int deleted = 0) {
  std::vector<std::string> out;
  for (int n = 1; n <= count; ++n) {
    if (n == deleted) continue;
    out.push_back("S: " + std::to_string(n) + " " +
                  (uidl ? "uid-" + std::to_string(n) : std::to_string(size_of(n))));
  }
  out.push_back("S: .");
  return out;
}

std::string wire(const std::vector<std::string>& transcript) {
  std::string out;
  for (const auto& line : transcript) out += line.substr(3) + "\r\n";
  return out;
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

TEST_CASE("UIDL and LIST of 5000 messages go out byte for byte in bounded batches") {
  FakeNet net;
  many_messages(net, 5000);
  net.client(kLogin);
  std::uint64_t octets = 0;
  for (int n = 1; n <= 5000; ++n) octets += size_of(n);
  for (bool uidl : {true, false}) {
    INFO("uidl: " << uidl);
    const std::size_t mark = net.host.raw.size();
    const std::size_t first_send = net.host.send_sizes.size();
    net.client(uidl ? "UIDL\r\n" : "LIST\r\n");
    std::vector<std::string> expected = {uidl ? "S: +OK Unique-ID listing follows"
                                              : "S: +OK 5000 messages (" + std::to_string(octets) +
                                                    " octets)"};
    for (auto& line : listing_lines(5000, uidl)) expected.push_back(line);
    CHECK(net.host.raw.substr(mark) == wire(expected));
    // Never the whole listing in one write: batches of about 16 KiB (plus one line).
    const std::size_t sends = net.host.send_sizes.size() - first_send;
    CHECK(sends >= (net.host.raw.size() - mark) / (16 * 1024));
    CHECK(sends > 1);
    for (std::size_t i = first_send; i < net.host.send_sizes.size(); ++i)
      CHECK(net.host.send_sizes[i] <= 16 * 1024 + 64);
    CHECK(net.session.wants_input());
  }
}

TEST_CASE("a listing pauses while the write queue is full and resumes on drain") {
  FakeNet net;
  many_messages(net, 6000);  // about 100 KB of UIDL lines: several batches
  net.client(kLogin);
  net.host.send_budget = 100;
  const std::size_t mark = net.host.raw.size();
  net.client("UIDL\r\nNOOP\r\n");
  CHECK_FALSE(net.session.wants_input());
  CHECK(net.buffer == "NOOP\r\n");  // the pipelined command waits for the listing
  CHECK(net.host.raw.size() - mark <= 16 * 1024 + 64);  // one batch, then the pause
  int drains = 0;
  while (!net.session.wants_input() && drains < 10000) {
    net.host.send_budget = 100;
    net.session.on_drain();
    ++drains;
  }
  CHECK(drains >= 3);
  net.run();
  std::vector<std::string> expected = {"S: +OK Unique-ID listing follows"};
  for (auto& line : listing_lines(6000, true)) expected.push_back(line);
  expected.push_back("S: +OK");
  CHECK(net.host.raw.substr(mark) == wire(expected));
}

TEST_CASE("streamed listings read the same whole, byte at a time and in random splits") {
  constexpr int kCount = 2000;
  auto setup = [](FakeNet& net) {
    many_messages(net, kCount);
    net.host.send_budget = 64;  // every batch fills the queue: each listing needs drains
    net.drain_budget = 64;
  };
  std::uint64_t octets = 0;
  for (int n = 1; n <= kCount; ++n) octets += size_of(n);
  const std::uint64_t left = octets - size_of(2);
  std::vector<std::string> expected = {
      "S: +OK Send PASS",
      "H: check_password alice secret",
      "H: open_maildrop alice",
      "S: +OK Logged in, " + std::to_string(kCount) + " messages (" + std::to_string(octets) +
          " octets)",
      "S: +OK Message 2 marked deleted",
      "S: +OK " + std::to_string(kCount - 1) + " messages (" + std::to_string(left) + " octets)"};
  for (auto& line : listing_lines(kCount, false, 2)) expected.push_back(line);
  expected.push_back("S: +OK Unique-ID listing follows");
  for (auto& line : listing_lines(kCount, true, 2)) expected.push_back(line);
  expected.push_back("S: +OK " + std::to_string(kCount - 1) + " " + std::to_string(left));
  expected.push_back("S: +OK 3 uid-3");
  feed_all_ways(kLogin + "DELE 2\r\nLIST\r\nUIDL\r\nSTAT\r\nUIDL 3\r\n", expected, setup);
}

TEST_CASE("a drop in the middle of a listing ends the session; a late drain sends nothing") {
  FakeNet net;
  many_messages(net, 3000);
  net.client(kLogin);
  net.host.send_budget = 10;
  net.client("LIST\r\n");
  CHECK_FALSE(net.session.wants_input());
  net.session.on_disconnect();
  REQUIRE(net.host.summary);
  CHECK(net.host.summary->reason == EndReason::disconnect);
  const std::size_t sent = net.host.raw.size();
  net.host.send_budget = SIZE_MAX;
  net.session.on_drain();
  CHECK(net.host.raw.size() == sent);
}

TEST_CASE("an empty maildrop lists only the terminator") {
  feed_all_ways(kLogin + "LIST\r\nUIDL\r\n",
                {"S: +OK Send PASS", "H: check_password alice secret", "H: open_maildrop alice",
                 "S: +OK Logged in, 0 messages (0 octets)", "S: +OK 0 messages (0 octets)", "S: .",
                 "S: +OK Unique-ID listing follows", "S: ."});
}

}  // namespace postern::pop3::test
