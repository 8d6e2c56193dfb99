// RFC 5321 §4.1 command syntax: verbs, paths and ESMTP parameters.
#include "smtp/syntax.h"

#include <doctest/doctest.h>

#include <string>

using namespace postern::smtp;

TEST_CASE("split_command separates the verb from its arguments") {
  CommandLine c = split_command("MAIL   FROM:<a@b.example>");
  CHECK(c.verb == "MAIL");
  CHECK(c.args == "FROM:<a@b.example>");
  CHECK(split_command("QUIT").args.empty());
  CHECK(equals_ignore_case("starttls", "STARTTLS"));
  CHECK_FALSE(equals_ignore_case("STARTTL", "STARTTLS"));
}

TEST_CASE("MAIL FROM parses paths, the null path and every parameter we offer") {
  auto m = parse_mail_from("FROM:<alice@example.net> SIZE=123 BODY=8bitmime smtputf8", true);
  REQUIRE(m.has_value());
  CHECK(m->reverse_path == "alice@example.net");
  CHECK(m->size == std::optional<std::uint64_t>(123));
  CHECK(m->eight_bit_mime);
  CHECK(m->smtputf8);
  auto null = parse_mail_from("from: <>", true);
  REQUIRE(null.has_value());
  CHECK(null->reverse_path.empty());
  auto routed = parse_mail_from("FROM:<@relay.example,@b.example:alice@example.net>", true);
  REQUIRE(routed.has_value());
  CHECK(routed->reverse_path == "alice@example.net");
  auto quoted = parse_mail_from("FROM:<\"john doe\"@example.net>", true);
  REQUIRE(quoted.has_value());
  CHECK(quoted->reverse_path == "\"john doe\"@example.net");
  auto literal = parse_mail_from("FROM:<a@[192.0.2.1]>", true);
  CHECK(literal.has_value());
}

TEST_CASE("MAIL FROM refuses bad paths and bad or unknown parameters") {
  auto error = [](std::string_view args, bool esmtp = true) {
    auto m = parse_mail_from(args, esmtp);
    REQUIRE_FALSE(m.has_value());
    return m.error();
  };
  CHECK(error("FROM:alice@example.net") == SyntaxError::bad_path);
  CHECK(error("TO:<alice@example.net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<alice>") == SyntaxError::bad_path);
  CHECK(error("FROM:<.alice@example.net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<al..ice@example.net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<alice@-example.net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<alice@example..net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<alice@example.net") == SyntaxError::bad_path);
  CHECK(error("FROM:<alice@example.net>SIZE=1") == SyntaxError::bad_path);
  CHECK(error("FROM:<" + std::string(65, 'a') + "@example.net>") == SyntaxError::bad_path);
  CHECK(error("FROM:<a@" + std::string(256, 'b') + ">") == SyntaxError::bad_path);
  CHECK(error("FROM:<a@b.example> SIZE=") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> SIZE=12x") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> SIZE=99999999999999999999") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> SIZE=1 SIZE=2") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> BODY=BINARYMIME") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> SMTPUTF8=yes") == SyntaxError::bad_parameter);
  CHECK(error("FROM:<a@b.example> RET=HDRS") == SyntaxError::unknown_parameter);
  CHECK(error("FROM:<a@b.example> SIZE=1", false) == SyntaxError::unknown_parameter);
  CHECK(error("FROM:<\xc3\xa9@b.example>") == SyntaxError::needs_smtputf8);
  CHECK(parse_mail_from("FROM:<\xc3\xa9@b.example> SMTPUTF8", true).has_value());
}

TEST_CASE("RCPT TO parses paths and the bare Postmaster") {
  CHECK(parse_rcpt_to("TO:<bob@example.org>", false).value() == "bob@example.org");
  CHECK(parse_rcpt_to("to:<POSTMASTER>", false).value() == "postmaster");
  CHECK(parse_rcpt_to("TO:<postmaster@example.org>", false).value() == "postmaster@example.org");
  CHECK(parse_rcpt_to("TO:<>", false).error() == SyntaxError::bad_path);
  CHECK(parse_rcpt_to("TO:<Postmaster> NOTIFY=NEVER", false).error() ==
        SyntaxError::unknown_parameter);
  CHECK(parse_rcpt_to("TO:<b\xc3\xa9@example.org>", false).error() == SyntaxError::needs_smtputf8);
  CHECK(parse_rcpt_to("TO:<b\xc3\xa9@example.org>", true).has_value());
}

TEST_CASE("BDAT takes a size and an optional LAST") {
  auto b = parse_bdat("1024 last");
  REQUIRE(b.has_value());
  CHECK(b->size == 1024);
  CHECK(b->last);
  CHECK_FALSE(parse_bdat("0")->last);
  CHECK_FALSE(parse_bdat("").has_value());
  CHECK_FALSE(parse_bdat("-1").has_value());
  CHECK_FALSE(parse_bdat("10 FIRST").has_value());
  CHECK_FALSE(parse_bdat("99999999999999999999").has_value());
}

TEST_CASE("the HELO argument is one printable token") {
  CHECK(parse_helo("mx.example.net").value() == "mx.example.net");
  CHECK(parse_helo("[192.0.2.1] extra words").value() == "[192.0.2.1]");
  CHECK_FALSE(parse_helo("").has_value());
  CHECK_FALSE(parse_helo("caf\xc3\xa9").has_value());
}
