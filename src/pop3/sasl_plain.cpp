// Strict base64 decoding and SASL PLAIN message parsing.
#include "pop3/sasl_plain.h"

#include <cstdint>

namespace postern::pop3 {
namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::size_t pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t bits = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int v = 0;
      if (j < 4 - pad) {
        v = sextet(text[i + j]);
        if (v < 0) return std::nullopt;  // also rejects '=' in the middle
      }
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
    }
    // RFC 4648 §3.5: pad bits must be zero, else two texts would decode alike.
    if (pad == 1 && (bits & 0xff) != 0) return std::nullopt;
    if (pad == 2 && (bits & 0xffff) != 0) return std::nullopt;
    out.push_back(static_cast<char>((bits >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((bits >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(bits & 0xff));
  }
  return out;
}

PlainParse parse_plain(std::string_view message) {
  PlainParse result;
  const auto first = message.find('\0');
  if (first == std::string_view::npos) return result;
  const auto second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return result;
  const std::string_view authzid = message.substr(0, first);
  const std::string_view authcid = message.substr(first + 1, second - first - 1);
  const std::string_view password = message.substr(second + 1);
  // A third NUL would make the password ambiguous (RFC 4616 §2: passwd excludes NUL).
  if (authcid.empty() || password.empty() || password.find('\0') != std::string_view::npos)
    return result;
  if (!authzid.empty() && authzid != authcid) {
    result.error = PlainError::authzid_differs;
    return result;
  }
  result.credentials = PlainCredentials{std::string(authcid), std::string(password)};
  return result;
}

}  // namespace postern::pop3
