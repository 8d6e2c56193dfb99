#include "core/log.h"

#include <doctest/doctest.h>

TEST_CASE("printable escapes CR, LF and control bytes from peers") {
  using postern::core::printable;
  CHECK(printable("MAIL FROM:<a@b>\r\nRCPT") == "MAIL FROM:<a@b>\\x0d\\x0aRCPT");
  CHECK(printable("caf\xc3\xa9") == "caf\\xc3\\xa9");
  CHECK(printable("back\\slash") == "back\\x5cslash");
  CHECK(printable(std::string(500, 'a'), 10) == "aaaaaaaaaa...");
}
