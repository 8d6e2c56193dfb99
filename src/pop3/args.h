// Command argument parsing for POP3 (RFC 1939 §3): words, message numbers, verbs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/ascii.h"

namespace postern::pop3 {

// Splits on spaces. RFC 1939 §3 separates arguments by a single space; runs of spaces and
// a trailing space are tolerated (some clients send "LIST "), nothing else is.
std::vector<std::string_view> split_args(std::string_view args);

// A non-negative decimal number of at most 18 digits (so it fits any size or count);
// nullopt for anything else, including signs and empty text.
std::optional<std::uint64_t> parse_number(std::string_view text);

// Verbs and keywords compare without case (RFC 1939 §3).
using core::equals_ignore_case;  // core/ascii.h

}  // namespace postern::pop3
