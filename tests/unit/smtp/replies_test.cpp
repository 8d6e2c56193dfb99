// The reply catalogue's wire forms: one line, and EHLO's multi-line reply (RFC 5321 §4.2.1).
#include "smtp/replies.h"

#include <doctest/doctest.h>

namespace postern::smtp {

TEST_CASE("a one-line reply carries its enhanced code; EHLO's lines carry none") {
  CHECK(replies::ok().wire() == "250 2.0.0 Ok\r\n");
  CHECK(replies::helo("mx.example.org").wire() == "250 mx.example.org\r\n");
  const Reply ehlo = replies::ehlo({"mx.example.org", "PIPELINING", "HELP"});
  CHECK_FALSE(ehlo.empty());
  CHECK_FALSE(ehlo.peer_fault);
  CHECK(ehlo.wire() == "250-mx.example.org\r\n250-PIPELINING\r\n250 HELP\r\n");
  CHECK(replies::ehlo({"mx.example.org"}).wire() == "250 mx.example.org\r\n");
}

}  // namespace postern::smtp

namespace postern::smtp {

TEST_CASE("QUIT's 221 carries the close; ordinary replies do not") {
  const Reply bye = replies::bye("mx.example.org");
  CHECK(bye.close_after);
  CHECK(bye.wire() == "221 2.0.0 mx.example.org closing connection\r\n");
  CHECK_FALSE(replies::ok().close_after);
  CHECK_FALSE(replies::unknown_command().close_after);
}

}  // namespace postern::smtp
