// The mailbox view's list line: header fields, unfolding, encoded-words, preview, bounds.
#include "http/mail_summary.h"

#include <doctest/doctest.h>

#include <string>

using postern::http::decode_encoded_words;
using postern::http::summarize_message;
using postern::http::SummaryLimits;

TEST_CASE("Date, From, Subject and Message-ID come from the header section") {
  const std::string head =
      "Received: from a by b; Tue, 1 Dec 2026 10:00:00 +0000\r\n"
      "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
      "From: Alice <alice@example.net>\r\n"
      "Subject: Quarterly\r\n report\r\n"
      "Message-ID: <a.1@example.net>\r\n"
      "Subject: a second one is ignored\r\n"
      "\r\n"
      "\r\n"
      "Hello Bob,\r\n"
      "the figures are attached.\r\n";
  auto s = summarize_message(head);
  CHECK(s.header_complete);
  CHECK(s.date == "Tue, 1 Dec 2026 10:00:00 +0000");
  CHECK(s.from == "Alice <alice@example.net>");
  CHECK(s.subject == "Quarterly report");  // RFC 5322 §2.2.3 unfolding
  CHECK(s.message_id == "<a.1@example.net>");
  CHECK(s.preview == "Hello Bob,\nthe figures are attached.");
}

TEST_CASE("Field names are case-insensitive and bare LF lines are read too") {
  auto s = summarize_message("SUBJECT: hi\nfrom: x@y\n\nbody\n");
  CHECK(s.subject == "hi");
  CHECK(s.from == "x@y");
  CHECK(s.preview == "body");
}

TEST_CASE("Markup stays text and control characters become spaces") {
  auto s = summarize_message(
      "From: <img src=x onerror=alert(1)>\r\nSubject: a\x1b[31mred\x07\r\n\r\n"
      "<script>alert(1)</script>\r\n");
  CHECK(s.from == "<img src=x onerror=alert(1)>");
  CHECK(s.subject == "a [31mred");
  CHECK(s.preview == "<script>alert(1)</script>");
}

TEST_CASE("RFC 2047 encoded-words are decoded for UTF-8 and Latin-1, others left as sent") {
  CHECK(decode_encoded_words("=?UTF-8?B?SGVsbG8gd8O2cmxk?=") == "Hello w\xc3\xb6rld");
  CHECK(decode_encoded_words("=?iso-8859-1?Q?Caf=E9_cr=E8me?=") == "Caf\xc3\xa9 cr\xc3\xa8me");
  // §6.2: whitespace between adjacent encoded-words is dropped, not elsewhere.
  CHECK(decode_encoded_words("=?utf-8?q?a?= =?utf-8?q?b?= c") == "ab c");
  CHECK(decode_encoded_words("x =?utf-8?q?y?=") == "x y");
  CHECK(decode_encoded_words("=?koi8-r?B?8NLJ18XU?=") == "=?koi8-r?B?8NLJ18XU?=");
  CHECK(decode_encoded_words("=?utf-8?Q?bad=Z?=") == "=?utf-8?Q?bad=Z?=");
  CHECK(decode_encoded_words("=?utf-8?B?!!?=") == "=?utf-8?B?!!?=");
  CHECK(decode_encoded_words("no words") == "no words");
  auto s = summarize_message("Subject: =?UTF-8?B?PGI+Ym9sZDwvYj4=?=\r\n\r\n");
  CHECK(s.subject == "<b>bold</b>");  // decoded markup is still only text
}

TEST_CASE("A head cut inside the header section gives the fields seen and no preview") {
  auto s = summarize_message("From: a@b\r\nSubject: long\r\nX-Pad: aaaa");
  CHECK_FALSE(s.header_complete);
  CHECK(s.from == "a@b");
  CHECK(s.subject == "long");
  CHECK(s.preview.empty());
}

TEST_CASE("A line that is not a field ends the header section, as dedup reads it") {
  auto s = summarize_message("From: a@b\r\nthis is body text\r\nmore\r\n");
  CHECK(s.header_complete);
  CHECK(s.preview == "this is body text\nmore");
}

TEST_CASE("Fields and preview lines are bounded, without splitting UTF-8") {
  SummaryLimits limits;
  limits.field_chars = 10;
  limits.preview_lines = 2;
  limits.line_chars = 5;
  auto s = summarize_message(
      "Subject: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n\r\n"
      "0123456789\r\n\r\nsecond\r\nthird\r\n",
      limits);
  CHECK(s.subject == "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
  CHECK(s.preview == "01234\xe2\x80\xa6\nsecon\xe2\x80\xa6");
  std::string huge = "Subject: " + std::string(100000, 'x') + "\r\n\r\n";
  CHECK(summarize_message(huge).subject.size() < 300);
}

TEST_CASE("Every split of a message head gives a summary without crashing") {
  const std::string head = "From: =?utf-8?q?A?= <a@b>\r\nSubject: s\r\n\tfolded\r\n\r\nline\r\n";
  for (std::size_t n = 0; n <= head.size(); ++n) {
    auto s = summarize_message(std::string_view(head).substr(0, n));
    CHECK(s.preview.size() <= 4 * 161 + 3);
  }
}
