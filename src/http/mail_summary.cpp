// Header fields and a text preview from the head of a stored message.
#include "http/mail_summary.h"

#include <cctype>
#include <cstdint>
#include <optional>

#include "core/ascii.h"

namespace postern::http {
namespace {

using core::equals_ignore_case;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Control characters become spaces, runs of spaces one space; cut to `max`
// bytes without splitting a UTF-8 sequence.
std::string clean(std::string_view s, std::size_t max) {
  std::string out;
  for (unsigned char c : s) {
    const bool control = c < 0x20 || c == 0x7f;
    if (control || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += static_cast<char>(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "…";
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// RFC 2047 §4.2: "_" is a space, "=XX" a byte.
std::optional<std::string> q_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '_') {
      out += ' ';
    } else if (in[i] == '=' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (in[i] == '=') {
      return std::nullopt;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string latin1_to_utf8(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// One encoded-word at the start of `s`: its decoded text and length, or nullopt.
std::optional<std::pair<std::string, std::size_t>> encoded_word(std::string_view s) {
  if (s.substr(0, 2) != "=?") return std::nullopt;
  std::size_t q1 = s.find('?', 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  std::size_t end = s.find("?=", q1 + 3);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view charset = s.substr(2, q1 - 2);
  charset = charset.substr(0, charset.find('*'));  // RFC 2231 §5 language suffix
  const char encoding = static_cast<char>(std::toupper(static_cast<unsigned char>(s[q1 + 1])));
  std::string_view text = s.substr(q1 + 3, end - q1 - 3);
  if (text.find(' ') != std::string_view::npos) return std::nullopt;
  std::optional<std::string> bytes = encoding == 'B'   ? base64_decode(text)
                                     : encoding == 'Q' ? q_decode(text)
                                                       : std::nullopt;
  if (!bytes) return std::nullopt;
  if (equals_ignore_case(charset, "utf-8") || equals_ignore_case(charset, "us-ascii")) {
    return std::make_pair(std::move(*bytes), end + 2);
  }
  if (equals_ignore_case(charset, "iso-8859-1") || equals_ignore_case(charset, "latin1")) {
    return std::make_pair(latin1_to_utf8(*bytes), end + 2);
  }
  return std::nullopt;  // another charset: shown as sent
}

}  // namespace

std::string decode_encoded_words(std::string_view value) {
  std::string out;
  std::size_t pending_space = std::string::npos;  // where whitespace after a decoded word began
  std::size_t i = 0;
  while (i < value.size()) {
    if (auto word = encoded_word(value.substr(i))) {
      if (pending_space != std::string::npos) out.resize(pending_space);  // §6.2
      out += word->first;
      i += word->second;
      pending_space = out.size();
      continue;
    }
    const char c = value[i++];
    if (c != ' ' && c != '\t') pending_space = std::string::npos;
    out += c;
  }
  return out;
}

MailSummary summarize_message(std::string_view head, const SummaryLimits& limits) {
  MailSummary summary;
  std::string* current = nullptr;  // the field being unfolded
  std::string date, from, subject, message_id;
  bool seen_date = false, seen_from = false, seen_subject = false, seen_id = false;
  std::size_t pos = 0;
  // RFC 5322 §2.2: header lines up to the first empty line; a field's value
  // continues on lines starting with WSP (§2.2.3 unfolding).
  while (pos < head.size()) {
    std::size_t eol = head.find('\n', pos);
    if (eol == std::string_view::npos) break;  // an unfinished line: the head ends here
    const std::size_t line_start = pos;
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      summary.header_complete = true;
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (current != nullptr && current->size() < 4 * limits.field_chars) {
        *current += ' ';
        *current += trim(line);
      }
      continue;
    }
    std::size_t colon = line.find(':');
    current = nullptr;
    if (colon == std::string_view::npos) {
      pos = line_start;  // not a field: the body starts here (as dedup reads it)
      summary.header_complete = true;
      break;
    }
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    struct Wanted {
      const char* name;
      std::string* out;
      bool* seen;
    };
    for (Wanted w : {Wanted{"date", &date, &seen_date}, Wanted{"from", &from, &seen_from},
                     Wanted{"subject", &subject, &seen_subject},
                     Wanted{"message-id", &message_id, &seen_id}}) {
      if (!*w.seen && equals_ignore_case(name, w.name)) {
        *w.seen = true;  // the first one counts
        *w.out = std::string(value.substr(0, 4 * limits.field_chars));
        current = w.out;
      }
    }
  }
  summary.date = clean(date, limits.field_chars);
  summary.from = clean(decode_encoded_words(from), limits.field_chars);
  summary.subject = clean(decode_encoded_words(subject), limits.field_chars);
  summary.message_id = clean(message_id, limits.field_chars);
  if (!summary.header_complete) return summary;

  std::size_t lines = 0;
  while (pos < head.size() && lines < limits.preview_lines) {
    std::size_t eol = head.find('\n', pos);
    std::string_view line = head.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? head.size() : eol + 1;
    std::string text = clean(line, limits.line_chars);
    if (text.empty()) continue;
    if (!summary.preview.empty()) summary.preview += '\n';
    summary.preview += text;
    ++lines;
  }
  return summary;
}

}  // namespace postern::http
