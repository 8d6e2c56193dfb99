// Test-client mbedtls_ssl_config setup.
#include "tls/client_config.h"

#include <utility>

#include "tls/error.h"

namespace postern::tls {

ClientConfig::ClientConfig(std::shared_ptr<Credentials> trust) : trust_(std::move(trust)) {
  mbedtls_ssl_config_init(&config_);
}

ClientConfig::~ClientConfig() {
  mbedtls_ssl_config_free(&config_);
}

core::Result<std::unique_ptr<ClientConfig>> ClientConfig::create(const ClientOptions& options) {
  std::unique_ptr<ClientConfig> client(new ClientConfig(options.trust));
  auto random = Random::create("postern tls client");
  if (!random) return random.error();
  client->random_ = std::move(*random);
  mbedtls_ssl_config* c = &client->config_;
  int rc = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return tls_error("ssl_config_defaults", rc);
  mbedtls_ssl_conf_rng(c, &Random::generate, client->random_->context());
  mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, options.min_minor_version);
  mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, options.max_minor_version);
  if (options.curves != nullptr) mbedtls_ssl_conf_curves(c, options.curves);
  if (options.ciphersuites != nullptr) mbedtls_ssl_conf_ciphersuites(c, options.ciphersuites);
  mbedtls_ssl_conf_session_tickets(c, options.session_tickets
                                          ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                          : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  if (client->trust_) {
    mbedtls_ssl_conf_ca_chain(c, client->trust_->certificate(), nullptr);
    mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
  } else {
    mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_NONE);
  }
  return client;
}

}  // namespace postern::tls
