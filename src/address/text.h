// UTF-8 helpers shared by the address library: validation, code points, printable copies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::address::text {

// Offset of the first byte that is not part of valid UTF-8, or npos when all is valid.
std::size_t invalid_utf8_at(std::string_view s);
// The next code point of valid UTF-8 at `pos`; advances `pos` past it.
// REQUIRES: invalid_utf8_at(s) == npos and pos < s.size().
char32_t next_code_point(std::string_view s, std::size_t& pos);
// White space in any script: ASCII space and tab, NBSP, the Z* categories, U+2028/9.
bool is_space(char32_t c);
// C0 (but tab, which is_space() reports), DEL and C1 controls.
bool is_control(char32_t c);
// A copy fit for a message or log line: valid UTF-8 is kept, controls and bad bytes
// become \xNN, and the text is cut after `max` octets.
std::string printable(std::string_view s, std::size_t max = 120);
// One code point (or a bad byte) at the start of `s`, printable, for "has 'x'" messages.
std::string first_char(std::string_view s);
// ASCII lowercase, bytes >= 0x80 untouched.
std::string ascii_lower(std::string_view s);

}  // namespace postern::address::text
