// Password hashing: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) with a per-user salt.
//
// Encoded as "pbkdf2-sha256$<iterations>$<base64 salt>$<base64 hash>" so the
// iteration count can be raised without invalidating stored hashes. Both
// functions are pure and thread-safe: callers run them on the thread pool,
// never on the loop (a check costs tens of milliseconds on a router).
#pragma once

#include <string>
#include <string_view>

namespace postern::store {

inline constexpr unsigned kMinPbkdf2Iterations = 1000;
inline constexpr std::string_view kUnusablePassword = "!";  // never verifies (import, new users)

// A fresh 16-byte salt from getrandom(2). REQUIRES: iterations >= 1
// (values below kMinPbkdf2Iterations are accepted for tests only).
std::string hash_password(std::string_view password, unsigned iterations);

// Constant-time comparison of the derived key; false for "!", malformed
// encodings and iteration counts above 10 million (a stored-value DoS guard).
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace postern::store
