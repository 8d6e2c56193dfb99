// collect::BodyReader: dot-unstuffing and the terminator in every split.
#include <doctest/doctest.h>

#include "collect/body_reader.h"

namespace postern::collect {

namespace {
// Feeds `wire` split into pieces of `step` bytes, keeping unconsumed bytes.
std::pair<std::string, std::string> read_in_steps(const std::string& wire, std::size_t step) {
  BodyReader reader;
  std::string out, buffer;
  std::size_t pos = 0;
  while (!reader.done() && pos < wire.size()) {
    buffer += wire.substr(pos, step);
    pos += step;
    buffer.erase(0, reader.read(buffer, out));
  }
  return {out, buffer + (pos < wire.size() ? wire.substr(pos) : "")};
}
}  // namespace

TEST_CASE("dots are unstuffed and the terminator ends the body, in any split") {
  const std::string wire = "..a\r\nb.c\r\n...\r\n.x\r\n\r\n.\r\n+OK next";
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    INFO("step " << step);
    auto [body, rest] = read_in_steps(wire, step);
    CHECK(body == ".a\r\nb.c\r\n..\r\nx\r\n\r\n");
    CHECK(rest == "+OK next");
  }
}

TEST_CASE("an empty body is just the terminator") {
  auto [body, rest] = read_in_steps(".\r\n", 1);
  CHECK(body.empty());
  CHECK(rest.empty());
}

}  // namespace postern::collect
