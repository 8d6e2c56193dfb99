// Local parts (RFC 5321 §4.1.2, RFC 6531 §3.3) and whole addresses: parsed, NFC, lowercase.
#include <unicase.h>
#include <uninorm.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "address/address.h"
#include "address/text.h"

namespace postern::address {
namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1

Error problem(Reason reason, std::string_view input, std::string detail = {}) {
  Error e;
  e.reason = reason;
  e.part = Part::local_part;
  e.input = text::printable(input);
  e.detail = std::move(detail);
  return e;
}

// RFC 5322 §3.2.3 atext; RFC 6531 §3.3 adds every non-ASCII character (checked apart).
bool is_atext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

// The quoted-string's content with quoted-pairs undone (RFC 5321 §4.1.2): `"bob"` is the
// mailbox `bob`. Returns nullopt when the quotes do not close at the end.
std::optional<std::string> unquote(std::string_view quoted) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '"') return std::nullopt;
    if (c == '\\') {
      if (i + 2 >= quoted.size()) return std::nullopt;
      c = quoted[++i];
    }
    out.push_back(c);
  }
  return out;
}

// Unicode default lowercase mapping, then NFC (RFC 6532 §3.1 asks for NFC; lowercase
// keeps postern's case-insensitive mailboxes). REQUIRES: valid UTF-8.
std::string lower_nfc(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s) ascii = ascii && c < 0x80;
  if (ascii) return text::ascii_lower(s);  // the common case: no allocation by libunistring
  std::size_t length = 0;
  std::uint8_t* raw = u8_tolower(reinterpret_cast<const std::uint8_t*>(s.data()), s.size(),
                                 /*iso639_language=*/"", UNINORM_NFC, nullptr, &length);
  if (raw == nullptr) return text::ascii_lower(s);  // out of memory: ASCII rule still holds
  std::unique_ptr<std::uint8_t, decltype(&std::free)> owned(raw, &std::free);
  return std::string(reinterpret_cast<const char*>(raw), length);
}

}  // namespace

core::Result<std::string, Error> canonical_local_part(std::string_view input) {
  std::string unquoted;
  std::string_view local = input;
  if (!input.empty() && input.front() == '"') {
    auto content = unquote(input);
    if (!content) return problem(Reason::local_char, input, "\"");
    unquoted = std::move(*content);
    local = unquoted;
  }
  if (local.empty()) return problem(Reason::empty, input);
  if (std::size_t bad = text::invalid_utf8_at(local); bad != std::string_view::npos) {
    return problem(Reason::not_utf8, input, std::to_string(bad));
  }
  for (std::size_t pos = 0; pos < local.size();) {
    const std::size_t start = pos;
    const char32_t c = text::next_code_point(local, pos);
    const std::string_view one = local.substr(start, pos - start);
    if (text::is_control(c)) return problem(Reason::control, input, text::printable(one));
    if (text::is_space(c)) return problem(Reason::space, input);
    if (c < 0x80 && c != '.' && !is_atext(static_cast<char>(c))) {
      return problem(Reason::local_char, input, std::string(one));
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return problem(Reason::local_dot, input);
  }
  std::string out = lower_nfc(local);
  if (out.size() > kMaxLocalPart) {
    return problem(Reason::local_too_long, input, std::to_string(out.size()));
  }
  return out;
}

core::Result<Mailbox, Error> parse_mailbox(std::string_view address) {
  auto whole = [&](Error e) {
    e.whole_address = true;
    e.input = text::printable(address);
    return e;
  };
  if (address.empty()) return whole(problem(Reason::empty, address));
  std::size_t at = std::string_view::npos;
  if (address.front() == '"') {
    // The quoted local part may hold '@': the separator is the first '@' after it.
    std::size_t close = 0;
    for (std::size_t i = 1; i < address.size() && close == 0; ++i) {
      if (address[i] == '\\') {
        ++i;
      } else if (address[i] == '"') {
        close = i;
      }
    }
    if (close == 0) return whole(problem(Reason::local_char, address, "\""));
    at = address.find('@', close + 1);
  } else {
    at = address.rfind('@');
  }
  if (at == std::string_view::npos) return whole(problem(Reason::no_at, address));
  Mailbox out;
  auto local = canonical_local_part(address.substr(0, at));
  if (!local) return whole(local.error());
  auto domain = canonical_domain(address.substr(at + 1));
  if (!domain) return whole(domain.error());
  out.local_part = std::move(*local);
  out.domain = std::move(*domain);
  return out;
}

std::string display_address(std::string_view canonical) {
  const std::size_t at = canonical.rfind('@');
  if (at == std::string_view::npos) return std::string(canonical);
  return std::string(canonical.substr(0, at + 1)) + display_domain(canonical.substr(at + 1));
}

}  // namespace postern::address
