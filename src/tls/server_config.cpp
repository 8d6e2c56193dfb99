// Server and test-client mbedtls_ssl_config setup.
#include "tls/server_config.h"

#include <utility>

#include "tls/error.h"

namespace postern::tls {
namespace {

// Forward secrecy and AEAD only (RFC 7525 §4.2): ECDSA first for the generated
// P-256 key, RSA for an owner-installed RSA certificate.
const int kServerCiphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

}  // namespace

ServerConfig::ServerConfig(std::shared_ptr<Credentials> credentials)
    : credentials_(std::move(credentials)) {
  mbedtls_ssl_config_init(&config_);
}

ServerConfig::~ServerConfig() {
  mbedtls_ssl_config_free(&config_);
}

core::Result<std::unique_ptr<ServerConfig>> ServerConfig::create(
    std::shared_ptr<Credentials> credentials) {
  std::unique_ptr<ServerConfig> server(new ServerConfig(std::move(credentials)));
  auto random = Random::create("postern tls server");
  if (!random) return random.error();
  server->random_ = std::move(*random);
  mbedtls_ssl_config* c = &server->config_;
  int rc = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return tls_error("ssl_config_defaults", rc);
  mbedtls_ssl_conf_rng(c, &Random::generate, server->random_->context());
  // RFC 8996: TLS 1.0 and 1.1 are deprecated; 1.2 is the floor.
  mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(c, kServerCiphersuites);
  // RFC 5746 renegotiation stays off (the default); insist on the secure variant anyway.
  mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  mbedtls_ssl_conf_legacy_renegotiation(c, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
  rc = mbedtls_ssl_conf_own_cert(c, server->credentials_->certificate(),
                                 server->credentials_->key());
  if (rc != 0) return tls_error("ssl_conf_own_cert", rc);
  return server;
}

}  // namespace postern::tls
