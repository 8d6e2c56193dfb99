// SHA-256 (mbedTLS) for body content hashes: an incremental hasher and hex.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <mbedtls/sha256.h>

namespace postern::store {

using Digest = std::array<std::uint8_t, 32>;

// Not copyable or movable: the mbedTLS context is init'ed in place.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  Digest finish();  // REQUIRES: called once

 private:
  mbedtls_sha256_context ctx_;
};

Digest sha256(std::string_view bytes);
std::string to_hex(const Digest& d);
std::string to_hex(std::string_view bytes);
// Parses 64 hex digits; false on anything else.
bool from_hex(std::string_view hex, Digest& out);

}  // namespace postern::store
