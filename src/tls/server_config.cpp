// Server-side mbedtls_ssl_config setup: groups, ciphersuites, tickets, cache, certificate.
#include "tls/server_config.h"

#include <algorithm>
#include <utility>

#include "tls/error.h"
#include "tls/hardware_aes.h"

namespace postern::tls {
namespace {

// Forward secrecy and AEAD only (RFC 7525 §4.2).
const int kAesFirst[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};
const int kChachaFirst[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0,
};

// secp521r1 (mbedTLS's default first choice) costs several times P-256 for no security a
// mail client needs; X25519 is the cheapest and what most clients offer first.
const mbedtls_ecp_group_id kCurves[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

// An mbedtls_ssl_config with the credentials it points into (mbedtls_ssl_conf_own_cert).
struct Holder {
  std::shared_ptr<Credentials> credentials;
  mbedtls_ssl_config config;
  explicit Holder(std::shared_ptr<Credentials> c) : credentials(std::move(c)) {
    mbedtls_ssl_config_init(&config);
  }
  ~Holder() { mbedtls_ssl_config_free(&config); }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
};

}  // namespace

const int* server_ciphersuites(bool hardware_aes) noexcept {
  return hardware_aes ? kAesFirst : kChachaFirst;
}

const mbedtls_ecp_group_id* server_curves() noexcept {
  return kCurves;
}

struct ServerConfig::Shared {
  mbedtls_ssl_ticket_context tickets;
  mbedtls_ssl_cache_context cache;
  Shared() {
    mbedtls_ssl_ticket_init(&tickets);
    mbedtls_ssl_cache_init(&cache);
  }
  ~Shared() {
    mbedtls_ssl_cache_free(&cache);
    mbedtls_ssl_ticket_free(&tickets);
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
};

ServerConfig::~ServerConfig() = default;

core::Result<std::unique_ptr<ServerConfig>> ServerConfig::create(
    std::shared_ptr<Credentials> credentials, const ServerOptions& options) {
  std::unique_ptr<ServerConfig> server(new ServerConfig());
  auto random = Random::create("postern tls server");
  if (!random) return random.error();
  server->random_ = std::move(*random);
  server->shared_ = std::make_unique<Shared>();
  server->hardware_aes_ = options.hardware_aes.value_or(detect_hardware_aes().library);

  const auto lifetime = static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(options.ticket_lifetime.count(), 0, 7 * 86400));
  if (lifetime > 0) {
    // The ticket module encrypts each ticket with an AEAD key it draws and rotates itself:
    // a key is used to issue tickets for `lifetime` seconds and accepted for twice that
    // (mbedtls/ssl_ticket.h), so a stolen key opens at most two lifetimes of sessions.
    // AES-256-GCM: mbedTLS 2.28's ticket module takes GCM or CCM ciphers only, and one
    // ticket is one small AEAD operation per handshake even in software.
    int rc =
        mbedtls_ssl_ticket_setup(&server->shared_->tickets, &Random::generate,
                                 server->random_->context(), MBEDTLS_CIPHER_AES_256_GCM, lifetime);
    if (rc != 0) return tls_error("ssl_ticket_setup", rc);
    server->tickets_ = true;
  }
  if (options.session_cache_entries > 0) {
    mbedtls_ssl_cache_set_max_entries(
        &server->shared_->cache,
        static_cast<int>(std::min<std::size_t>(options.session_cache_entries, 4096)));
    mbedtls_ssl_cache_set_timeout(&server->shared_->cache,
                                  lifetime > 0 ? static_cast<int>(lifetime) : 3600);
  }
  server->session_cache_ = options.session_cache_entries > 0;
  if (auto r = server->replace_credentials(std::move(credentials)); !r) return r.error();
  return server;
}

core::Result<void> ServerConfig::replace_credentials(std::shared_ptr<Credentials> credentials) {
  auto holder = std::make_shared<Holder>(std::move(credentials));
  mbedtls_ssl_config* c = &holder->config;
  int rc = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return tls_error("ssl_config_defaults", rc);
  mbedtls_ssl_conf_rng(c, &Random::generate, random_->context());
  // RFC 8996: TLS 1.0 and 1.1 are deprecated; 1.2 is the floor.
  mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(c, server_ciphersuites(hardware_aes_));
  mbedtls_ssl_conf_curves(c, kCurves);
  // RFC 5746 renegotiation stays off (the default); insist on the secure variant anyway.
  mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  mbedtls_ssl_conf_legacy_renegotiation(c, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
  if (tickets_) {
    mbedtls_ssl_conf_session_tickets_cb(c, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
                                        &shared_->tickets);
  }
  if (session_cache_) {
    mbedtls_ssl_conf_session_cache(c, &shared_->cache, mbedtls_ssl_cache_get,
                                   mbedtls_ssl_cache_set);
  }
  rc = mbedtls_ssl_conf_own_cert(c, holder->credentials->certificate(), holder->credentials->key());
  if (rc != 0) return tls_error("ssl_conf_own_cert", rc);
  credentials_ = holder->credentials;
  current_ = std::shared_ptr<const mbedtls_ssl_config>(holder, c);
  return {};
}

}  // namespace postern::tls
