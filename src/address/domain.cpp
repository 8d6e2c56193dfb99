// Domain names: U-labels and A-labels to one canonical A-label form (RFC 5890, 5891).
#include <idn2.h>

#include <memory>

#include "address/address.h"
#include "address/text.h"

namespace postern::address {
namespace {

constexpr std::size_t kMaxDomain = 255;  // RFC 5321 §4.5.3.1.2
constexpr std::size_t kMaxLabel = 63;    // RFC 1035 §2.3.4

// UTS #46 non-transitional processing ("faß" stays "faß", as IDNA2008 wants) on NFC
// input, the processing current browsers apply to what people type.
constexpr int kIdnaFlags = IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL;

struct Idn2Free {
  void operator()(char* p) const { idn2_free(p); }
};
using Idn2String = std::unique_ptr<char, Idn2Free>;

Error problem(Reason reason, std::string_view input, std::string_view label = {},
              std::string detail = {}, int idna = 0) {
  Error e;
  e.reason = reason;
  e.part = Part::domain;
  e.input = text::printable(input);
  e.label = label;
  e.detail = std::move(detail);
  e.idna = idna;
  return e;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// RFC 5890 §2.3.1: an "xn--" label claims to be an A-label and must decode as one.
bool has_ace_prefix(std::string_view label) {
  return label.size() >= 4 && text::ascii_lower(label.substr(0, 4)) == "xn--";
}

bool is_ldh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// One lowercase ASCII label: letters, digits, hyphens, not at either end (RFC 1035 §2.3.1,
// RFC 1123 §2.1 allowing a leading digit), at most 63 octets.
std::optional<Error> check_ascii_label(std::string_view label, std::string_view input,
                                       std::string_view shown) {
  if (label.empty()) return problem(Reason::empty_label, input);
  for (char c : label) {
    if (!is_ldh(c)) {
      return problem(Reason::label_char, input, shown, text::first_char(std::string_view(&c, 1)));
    }
  }
  if (label.size() > kMaxLabel) {
    return problem(Reason::label_too_long, input, shown, std::to_string(label.size()));
  }
  if (label.front() == '-' || label.back() == '-') {
    return problem(Reason::label_hyphen, input, shown);
  }
  return std::nullopt;
}

// The U-label an A-label decodes to, and back: RFC 5891 §5.4 (and RFC 5890 §2.3.2.1) has
// an "xn--" label checked by decoding it, validating the U-label and encoding that again,
// which must give the A-label itself. libidn2 2.3 only decodes one (so "xn--4nk", the
// DISALLOWED U+323F, got through, and its display form then failed to canonicalise).
// `a_label` is lowercase; returns libidn2's code, IDN2_ALABEL_ROUNDTRIP_FAILED when the
// label decodes but is not the encoding of a valid U-label in NFC.
int check_a_label(const std::string& a_label) {
  char* raw = nullptr;
  int rc = idn2_to_unicode_8z8z(a_label.c_str(), &raw, 0);
  Idn2String u_label(raw);
  if (rc != IDN2_OK) return rc;
  if (u_label == nullptr) return IDN2_ALABEL_ROUNDTRIP_FAILED;
  raw = nullptr;
  rc = idn2_to_ascii_8z(u_label.get(), &raw, kIdnaFlags);
  Idn2String again(raw);
  if (rc != IDN2_OK) return rc;  // the U-label itself is refused, e.g. IDN2_DISALLOWED
  return text::ascii_lower(again.get()) == a_label ? IDN2_OK : IDN2_ALABEL_ROUNDTRIP_FAILED;
}

// Every "xn--" label of libidn2's output (several when a mapped U+3002 split one) must be
// a valid A-label: libidn2 passes one through unchecked, whether it was given as such or
// only appeared after UTS #46 mapping (a SOFT HYPHEN in "xn\u00AD--4nk" is mapped away).
int check_a_labels(std::string_view ascii) {
  for (std::size_t b = 0; b <= ascii.size();) {
    std::size_t d = ascii.find('.', b);
    if (d == std::string_view::npos) d = ascii.size();
    const std::string_view sub = ascii.substr(b, d - b);
    if (has_ace_prefix(sub)) {
      if (const int rc = check_a_label(std::string(sub)); rc != IDN2_OK) return rc;
    }
    b = d + 1;
  }
  return IDN2_OK;
}

// One label that is not plain LDH: through libidn2 to its A-label (which may hold dots
// when UTS #46 maps a full stop such as U+3002 into one). An "xn--" label must already be
// a valid A-label, given in any letter case (RFC 5890 §2.3.2.1): libidn2's output is then
// that label, lowercased.
core::Result<std::string, Error> to_a_label(std::string_view label, std::string_view input) {
  std::string z(label);
  char* raw = nullptr;
  int rc = idn2_to_ascii_8z(z.c_str(), &raw, kIdnaFlags);
  Idn2String out(raw);
  std::string ascii = rc == IDN2_OK ? text::ascii_lower(out.get()) : std::string();
  if (rc == IDN2_OK && has_ace_prefix(label) && ascii != text::ascii_lower(label)) {
    rc = IDN2_ALABEL_ROUNDTRIP_FAILED;
  }
  if (rc == IDN2_OK) rc = check_a_labels(ascii);
  switch (rc) {
    case IDN2_OK:
      return ascii;
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:
    case IDN2_TOO_BIG_DOMAIN:
      return problem(Reason::label_too_long, input, label);
    case IDN2_HYPHEN_STARTEND:
      return problem(Reason::label_hyphen, input, label);
    default:
      return problem(Reason::idna, input, label, {}, rc);
  }
}

}  // namespace

core::Result<std::string, Error> canonical_domain(std::string_view input) {
  if (input.empty()) return problem(Reason::empty, input);
  if (input.front() == '[') return problem(Reason::literal, input);
  if (std::size_t bad = text::invalid_utf8_at(input); bad != std::string_view::npos) {
    return problem(Reason::not_utf8, input, {}, std::to_string(bad));
  }
  for (std::size_t pos = 0; pos < input.size();) {
    const std::size_t start = pos;
    const char32_t c = text::next_code_point(input, pos);
    if (text::is_control(c)) {
      return problem(Reason::control, input, {}, text::printable(input.substr(start, pos - start)));
    }
    if (text::is_space(c)) return problem(Reason::space, input);
  }
  if (input.back() == '.') {
    return problem(input.size() == 1 ? Reason::empty_label : Reason::trailing_dot, input);
  }
  std::string out;
  std::size_t begin = 0;
  while (begin <= input.size()) {
    std::size_t dot = input.find('.', begin);
    if (dot == std::string_view::npos) dot = input.size();
    const std::string_view label = input.substr(begin, dot - begin);
    begin = dot + 1;
    if (label.empty()) return problem(Reason::empty_label, input);
    std::string ascii;
    if (is_ascii(label) && !has_ace_prefix(label)) {
      ascii = text::ascii_lower(label);
    } else {
      auto converted = to_a_label(label, input);
      if (!converted) return converted.error();
      ascii = std::move(*converted);
    }
    // Check what will be stored, label by label (a mapped U+3002 may have split one).
    for (std::size_t b = 0; b <= ascii.size();) {
      std::size_t d = ascii.find('.', b);
      if (d == std::string::npos) d = ascii.size();
      if (auto bad = check_ascii_label(std::string_view(ascii).substr(b, d - b), input, label)) {
        return *bad;
      }
      b = d + 1;
    }
    if (!out.empty()) out += '.';
    out += ascii;
  }
  if (out.size() > kMaxDomain)
    return problem(Reason::too_long, input, {}, std::to_string(out.size()));
  return out;
}

std::string display_domain(std::string_view canonical) {
  std::string z(canonical);
  char* raw = nullptr;
  const int rc = idn2_to_unicode_8z8z(z.c_str(), &raw, 0);
  Idn2String out(raw);
  if (rc != IDN2_OK || out == nullptr) return z;
  return out.get();
}

}  // namespace postern::address
