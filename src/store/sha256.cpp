// SHA-256 via mbedTLS 2.28 (the *_ret functions report errors; there are none for SHA-256).
#include "store/sha256.h"

namespace postern::store {

Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  (void)mbedtls_sha256_starts_ret(&ctx_, 0);
}

Sha256::~Sha256() {
  mbedtls_sha256_free(&ctx_);
}

void Sha256::update(std::string_view bytes) {
  (void)mbedtls_sha256_update_ret(&ctx_, reinterpret_cast<const unsigned char*>(bytes.data()),
                                  bytes.size());
}

Digest Sha256::finish() {
  Digest d{};
  (void)mbedtls_sha256_finish_ret(&ctx_, d.data());
  return d;
}

Digest sha256(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string to_hex(const Digest& d) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

bool from_hex(std::string_view hex, Digest& out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace postern::store
