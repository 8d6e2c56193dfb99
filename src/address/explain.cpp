// Sentences for address and domain problems, and the where() codes that carry them.
#include <idn2.h>
#include <uniwidth.h>

#include <cstdint>

#include "address/address.h"

namespace postern::address {
namespace {

struct Wording {
  Reason reason;
  const char* domain_where;
  const char* local_where;
  const char* sentence;  // without the input; explain() adds the specifics it knows
};

constexpr Wording kWordings[] = {
    {Reason::empty, "domain-empty", "local-part-empty", "it is empty"},
    {Reason::not_utf8, "domain-utf8", "local-part-utf8",
     "it has bytes that are not valid UTF-8 (shown as \\xNN)"},
    {Reason::space, "domain-space", "local-part-space", "spaces are not allowed"},
    {Reason::control, "domain-control", "local-part-control", "control characters are not allowed"},
    {Reason::too_long, "domain-length", "domain-length",
     "it is longer than 255 octets (in A-label form)"},
    {Reason::empty_label, "domain-empty-label", "domain-empty-label",
     "it has an empty label (two dots in a row, or a dot at the start)"},
    {Reason::trailing_dot, "domain-trailing-dot", "domain-trailing-dot",
     "it must not end with a dot"},
    {Reason::label_too_long, "domain-label-length", "domain-label-length",
     "a label is longer than 63 octets (in A-label form)"},
    {Reason::label_hyphen, "domain-label-hyphen", "domain-label-hyphen",
     "a label starts or ends with a hyphen"},
    {Reason::label_char, "domain-label-char", "domain-label-char",
     "only letters, digits and hyphens are allowed in a label"},
    {Reason::idna, "domain-idna", "domain-idna", "a label is not valid under IDNA2008"},
    {Reason::literal, "domain-literal", "domain-literal",
     "address literals such as [192.0.2.1] are not accepted; use a domain name"},
    {Reason::no_at, "address-no-at", "address-no-at",
     "it needs a local part, '@' and a domain, like bob@example.org"},
    {Reason::local_too_long, "local-part-length", "local-part-length",
     "the local part is longer than 64 octets"},
    {Reason::local_dot, "local-part-dot", "local-part-dot",
     "the local part must not start or end with a dot, nor have two dots in a row"},
    {Reason::local_char, "local-part-char", "local-part-char",
     "the local part has a character that is not allowed"},
};

const Wording& wording(Reason reason) {
  for (const Wording& w : kWordings) {
    if (w.reason == reason) return w;
  }
  return kWordings[0];
}

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

// The reason with what the error knows: which label, which character, how long.
std::string specific(const Error& e) {
  const std::string& label = e.label;
  switch (e.reason) {
    case Reason::control:
      return "control characters are not allowed (" + e.detail + ")";
    case Reason::too_long:
      return "it is " + e.detail + " octets long in A-label form; at most 255 are allowed";
    case Reason::label_too_long:
      return "the label " + quoted(label) + " is longer than 63 octets" +
             (e.detail.empty() ? std::string(" in A-label form") : " (" + e.detail + ")");
    case Reason::label_hyphen:
      return "the label " + quoted(label) + " starts or ends with a hyphen";
    case Reason::label_char:
      return "the label " + quoted(label) + " has " + quoted(e.detail) +
             "; only letters, digits and hyphens are allowed";
    case Reason::idna:
      return "the label " + quoted(label) + " is not valid under IDNA2008 (" +
             idn2_strerror(e.idna) + ")";
    case Reason::local_too_long:
      return "the local part is " + e.detail + " octets long; at most 64 are allowed";
    case Reason::local_char:
      return "the local part has " + quoted(e.detail) +
             ", which is not allowed outside quotes (RFC 5322 atext, dots, or any non-ASCII "
             "letter)";
    default:
      return wording(e.reason).sentence;
  }
}

}  // namespace

std::string explain(const Error& error) {
  std::string out = quoted(error.input) + " is not a valid ";
  out += error.whole_address ? "address: " : "domain name: ";
  if (!error.whole_address || error.reason == Reason::no_at) return out + specific(error);
  if (error.reason == Reason::empty) {
    return out + (error.part == Part::domain ? "the domain after '@' is empty"
                                             : "the local part before '@' is empty");
  }
  if (error.part == Part::domain) return out + "in the domain, " + specific(error);
  const bool says_part = error.reason == Reason::local_too_long ||
                         error.reason == Reason::local_dot || error.reason == Reason::local_char;
  return out + (says_part ? "" : "in the local part, ") + specific(error);
}

const char* where(const Error& error) {
  const Wording& w = wording(error.reason);
  return error.part == Part::domain ? w.domain_where : w.local_where;
}

const char* reason_for_where(std::string_view where) {
  for (const Wording& w : kWordings) {
    if (where == w.domain_where || where == w.local_where) return w.sentence;
  }
  return nullptr;
}

std::size_t display_width(std::string_view text) {
  const int w = u8_width(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), "UTF-8");
  return w > 0 ? static_cast<std::size_t>(w) : text.size();
}

}  // namespace postern::address
