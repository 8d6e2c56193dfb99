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

TEST_CASE("UTF-8 validity follows RFC 3629 and refuses C1 controls (RFC 6531 §3.3)") {
  CHECK(is_valid_utf8_text("plain ascii"));
  CHECK(is_valid_utf8_text("j\xc3\xb6rg"));               // ö
  CHECK(is_valid_utf8_text("\xe4\xbe\x8b\xe3\x81\x88"));  // 例え
  CHECK(is_valid_utf8_text("\xf0\x9f\x93\xa7"));          // U+1F4E7
  CHECK(is_valid_utf8_text("\xc2\xa0"));                  // U+00A0, the first after C1
  CHECK_FALSE(is_valid_utf8_text("\xc2\x80"));            // U+0080, C1
  CHECK_FALSE(is_valid_utf8_text("\xc2\x9f"));            // U+009F, C1
  CHECK_FALSE(is_valid_utf8_text("\xc1\xbf"));            // overlong
  CHECK_FALSE(is_valid_utf8_text("\xe0\x9f\xbf"));        // overlong
  CHECK_FALSE(is_valid_utf8_text("\xf0\x8f\xbf\xbf"));    // overlong
  CHECK_FALSE(is_valid_utf8_text("\xed\xbf\xbf"));        // surrogate
  CHECK_FALSE(is_valid_utf8_text("\xf4\x90\x80\x80"));    // > U+10FFFF
  CHECK_FALSE(is_valid_utf8_text("\xf5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8_text("\x80"));      // lone continuation
  CHECK_FALSE(is_valid_utf8_text("\xe4\xbe"));  // truncated at the end
  CHECK_FALSE(
      is_valid_utf8_text("\xe4"
                         "a\x8b"));  // continuation missing
}

TEST_CASE("UTF-8 addresses with SMTPUTF8: quoted local parts and U-label domains") {
  auto m = parse_mail_from(
      "FROM:<\"j\xc3\xb6rg m\"@b\xc3\xbc"
      "cher.example> SMTPUTF8",
      true);
  REQUIRE(m.has_value());
  CHECK(m->reverse_path ==
        "\"j\xc3\xb6rg m\"@b\xc3\xbc"
        "cher.example");
  CHECK(parse_mail_from("FROM:<a\xc2\x85@x.example> SMTPUTF8", true).error() ==
        SyntaxError::bad_utf8);
  // Without SMTPUTF8 the missing parameter is the problem named, valid or not.
  CHECK(parse_mail_from("FROM:<a\xc2\x85@x.example>", true).error() == SyntaxError::needs_smtputf8);
  CHECK(parse_rcpt_to("TO:<a@\xff.example>", true).error() == SyntaxError::bad_utf8);
  CHECK(parse_rcpt_to("TO:<a@\xff.example>", false).error() == SyntaxError::needs_smtputf8);
}

TEST_CASE("control bytes are found anywhere in a line") {
  CHECK_FALSE(has_control_byte("MAIL FROM:<a@b.example> SIZE=1"));
  CHECK_FALSE(has_control_byte("caf\xc3\xa9"));
  CHECK(has_control_byte(std::string_view("a\0b", 3)));
  CHECK(has_control_byte("a\tb"));
  CHECK(has_control_byte("a\x1b[0m"));
  CHECK(has_control_byte("\x7f"));
}

TEST_CASE("HTTP request lines and header fields are recognised, SMTP commands are not") {
  for (const char* http : {"GET / HTTP/1.1", "post /x HTTP/1.1", "HEAD /", "PUT /a b",
                           "CONNECT host:443 HTTP/1.1", "OPTIONS * HTTP/1.1", "Host: x",
                           "User-Agent: y", "Content-Length:0", "X-Y:", "Sec-Fetch-Site: none"}) {
    CAPTURE(http);
    CHECK(looks_like_http(http));
  }
  for (const char* smtp : {"MAIL FROM:<a@b>", "RCPT TO:<b@c>", "EHLO [IPv6:2001:db8::1]", "GET",
                           "NOOP", "QUIT", ":x", "DATA", "BDAT 10 LAST", "GETTER x", "HELO a:b"}) {
    CAPTURE(smtp);
    CHECK_FALSE(looks_like_http(smtp));
  }
}
