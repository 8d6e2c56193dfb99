// PBKDF2-HMAC-SHA256 through mbedTLS's md context, salts from getrandom(2).
#include "store/password.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>

namespace postern::store {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr unsigned long kMaxIterations = 10'000'000;
constexpr std::string_view kScheme = "pbkdf2-sha256";

bool derive(std::string_view password, std::string_view salt, unsigned iterations,
            unsigned char* out) {
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
  if (rc == 0) {
    rc = mbedtls_pkcs5_pbkdf2_hmac(&md, reinterpret_cast<const unsigned char*>(password.data()),
                                   password.size(),
                                   reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                                   iterations, kKeyBytes, out);
  }
  mbedtls_md_free(&md);
  return rc == 0;
}

std::string b64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  std::size_t len = 0;
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &len, data,
                            n) != 0) {
    return {};
  }
  out.resize(len);
  return out;
}

bool unb64(std::string_view in, std::string& out) {
  out.assign(in.size(), '\0');
  std::size_t len = 0;
  if (mbedtls_base64_decode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &len,
                            reinterpret_cast<const unsigned char*>(in.data()), in.size()) != 0) {
    return false;
  }
  out.resize(len);
  return true;
}

void random_bytes(unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    // getrandom(2) without GRND_NONBLOCK only fails on a kernel without it
    // (< 3.17); a salt we cannot make is not a salt, so stop here.
    if (r < 0) std::abort();
    got += static_cast<std::size_t>(r);
  }
}

}  // namespace

std::string hash_password(std::string_view password, unsigned iterations) {
  unsigned char salt[kSaltBytes];
  unsigned char key[kKeyBytes];
  random_bytes(salt, sizeof salt);
  if (iterations == 0) iterations = 1;
  if (!derive(password, std::string_view(reinterpret_cast<char*>(salt), sizeof salt), iterations,
              key)) {
    return std::string(kUnusablePassword);
  }
  std::string out(kScheme);
  out += '$';
  out += std::to_string(iterations);
  out += '$';
  out += b64(salt, sizeof salt);
  out += '$';
  out += b64(key, sizeof key);
  mbedtls_platform_zeroize(key, sizeof key);
  return out;
}

bool verify_password(std::string_view password, std::string_view encoded) {
  // scheme $ iterations $ salt $ hash
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    std::size_t dollar = encoded.find('$');
    if (dollar == std::string_view::npos) return false;
    parts[i] = encoded.substr(0, dollar);
    encoded.remove_prefix(dollar + 1);
  }
  parts[3] = encoded;
  if (parts[0] != kScheme || parts[1].empty() || parts[1].size() > 8) return false;
  unsigned long iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return false;
    iterations = iterations * 10 + static_cast<unsigned long>(c - '0');
  }
  if (iterations == 0 || iterations > kMaxIterations) return false;
  std::string salt, expected;
  if (!unb64(parts[2], salt) || !unb64(parts[3], expected) || expected.size() != kKeyBytes) {
    return false;
  }
  unsigned char key[kKeyBytes];
  if (!derive(password, salt, static_cast<unsigned>(iterations), key)) return false;
  // Constant time: the comparison must not reveal how many leading bytes matched.
  unsigned char diff = 0;
  for (std::size_t i = 0; i < kKeyBytes; ++i) {
    diff |= static_cast<unsigned char>(key[i] ^ static_cast<unsigned char>(expected[i]));
  }
  mbedtls_platform_zeroize(key, sizeof key);
  return diff == 0;
}

}  // namespace postern::store
