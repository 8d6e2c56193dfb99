// A client-side mbedtls_ssl_config: the peer Filter tests and loopback tools talk to.
#pragma once

#include <memory>

#include <mbedtls/ssl.h>

#include "core/result.h"
#include "tls/credentials.h"
#include "tls/random.h"

namespace postern::tls {

// Non-copyable and non-movable, like ServerConfig. A test peer for
// Filter. Without a CA it does not verify the server (VERIFY_NONE); with one
// it requires a chain to it and the hostname given to Filter::create_client.
struct ClientOptions {
  int min_minor_version = MBEDTLS_SSL_MINOR_VERSION_3;  // 3 = TLS 1.2, 2 = TLS 1.1
  int max_minor_version = MBEDTLS_SSL_MINOR_VERSION_3;
  std::shared_ptr<Credentials> trust;  // its certificate becomes the CA chain; may be null
  // Offered in this order; null: mbedTLS's defaults. Static storage (mbedTLS keeps the pointer).
  const mbedtls_ecp_group_id* curves = nullptr;
  const int* ciphersuites = nullptr;
  bool session_tickets = true;  // RFC 5077: ask for (and present) a ticket
};

// A session a client saved after a handshake (Filter::save_session) to resume the next
// connection with (Filter::create_client): the ticket or session ID and the master secret.
// Non-copyable and non-movable, like every mbedTLS context wrapper here.
class ClientSession {
 public:
  ClientSession() { mbedtls_ssl_session_init(&session_); }
  ~ClientSession() { mbedtls_ssl_session_free(&session_); }
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;
  bool empty() const noexcept { return !saved_; }

 private:
  friend class Filter;
  mbedtls_ssl_session session_;
  bool saved_ = false;
};

class ClientConfig {
 public:
  static core::Result<std::unique_ptr<ClientConfig>> create(const ClientOptions& options);
  ~ClientConfig();
  ClientConfig(const ClientConfig&) = delete;
  ClientConfig& operator=(const ClientConfig&) = delete;

  const mbedtls_ssl_config* get() const noexcept { return &config_; }

 private:
  explicit ClientConfig(std::shared_ptr<Credentials> trust);
  std::shared_ptr<Credentials> trust_;
  std::unique_ptr<Random> random_;
  mbedtls_ssl_config config_;
};

}  // namespace postern::tls
