// A client TLS config that checks the server: against a CA bundle (the system's
// /etc/ssl/certs/ca-certificates.crt by default) and the host name (RFC 6125),
// or, when the owner pinned one, against exactly one certificate's SHA-256
// fingerprint (a self-signed server). Either way it records the fingerprint of
// the certificate the server sent, so a failure can show it to the owner.
#pragma once

#include <memory>
#include <string>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "core/result.h"
#include "tls/random.h"

namespace postern::tls {

struct PeerCheck {
  std::string ca_file;  // PEM bundle; used when `pin` is empty
  std::string pin;      // 64 hex digits (any case, ':' allowed), SHA-256 of the DER certificate
};

// One per connection (the fingerprint slot is per config). Non-copyable and
// non-movable: the SSL context keeps pointers to the config and CA chain.
class PeerVerifier {
 public:
  // Errors: Errc::not_found "ca-file" (unreadable bundle), Errc::invalid "pin".
  static core::Result<std::unique_ptr<PeerVerifier>> create(const PeerCheck& check);
  ~PeerVerifier();
  PeerVerifier(const PeerVerifier&) = delete;
  PeerVerifier& operator=(const PeerVerifier&) = delete;

  const mbedtls_ssl_config* get() const noexcept { return &config_; }
  // Lowercase hex SHA-256 of the server's certificate; empty before the handshake saw it.
  const std::string& seen_fingerprint() const noexcept { return seen_; }
  // Why verification failed, from mbedTLS's flags ("not trusted", "name mismatch", ...).
  const std::string& verify_problem() const noexcept { return problem_; }

  // "AB:cd:..." or "abcd..." -> 64 lowercase hex digits, or empty when malformed.
  static std::string normalize_pin(const std::string& text);

 private:
  PeerVerifier();
  static int on_verify(void* self, mbedtls_x509_crt* crt, int depth, std::uint32_t* flags) noexcept;

  std::unique_ptr<Random> random_;
  mbedtls_x509_crt ca_;
  mbedtls_ssl_config config_;
  std::string pin_;
  std::string seen_;
  std::string problem_;
};

}  // namespace postern::tls
