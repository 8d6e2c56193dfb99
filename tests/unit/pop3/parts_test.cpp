// pop3 building blocks: base64 + SASL PLAIN, DotStuffer, argument parsing, MaildropView.
#include <doctest/doctest.h>

#include "pop3/args.h"
#include "pop3/dot_stuffer.h"
#include "pop3/maildrop.h"
#include "pop3/sasl_plain.h"

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

TEST_CASE("split_args and parse_number are strict about numbers") {
  CHECK(split_args("").empty());
  CHECK(split_args("  1  2 ") == std::vector<std::string_view>{"1", "2"});
  CHECK(parse_number("0") == 0u);
  CHECK(parse_number("007") == 7u);
  CHECK(parse_number("999999999999999999") == 999999999999999999u);
  for (const char* bad : {"", "-1", "+1", "1a", "0x1", "9999999999999999999"})
    CHECK_FALSE(parse_number(bad).has_value());
  CHECK(equals_ignore_case("Top", "TOP"));
  CHECK_FALSE(equals_ignore_case("TO", "TOP"));
}

TEST_CASE("MaildropView numbers from 1, hides deleted messages, keeps retrieved marks on RSET") {
  Maildrop drop;
  drop.messages = {{10, 5, UniqueId("a")}, {11, 7, UniqueId("b")}, {12, 9, UniqueId("c")}};
  MaildropView view(drop);
  CHECK(view.find(0) == MaildropView::Lookup::no_such_message);
  CHECK(view.find(4) == MaildropView::Lookup::no_such_message);
  CHECK(view.find(3) == MaildropView::Lookup::ok);
  view.mark_deleted(2);
  view.mark_retrieved(1);
  view.mark_retrieved(1);
  CHECK(view.find(2) == MaildropView::Lookup::deleted);
  CHECK(view.stats().count == 2);
  CHECK(view.stats().octets == 14);
  CHECK(view.deleted_keys() == std::vector<std::uint64_t>{11});
  CHECK(view.retrieved_count() == 1);
  view.reset_deleted();
  CHECK(view.deleted_count() == 0);
  CHECK(view.stats().octets == 21);
  CHECK(view.retrieved_keys() == std::vector<std::uint64_t>{10});
  view.mark_deleted(1);
  view.mark_deleted(3);
  CHECK(view.stats().count == 1);
  CHECK(view.stats().octets == 7);
  CHECK(view.deleted_keys() == std::vector<std::uint64_t>{10, 12});
}

TEST_CASE("a UniqueId holds up to 16 octets inline and gives them back exactly") {
  CHECK(UniqueId().view().empty());
  CHECK(UniqueId("u1").view() == "u1");
  CHECK(UniqueId("0123456789abcdef").view() == "0123456789abcdef");
  CHECK(UniqueId("x") == UniqueId("x"));
  CHECK_FALSE(UniqueId("x") == UniqueId("xy"));
  static_assert(sizeof(MessageEntry) == 32, "a snapshot entry stays compact (issue 16 §3)");
}

}  // namespace postern::pop3
