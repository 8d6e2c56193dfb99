// SASL PLAIN (RFC 4616) for POP3 AUTH (RFC 5034): a strict base64 decoder and the message parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::pop3 {

// RFC 4648 §4 base64, strictly: the alphabet only, length a multiple of 4, '=' only as the
// final padding, and zero pad bits (RFC 4648 §3.5), so each text has one decoding.
// nullopt when `text` is not such a string. The empty string decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

struct PlainCredentials {
  std::string user;      // authcid
  std::string password;  // passwd
};

enum class PlainError { malformed, authzid_differs };

// Parses "[authzid] NUL authcid NUL passwd" (RFC 4616 §2). authcid and passwd must be
// non-empty; authzid must be empty or equal authcid: postern has no proxy authorization.
struct PlainParse {
  std::optional<PlainCredentials> credentials;
  PlainError error = PlainError::malformed;  // meaningful only without credentials
};
PlainParse parse_plain(std::string_view message);

}  // namespace postern::pop3
