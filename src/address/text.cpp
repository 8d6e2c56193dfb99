// UTF-8 validation, code points and printable copies, on top of libunistring.
#include "address/text.h"

#include <unictype.h>
#include <unistr.h>

#include <cstdint>
#include <cstdio>

namespace postern::address::text {
namespace {

const std::uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::string escaped(unsigned char c) {
  char esc[5];
  std::snprintf(esc, sizeof esc, "\\x%02x", c);
  return esc;
}

}  // namespace

std::size_t invalid_utf8_at(std::string_view s) {
  // u8_check refuses overlong forms, surrogates and values past U+10FFFF (RFC 3629 §3).
  const std::uint8_t* bad = u8_check(bytes(s), s.size());
  return bad == nullptr ? std::string_view::npos : static_cast<std::size_t>(bad - bytes(s));
}

char32_t next_code_point(std::string_view s, std::size_t& pos) {
  ucs4_t c = 0;
  int n = u8_mbtouc(&c, bytes(s) + pos, s.size() - pos);
  pos += n > 0 ? static_cast<std::size_t>(n) : 1;
  return static_cast<char32_t>(c);
}

bool is_space(char32_t c) {
  if (c < 0x80) return c == ' ' || c == '\t';  // the Unicode tables are not touched for ASCII
  return uc_is_property_white_space(c) || uc_is_general_category(c, UC_CATEGORY_Z);
}

bool is_control(char32_t c) {
  return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f);
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  const bool utf8 = invalid_utf8_at(s) == std::string_view::npos;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const unsigned char b = static_cast<unsigned char>(s[pos]);
    if (!utf8 || b < 0x80) {
      out +=
          (b >= 0x20 && b < 0x7f && b != '\\') ? std::string(1, static_cast<char>(b)) : escaped(b);
      ++pos;
      continue;
    }
    const std::size_t start = pos;
    const char32_t c = next_code_point(s, pos);
    if (is_control(c)) {
      for (std::size_t i = start; i < pos; ++i) out += escaped(static_cast<unsigned char>(s[i]));
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

std::string first_char(std::string_view s) {
  if (s.empty()) return {};
  const unsigned char b = static_cast<unsigned char>(s[0]);
  std::size_t len = 1;
  if (b >= 0x80) {
    ucs4_t c = 0;
    int n = u8_mbtoucr(&c, bytes(s), s.size());  // negative for a bad or cut sequence
    if (n > 0) len = static_cast<std::size_t>(n);
  }
  return printable(s.substr(0, len));
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace postern::address::text
