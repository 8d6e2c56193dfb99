// Command-line syntax of RFC 5321 §4.1: verbs, paths and ESMTP parameters.
//
// Pure functions over one command line without its CRLF; they allocate only
// the strings they return. Policy (limits, state) is the session's, not theirs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ascii.h"
#include "core/result.h"

namespace postern::smtp {

struct CommandLine {
  std::string_view verb;  // as sent; compare with verb_is()
  std::string_view args;  // after the first space, leading spaces removed
};
CommandLine split_command(std::string_view line);

// ASCII case-insensitive comparison (RFC 5321 §2.4: verbs are case-insensitive).
using core::equals_ignore_case;  // core/ascii.h

using core::has_control_byte;  // core/ascii.h: C0 controls and DEL

// True if `line` (a command line, or the first octets of an over-long one) is the
// start of an HTTP request: "GET ", "POST ", "HEAD ", "PUT ", "CONNECT ",
// "OPTIONS " (any case), or a header field "Token:" (RFC 9110 §5.1 token). No
// SMTP verb has that form; a client that sends one speaks another protocol.
bool looks_like_http(std::string_view line);

// RFC 6531 §3.3: a non-ASCII address is UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) without C1 controls (U+0080..U+009F).
bool is_valid_utf8_text(std::string_view s);

enum class SyntaxError {
  bad_path,           // not a valid <path>: 501 5.1.7 / 5.1.3
  unknown_parameter,  // a parameter we do not offer: 555 5.5.4
  bad_parameter,      // a known parameter with a bad value, or repeated: 501 5.5.4
  needs_smtputf8,     // a non-ASCII address without SMTPUTF8: 553 5.6.7
  bad_utf8,           // with SMTPUTF8, an address that is not valid UTF-8: 501 5.1.7 / 5.1.3
};

struct MailFrom {
  std::string reverse_path;  // without <>; empty for the null reverse-path
  std::optional<std::uint64_t> size;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
};

// "FROM:<path> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]" (RFC 5321 §4.1.1.2,
// RFC 1870, RFC 6152, RFC 6531). `esmtp` false (HELO) allows no parameters.
// Spaces after the colon are tolerated, as most servers do. A UTF-8 local part
// or U-label domain needs SMTPUTF8 on this same command (RFC 6531 §3.4); the
// address is returned as sent, never normalised (that is the store's concern).
core::Result<MailFrom, SyntaxError> parse_mail_from(std::string_view args, bool esmtp);

// "TO:<path>" or "TO:<Postmaster>" (RFC 5321 §4.1.1.3), no parameters. Returns
// the forward-path without <>, as sent, or "postmaster" for the bare Postmaster
// form. `smtputf8`: MAIL FROM carried SMTPUTF8, so UTF-8 addresses are allowed.
core::Result<std::string, SyntaxError> parse_rcpt_to(std::string_view args, bool smtputf8);

struct BdatArgs {
  std::uint64_t size = 0;
  bool last = false;
};
// "<size> [LAST]" (RFC 3030 §3).
std::optional<BdatArgs> parse_bdat(std::string_view args);

// The EHLO/HELO argument: one token of printable ASCII, as sent. RFC 5321
// §4.1.4 forbids refusing a message because the name does not verify, so we
// check only that it can be printed in a Received header.
std::optional<std::string_view> parse_helo(std::string_view args);

}  // namespace postern::smtp
