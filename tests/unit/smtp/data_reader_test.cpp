// smtp::DataReader on its own: the terminator, unstuffing, and what the sink sees.
#include "smtp/data_reader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using postern::smtp::AbortReason;
using postern::smtp::DataReader;

namespace {

struct StringSink final : DataReader::Sink {
  std::string received;
  int calls = 0;
  void body(std::string_view s) override {
    received += s;
    ++calls;
  }
};

}  // namespace

TEST_CASE("the reader stops right after the terminator and leaves the rest") {
  DataReader reader(1000);
  StringSink sink;
  std::string in = "a\r\n..b\r\n.\r\nNOOP\r\n";
  DataReader::Step step = reader.feed(in, sink);
  CHECK(step.finished);
  CHECK(step.consumed == in.size() - 6);
  CHECK(sink.received == "a\r\n.b\r\n");
  CHECK(reader.size() == 7);
  CHECK_FALSE(reader.failure().has_value());
}

TEST_CASE("a terminator split after its CR is still found") {
  DataReader reader(1000);
  StringSink sink;
  CHECK_FALSE(reader.feed("x\r", sink).finished);
  CHECK_FALSE(reader.feed("\n.\r", sink).finished);
  DataReader::Step step = reader.feed("\nrest", sink);
  CHECK(step.finished);
  CHECK(step.consumed == 1);
  CHECK(sink.received == "x\r\n");
}

TEST_CASE("the first failure is kept and nothing more reaches the sink") {
  DataReader reader(20);
  StringSink sink;
  reader.feed("short\r\nbare\nline and more than twenty octets\r\n", sink);
  REQUIRE(reader.failure().has_value());
  CHECK(*reader.failure() == AbortReason::bad_line_ending);
  CHECK(sink.received == "short\r\nbare");
  CHECK(reader.feed(".\r\n", sink).finished);
  CHECK(*reader.failure() == AbortReason::bad_line_ending);
}

TEST_CASE("a line of any length streams through before its end arrives") {
  // 1 MiB without a line end reaches the sink as it comes, in pieces of at most
  // kMaxChunk, so nothing holds the line; the CRLF and the terminator follow later.
  DataReader reader(4u << 20);
  struct PieceSink final : DataReader::Sink {
    std::size_t octets = 0;
    std::size_t largest = 0;
    bool all_b = true;
    void body(std::string_view s) override {
      octets += s.size();
      largest = std::max(largest, s.size());
      all_b = all_b && s.find_first_not_of('b') == std::string_view::npos;
    }
  } sink;
  const std::string piece(100 * 1000, 'b');
  for (int i = 0; i < 10; ++i) {
    CHECK(reader.feed(piece, sink).consumed == piece.size());
    CHECK(sink.octets == (i + 1) * piece.size());
  }
  CHECK(sink.largest <= DataReader::kMaxChunk);
  CHECK(sink.all_b);
  DataReader::Step step = reader.feed("\r\n.\r\n", sink);
  CHECK(step.finished);
  CHECK_FALSE(reader.failure().has_value());
  CHECK(reader.size() == 1000 * 1000 + 2);
}

TEST_CASE("the size limit cuts at the exact octet") {
  DataReader reader(5);
  StringSink sink;
  reader.feed("abc\r\ndef\r\n", sink);
  CHECK(*reader.failure() == AbortReason::too_big);
  CHECK(sink.received == "abc\r\n");
  CHECK(reader.size() == 10);
}
