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

}  // namespace postern::core
