// smtp::DataReader on its own: the terminator, unstuffing, and what the sink sees.
#include "smtp/data_reader.h"

#include <doctest/doctest.h>

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
  DataReader reader(1000, 1000);
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
  DataReader reader(1000, 1000);
  StringSink sink;
  CHECK_FALSE(reader.feed("x\r", sink).finished);
  CHECK_FALSE(reader.feed("\n.\r", sink).finished);
  DataReader::Step step = reader.feed("\nrest", sink);
  CHECK(step.finished);
  CHECK(step.consumed == 1);
  CHECK(sink.received == "x\r\n");
}

TEST_CASE("the first failure is kept and nothing more reaches the sink") {
  DataReader reader(1000, 10);
  StringSink sink;
  reader.feed("short\r\n0123456789abc\r\nbare\nline\r\n", sink);
  REQUIRE(reader.failure().has_value());
  CHECK(*reader.failure() == AbortReason::line_too_long);
  CHECK(sink.received == "short\r\n0123456789");
  CHECK(reader.feed(".\r\n", sink).finished);
}

TEST_CASE("the size limit cuts at the exact octet") {
  DataReader reader(5, 1000);
  StringSink sink;
  reader.feed("abc\r\ndef\r\n", sink);
  CHECK(*reader.failure() == AbortReason::too_big);
  CHECK(sink.received == "abc\r\n");
  CHECK(reader.size() == 10);
}
