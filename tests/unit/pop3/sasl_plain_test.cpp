// SASL PLAIN (RFC 4616) and the base64 it arrives in (RFC 4648).
#include "pop3/sasl_plain.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace postern::pop3 {

TEST_CASE("base64_decode accepts RFC 4648 test vectors and rejects malformed text") {
  CHECK(base64_decode("") == std::string());
  CHECK(base64_decode("Zg==") == std::string("f"));
  CHECK(base64_decode("Zm8=") == std::string("fo"));
  CHECK(base64_decode("Zm9v") == std::string("foo"));
  CHECK(base64_decode("Zm9vYmFy") == std::string("foobar"));
  CHECK(base64_decode("AAEC/+8=") == std::string("\x00\x01\x02\xff\xef", 5));
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v=", "Zg==Zg==", "Zh==", "Zm9=", "Zm 9v",
                          "Zm9v\n", "Zm-v", "=Zm9"}) {
    INFO(bad);
    CHECK_FALSE(base64_decode(bad).has_value());
  }
}

TEST_CASE("parse_plain splits authzid, authcid and password") {
  auto p = parse_plain(std::string("\0alice\0pw with spaces", 21));
  REQUIRE(p.credentials);
  CHECK(p.credentials->user == "alice");
  CHECK(p.credentials->password == "pw with spaces");
  CHECK(parse_plain(std::string("alice\0alice\0pw", 14)).credentials);
  CHECK(parse_plain(std::string("eve\0alice\0pw", 12)).error == PlainError::authzid_differs);
  for (std::string bad : {std::string("alice"), std::string("\0alice", 6), std::string("\0\0pw", 4),
                          std::string("\0alice\0", 7), std::string("\0alice\0p\0w", 10)}) {
    auto r = parse_plain(bad);
    CHECK_FALSE(r.credentials);
    CHECK(r.error == PlainError::malformed);
  }
}

}  // namespace postern::pop3
