// The mbedtls_ssl_config every server-side TLS session shares: TLS 1.2, ECDHE with AEAD
// ciphersuites only, X25519 first, ChaCha20-Poly1305 first where AES has no hardware,
// session tickets (RFC 5077) and a small session-ID cache, and the server's certificate.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>

#include "core/result.h"
#include "tls/credentials.h"
#include "tls/random.h"

namespace postern::tls {

struct ServerOptions {
  // RFC 5077 tickets: how long a client may resume. 0: no tickets.
  std::chrono::seconds ticket_lifetime{43200};
  // Session-ID cache (RFC 5246 §7.4.1.2) for clients without tickets. 0: none.
  std::size_t session_cache_entries = 32;
  // Tests: force the AES detection (tls/hardware_aes.h) one way or the other.
  std::optional<bool> hardware_aes;
};

// The ciphersuite preference, 0-terminated: AES-GCM first when `hardware_aes`, else
// ChaCha20-Poly1305 first (RFC 7905; software AES is slower and leaks timing through its
// tables). ECDSA suites before RSA ones: the generated key is P-256.
const int* server_ciphersuites(bool hardware_aes) noexcept;

// The ECDHE groups in preference order, MBEDTLS_ECP_DP_NONE-terminated: X25519 (RFC 7748,
// RFC 8422 §5.1.1), then secp256r1, then secp384r1. The server picks the first of these
// that the client offers.
const mbedtls_ecp_group_id* server_curves() noexcept;

// Non-copyable and non-movable: every Filter's mbedtls_ssl_context points into it
// (mbedtls_ssl_setup), so it must outlive every Filter made from it.
// Loop thread only once Filters exist.
class ServerConfig {
 public:
  // Owns its own DRBG, ticket keys and session cache; keeps `credentials` alive.
  static core::Result<std::unique_ptr<ServerConfig>> create(
      std::shared_ptr<Credentials> credentials, const ServerOptions& options = {});
  ~ServerConfig();
  ServerConfig(const ServerConfig&) = delete;
  ServerConfig& operator=(const ServerConfig&) = delete;

  // The configuration a new session is set up with. The shared_ptr keeps it (and the
  // credentials in it) alive for that session after replace_credentials().
  std::shared_ptr<const mbedtls_ssl_config> acquire() const noexcept { return current_; }
  const mbedtls_ssl_config* get() const noexcept { return current_.get(); }

  // Serves `credentials` to sessions set up from now on (a renewed certificate); sessions
  // under way keep theirs. Tickets issued before stay valid (the ticket keys are shared).
  core::Result<void> replace_credentials(std::shared_ptr<Credentials> credentials);
  std::shared_ptr<Credentials> credentials() const noexcept { return credentials_; }

  bool prefers_chacha() const noexcept { return !hardware_aes_; }
  bool tickets() const noexcept { return tickets_; }

 private:
  ServerConfig() = default;
  // Dependency order: each config points at the DRBG, the ticket keys and the cache.
  std::unique_ptr<Random> random_;
  struct Shared;  // ticket context + session cache, freed last
  std::unique_ptr<Shared> shared_;
  bool hardware_aes_ = false;
  bool tickets_ = false;
  bool session_cache_ = false;
  std::shared_ptr<Credentials> credentials_;
  std::shared_ptr<const mbedtls_ssl_config> current_;  // owns the credentials it points into
};

}  // namespace postern::tls
