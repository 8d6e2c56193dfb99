// DotStuffer: RFC 1939 §3 byte-stuffing of RETR and TOP bodies, across every split.
#include "pop3/dot_stuffer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace postern::pop3 {

TEST_CASE("DotStuffer stuffs across every possible split of a body") {
  const std::string body = ".a\r\n..b\r\nc.\r\n.\r\n.";
  const std::string expected = "..a\r\n...b\r\nc.\r\n..\r\n..\r\n.\r\n";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    DotStuffer stuffer;
    std::string out;
    stuffer.append(body.substr(0, cut), out);
    stuffer.append(body.substr(cut), out);
    stuffer.finish(out);
    CHECK(out == expected);
  }
}

TEST_CASE("DotStuffer TOP counts body lines after the first empty line, across splits") {
  const std::string body = "H: 1\r\n\r\nb1\r\nb2\r\n";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    DotStuffer stuffer(1);
    std::string out;
    bool done = stuffer.append(body.substr(0, cut), out);
    if (!done) done = stuffer.append(body.substr(cut), out);
    CHECK(done);
    stuffer.finish(out);
    CHECK(out == "H: 1\r\n\r\nb1\r\n.\r\n");
  }
}

}  // namespace postern::pop3
