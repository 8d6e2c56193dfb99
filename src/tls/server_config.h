// The mbedtls_ssl_config every server-side TLS session shares: TLS 1.2 only,
// ECDHE with AEAD ciphersuites, the server's own certificate.
#pragma once

#include <memory>

#include <mbedtls/ssl.h>

#include "core/result.h"
#include "tls/credentials.h"
#include "tls/random.h"

namespace postern::tls {

// Non-copyable and non-movable: every Filter's mbedtls_ssl_context points at
// it (mbedtls_ssl_setup), so it must outlive every Filter made from it.
// Loop thread only once Filters exist.
class ServerConfig {
 public:
  // Owns its own DRBG; keeps `credentials` alive.
  static core::Result<std::unique_ptr<ServerConfig>> create(
      std::shared_ptr<Credentials> credentials);
  ~ServerConfig();
  ServerConfig(const ServerConfig&) = delete;
  ServerConfig& operator=(const ServerConfig&) = delete;

  const mbedtls_ssl_config* get() const noexcept { return &config_; }

 private:
  explicit ServerConfig(std::shared_ptr<Credentials> credentials);
  // Dependency order: config_ points into the credentials and the DRBG.
  std::shared_ptr<Credentials> credentials_;
  std::unique_ptr<Random> random_;
  mbedtls_ssl_config config_;
};

}  // namespace postern::tls
