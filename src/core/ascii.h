// ASCII helpers for protocol keywords: locale-independent, no allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace postern::core {

// Case-insensitive equality of ASCII text (SMTP verbs and parameters, RFC 5321
// §2.4; HTTP header names and tokens, RFC 9110 §5.1). Octets above 0x7F compare
// exactly: no locale decides what a protocol keyword means.
inline bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// True if `text` holds a C0 control (NUL..US, HTAB included) or DEL. No SMTP or POP3
// command admits one (RFC 5321 §4.1, RFC 1939 §3: keywords and arguments are printable),
// so such a line is refused before it is parsed and never reaches an argument, a trace
// header or a log line.
inline bool has_control_byte(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace postern::core
