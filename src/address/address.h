// Mail addresses and domain names as postern stores and compares them (RFC 5321, 6531, 5890).
//
// One canonical form, computed once wherever a name enters (CLI, page, RCPT, POP3 USER):
//   domain      IDNA2008 A-labels (libidn2, UTS #46 non-transitional mapping, NFC input),
//               lowercase, no trailing dot: "Bücher.Example" and "xn--BCHER-kva.example"
//               both become "xn--bcher-kva.example". Plain ASCII labels keep the LDH
//               rules postern always had (RFC 1035 §2.3.1), so existing keys are unchanged.
//   local part  UTF-8 (RFC 6532 §3.2), NFC, lowercase (ASCII and Unicode default case
//               mapping): "Jörg", "jo\u0308rg" and "JÖRG" are one mailbox. A quoted local part
//               (RFC 5321 §4.1.2) is unquoted and accepted when what remains is a dot-string.
// Pure functions of their input (no locale, no globals); safe on any thread.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace postern::address {

// What is wrong with a name; `explain()` turns it into a sentence for people.
enum class Reason {
  empty,           // nothing given
  not_utf8,        // bytes that are not UTF-8
  space,           // a space or other white space
  control,         // a control character (C0, DEL, C1)
  too_long,        // a domain over 255 octets in A-label form (RFC 5321 §4.5.3.1.2)
  empty_label,     // "a..b", ".a"
  trailing_dot,    // "example.org."
  label_too_long,  // a label over 63 octets in A-label form (RFC 1035 §2.3.4)
  label_hyphen,    // a label starting or ending with '-'
  label_char,      // an ASCII character other than letter, digit, hyphen
  idna,            // a label IDNA2008 refuses (libidn2's code in Error::idna)
  literal,         // an address literal such as [192.0.2.1]
  no_at,           // an address without '@'
  local_too_long,  // a local part over 64 octets (RFC 5321 §4.5.3.1.1)
  local_dot,       // a local part starting or ending with '.', or with ".."
  local_char,      // a character a local part cannot hold unquoted (RFC 5322 §3.2.3)
};

enum class Part { domain, local_part };

struct Error {
  Reason reason = Reason::empty;
  Part part = Part::domain;    // which part is wrong
  bool whole_address = false;  // the input was an address, not a domain alone
  std::string input;           // what was given, printable (controls and bad bytes escaped)
  std::string label;           // the offending domain label, printable; may be empty
  std::string detail;          // the offending character, or a count; may be empty
  int idna = 0;                // libidn2's return code for Reason::idna
};

// "'ex ample.org' is not a valid domain name: spaces are not allowed".
std::string explain(const Error& error);
// A string literal naming the problem ("domain-space", "local-part-char"), for
// core::Error::where when the error crosses into a store Result.
const char* where(const Error& error);
// The sentence after the colon of explain() for a where() code; nullptr for other codes.
const char* reason_for_where(std::string_view where);

// The canonical domain (see above) or why it is not one.
core::Result<std::string, Error> canonical_domain(std::string_view domain);
// The canonical local part (see above) or why it is not one.
core::Result<std::string, Error> canonical_local_part(std::string_view local_part);

struct Mailbox {
  std::string local_part;  // canonical
  std::string domain;      // canonical (A-labels)
  std::string key() const { return local_part + '@' + domain; }
};
// "local@domain" with both parts canonical; the last '@' outside quotes separates them.
core::Result<Mailbox, Error> parse_mailbox(std::string_view address);

// For people: A-labels shown as U-labels ("xn--bcher-kva.example" -> "bücher.example").
// Anything that does not convert is returned unchanged.
std::string display_domain(std::string_view canonical);
// "jörg@xn--bcher-kva.example" -> "jörg@bücher.example".
std::string display_address(std::string_view canonical);
// Terminal columns the UTF-8 text takes (wide CJK characters count two), for aligned tables.
std::size_t display_width(std::string_view text);

}  // namespace postern::address
