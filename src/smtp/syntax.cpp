// Command-line syntax of RFC 5321 §4.1 (see syntax.h).
#include "smtp/syntax.h"

#include <cstring>

namespace postern::smtp {
namespace {

constexpr std::size_t kMaxLocalPart = 64;  // RFC 5321 §4.5.3.1.1
constexpr std::size_t kMaxDomain = 255;    // RFC 5321 §4.5.3.1.2
constexpr std::size_t kMaxPath = 256;      // RFC 5321 §4.5.3.1.3, including <>

bool is_alpha_digit(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext, extended by UTF-8 octets (RFC 6531 §3.3).
bool is_atext(unsigned char c) {
  return is_alpha_digit(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr || c >= 0x80;
}

std::string_view trim_leading_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// Dot-string (RFC 5321 §4.1.2): atoms separated by single dots.
bool is_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (s[i - 1] == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
  }
  return true;
}

// Domain: sub-domains of letters, digits, hyphens (and UTF-8 U-labels, RFC 6531),
// or an address literal "[...]" (RFC 5321 §4.1.3).
bool is_domain(std::string_view d) {
  if (d.empty() || d.size() > kMaxDomain) return false;
  if (d.front() == '[') {
    if (d.size() < 3 || d.back() != ']') return false;
    for (unsigned char c : d.substr(1, d.size() - 2)) {
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
    }
    return true;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
    } else if (is_alpha_digit(c) || c >= 0x80 || (c == '-' && label > 0)) {
      ++label;
    } else {
      return false;
    }
  }
  return label > 0 && d.back() != '-';
}

// Quoted-string (RFC 5321 §4.1.2); returns its length including quotes, or 0.
std::size_t quoted_string_length(std::string_view s) {
  if (s.empty() || s.front() != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (++i >= s.size()) return 0;
      c = static_cast<unsigned char>(s[i]);
      if (c < 32 || c == 127) return 0;
    } else if (c < 32 || c == 127) {
      return 0;
    }
  }
  return 0;
}

struct ParsedPath {
  std::string mailbox;  // empty for <>
  bool non_ascii = false;
  bool valid_utf8 = true;  // meaningful only when non_ascii
  std::string_view rest;   // after '>'
};

// RFC 9110 §5.6.2 tchar.
bool is_tchar(unsigned char c) {
  return is_alpha_digit(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// "<" [ A-d-l ":" ] Mailbox ">" or "<>" when `allow_null`.
std::optional<ParsedPath> parse_path(std::string_view s, bool allow_null) {
  if (s.empty() || s.front() != '<') return std::nullopt;
  std::size_t close = std::string_view::npos;
  std::size_t local_end = 0;
  std::string_view inner = s.substr(1);
  // A source route (@a,@b:) is accepted and ignored (RFC 5321 §4.1.2, Appendix C).
  std::size_t route = 0;
  if (!inner.empty() && inner.front() == '@') {
    route = inner.find(':');
    if (route == std::string_view::npos) return std::nullopt;
    ++route;
  }
  std::string_view mailbox_text = inner.substr(route);
  if (std::size_t q = quoted_string_length(mailbox_text); q > 0) {
    local_end = q;
  } else {
    local_end = mailbox_text.find_first_of("@>");
    if (local_end == std::string_view::npos) return std::nullopt;
  }
  close = mailbox_text.find('>', local_end);
  if (close == std::string_view::npos) return std::nullopt;
  ParsedPath out;
  out.rest = mailbox_text.substr(close + 1);
  std::string_view mailbox = mailbox_text.substr(0, close);
  if (s.size() - out.rest.size() > kMaxPath) return std::nullopt;
  if (mailbox.empty()) {
    if (!allow_null || route != 0) return std::nullopt;
    return out;
  }
  if (local_end >= mailbox.size() || mailbox[local_end] != '@') return std::nullopt;
  std::string_view local = mailbox.substr(0, local_end);
  std::string_view domain = mailbox.substr(local_end + 1);
  if (local.size() > kMaxLocalPart) return std::nullopt;
  if (local.front() != '"' && !is_dot_string(local)) return std::nullopt;
  if (!is_domain(domain)) return std::nullopt;
  for (unsigned char c : mailbox) out.non_ascii = out.non_ascii || c >= 0x80;
  out.valid_utf8 = !out.non_ascii || is_valid_utf8_text(mailbox);
  out.mailbox = std::string(mailbox);
  return out;
}

// Strips "FROM:" / "TO:" (case-insensitive) and the spaces after it.
std::optional<std::string_view> strip_keyword(std::string_view args, std::string_view keyword) {
  if (args.size() < keyword.size() ||
      !equals_ignore_case(args.substr(0, keyword.size()), keyword)) {
    return std::nullopt;
  }
  return trim_leading_spaces(args.substr(keyword.size()));
}

std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;  // 19 digits fit in 64 bits
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

bool looks_like_http(std::string_view line) {
  static constexpr std::string_view kMethods[] = {"GET", "POST",    "HEAD",
                                                  "PUT", "CONNECT", "OPTIONS"};
  std::string_view verb = line.substr(0, line.find(' '));
  if (verb.size() < line.size()) {  // a method is followed by a space and its target
    for (std::string_view m : kMethods) {
      if (equals_ignore_case(verb, m)) return true;
    }
  }
  std::size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (unsigned char c : line.substr(0, colon)) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_valid_utf8_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    // The lead octet gives the sequence length, its payload bits and the least
    // code point that length may carry (anything less is an overlong form).
    struct Lead {
      unsigned char first, last;
      std::size_t continuation;
      std::uint32_t mask, min;
    };
    static constexpr Lead kLeads[] = {
        {0xc2, 0xdf, 1, 0x1f, 0x80}, {0xe0, 0xef, 2, 0x0f, 0x800}, {0xf0, 0xf4, 3, 0x07, 0x10000}};
    const Lead* lead = nullptr;
    for (const Lead& l : kLeads) {
      if (b0 >= l.first && b0 <= l.last) lead = &l;
    }
    // A continuation octet, C0/C1 (always overlong) or F5..FF cannot lead.
    if (lead == nullptr) return false;
    const std::size_t n = lead->continuation;
    const std::uint32_t min = lead->min;
    std::uint32_t cp = b0 & lead->mask;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp <= 0x9f) return false;  // C1 controls (U+0080..U+009F)
    i += n + 1;
  }
  return true;
}

CommandLine split_command(std::string_view line) {
  std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return CommandLine{line, {}};
  return CommandLine{line.substr(0, space), trim_leading_spaces(line.substr(space + 1))};
}

core::Result<MailFrom, SyntaxError> parse_mail_from(std::string_view args, bool esmtp) {
  auto path_text = strip_keyword(args, "FROM:");
  if (!path_text) return SyntaxError::bad_path;
  auto path = parse_path(*path_text, /*allow_null=*/true);
  if (!path) return SyntaxError::bad_path;
  MailFrom out;
  out.reverse_path = std::move(path->mailbox);
  bool seen_body = false;
  std::string_view rest = path->rest;
  while (!rest.empty()) {
    if (rest.front() != ' ') return SyntaxError::bad_path;
    rest = trim_leading_spaces(rest);
    if (rest.empty()) break;
    std::size_t end = rest.find(' ');
    std::string_view param = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    std::size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    bool has_value = eq != std::string_view::npos;
    if (!esmtp) return SyntaxError::unknown_parameter;
    if (equals_ignore_case(key, "SIZE")) {
      auto n = has_value ? parse_number(value) : std::nullopt;
      if (!n || out.size) return SyntaxError::bad_parameter;
      out.size = *n;
    } else if (equals_ignore_case(key, "BODY")) {
      if (!has_value || seen_body) return SyntaxError::bad_parameter;
      if (equals_ignore_case(value, "8BITMIME")) {
        out.eight_bit_mime = true;
      } else if (!equals_ignore_case(value, "7BIT")) {
        return SyntaxError::bad_parameter;
      }
      seen_body = true;
    } else if (equals_ignore_case(key, "SMTPUTF8")) {
      if (has_value || out.smtputf8) return SyntaxError::bad_parameter;
      out.smtputf8 = true;
    } else {
      return SyntaxError::unknown_parameter;
    }
  }
  if (path->non_ascii && !out.smtputf8) return SyntaxError::needs_smtputf8;
  if (!path->valid_utf8) return SyntaxError::bad_utf8;
  return out;
}

core::Result<std::string, SyntaxError> parse_rcpt_to(std::string_view args, bool smtputf8) {
  auto path_text = strip_keyword(args, "TO:");
  if (!path_text) return SyntaxError::bad_path;
  std::string_view text = *path_text;
  std::string mailbox;
  std::string_view rest;
  if (text.size() >= 12 && equals_ignore_case(text.substr(0, 12), "<Postmaster>")) {
    // RFC 5321 §4.1.1.3: <Postmaster> without a domain must be accepted.
    mailbox = "postmaster";
    rest = text.substr(12);
  } else {
    auto path = parse_path(text, /*allow_null=*/false);
    if (!path) return SyntaxError::bad_path;
    if (path->non_ascii && !smtputf8) return SyntaxError::needs_smtputf8;
    if (!path->valid_utf8) return SyntaxError::bad_utf8;
    mailbox = std::move(path->mailbox);
    rest = path->rest;
  }
  if (!trim_leading_spaces(rest).empty()) {
    return rest.front() == ' ' ? SyntaxError::unknown_parameter : SyntaxError::bad_path;
  }
  return mailbox;
}

std::optional<BdatArgs> parse_bdat(std::string_view args) {
  std::size_t space = args.find(' ');
  auto size = parse_number(args.substr(0, space));
  if (!size) return std::nullopt;
  BdatArgs out{*size, false};
  if (space != std::string_view::npos) {
    std::string_view rest = trim_leading_spaces(args.substr(space));
    while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
    if (!equals_ignore_case(rest, "LAST")) return std::nullopt;
    out.last = true;
  }
  return out;
}

std::optional<std::string_view> parse_helo(std::string_view args) {
  std::string_view name = args.substr(0, args.find(' '));
  if (name.empty() || name.size() > kMaxDomain) return std::nullopt;
  for (unsigned char c : name) {
    if (c < 33 || c > 126) return std::nullopt;
  }
  return name;
}

}  // namespace postern::smtp
