// The list line of a stored message for the mailbox view: Date, From, Subject
// and Message-ID from the header section (RFC 5322 §3.6), and the first lines
// of the body as plain text. Pure; reads only the bounded head it is given.
//
// Nothing here is markup: the page puts every string in with textContent. The
// strings are still made safe to show anywhere: control characters (CR, LF,
// ESC, NUL...) become spaces, and each is cut to a bound. Encoded-words
// (RFC 2047) in From and Subject are decoded for UTF-8, US-ASCII and
// ISO-8859-1, the charsets nearly all mail uses; others are left as sent. The
// body preview is the raw text of its first non-blank lines, not decoded
// (quoted-printable or base64 shows as sent): the owner is deciding whether to
// delete a message, not reading it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::http {

struct MailSummary {
  std::string date, from, subject, message_id;  // empty when absent
  std::string preview;                          // lines joined by '\n'
  bool header_complete = false;  // the blank line ending the header section was in the head
};

struct SummaryLimits {
  std::size_t field_chars = 200;  // bytes kept of each field value
  std::size_t preview_lines = 4;
  std::size_t line_chars = 160;  // bytes kept of each preview line
};

MailSummary summarize_message(std::string_view head, const SummaryLimits& limits = {});

// RFC 2047 §4-§6: decodes "=?charset?B|Q?text?=" words in an unstructured value
// (whitespace between two adjacent encoded-words is dropped, §6.2).
std::string decode_encoded_words(std::string_view value);

}  // namespace postern::http
