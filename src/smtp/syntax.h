// Command-line syntax of RFC 5321 §4.1: verbs, paths and ESMTP parameters.
//
// Pure functions over one command line without its CRLF; they allocate only
// the strings they return. Policy (limits, state) is the session's, not theirs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace postern::smtp {

struct CommandLine {
  std::string_view verb;  // as sent; compare with verb_is()
  std::string_view args;  // after the first space, leading spaces removed
};
CommandLine split_command(std::string_view line);

// ASCII case-insensitive comparison (RFC 5321 §2.4: verbs are case-insensitive).
bool equals_ignore_case(std::string_view a, std::string_view b);

enum class SyntaxError {
  bad_path,           // not a valid <path>: 501 5.1.7 / 5.1.3
  unknown_parameter,  // a parameter we do not offer: 555 5.5.4
  bad_parameter,      // a known parameter with a bad value, or repeated: 501 5.5.4
  needs_smtputf8,     // a non-ASCII address without SMTPUTF8: 553 5.6.7
};

struct MailFrom {
  std::string reverse_path;  // without <>; empty for the null reverse-path
  std::optional<std::uint64_t> size;
  bool eight_bit_mime = false;
  bool smtputf8 = false;
};

// "FROM:<path> [SIZE=n] [BODY=7BIT|8BITMIME] [SMTPUTF8]" (RFC 5321 §4.1.1.2,
// RFC 1870, RFC 6152, RFC 6531). `esmtp` false (HELO) allows no parameters.
// Spaces after the colon are tolerated, as most servers do.
core::Result<MailFrom, SyntaxError> parse_mail_from(std::string_view args, bool esmtp);

// "TO:<path>" or "TO:<Postmaster>" (RFC 5321 §4.1.1.3), no parameters. Returns
// the forward-path without <>, "postmaster" for the bare Postmaster form.
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
