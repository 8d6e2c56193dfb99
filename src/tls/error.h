// How mbedTLS failures become core::Error values (Errc::tls, sys = the mbedTLS code).
#pragma once

#include <string>

#include "core/result.h"

namespace postern::tls {

// `where` must be a string literal; `code` is the negative mbedTLS return value.
inline core::Error tls_error(const char* where, int code) noexcept {
  return core::make_error(core::Errc::tls, where, code);
}

// mbedtls_strerror() text for a log line, e.g. "SSL - The handshake negotiation failed".
std::string describe(int mbedtls_code);

}  // namespace postern::tls
