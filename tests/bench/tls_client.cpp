// tls_client.cpp: mbedTLS client configuration and per-connection sessions for the load tools.
#include "tls_client.h"

#include <sys/socket.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>

#include <cerrno>
#include <cstring>

namespace postern::bench {
namespace {

constexpr int kSuites[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                           MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 0};

bool would_block(int rc) {
  return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}

}  // namespace

TlsClient::TlsClient() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_ssl_config_init(&config_);
}

TlsClient::~TlsClient() {
  mbedtls_ssl_config_free(&config_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

bool TlsClient::init(const char* personal) {
  if (mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                            reinterpret_cast<const unsigned char*>(personal),
                            std::strlen(personal)) != 0 ||
      mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                  MBEDTLS_SSL_PRESET_DEFAULT) != 0)
    return false;
  mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_NONE);  // self-signed, loopback
  mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
  mbedtls_ssl_conf_ciphersuites(&config_, kSuites);
  return true;
}

TlsSession::TlsSession() {
  mbedtls_ssl_init(&ssl_);
}

TlsSession::~TlsSession() {
  mbedtls_ssl_free(&ssl_);
}

bool TlsSession::start(const TlsClient& client, int fd) {
  fd_ = fd;
  if (mbedtls_ssl_setup(&ssl_, client.config()) != 0) return false;
  mbedtls_ssl_set_bio(&ssl_, this, bio_send, bio_recv, nullptr);
  return true;
}

int TlsSession::handshake() {
  wants_write_ = false;
  int rc = mbedtls_ssl_handshake(&ssl_);
  if (would_block(rc)) return 0;
  return rc == 0 ? 1 : rc;
}

long TlsSession::send_some(const char* data, std::size_t size) {
  wants_write_ = false;
  int n = mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(data), size);
  if (would_block(n)) return 0;
  return n > 0 ? n : -1;
}

long TlsSession::recv_some(char* data, std::size_t size) {
  wants_write_ = false;
  int n = mbedtls_ssl_read(&ssl_, reinterpret_cast<unsigned char*>(data), size);
  if (would_block(n)) return 0;
  return n > 0 ? n : -1;  // 0 or CONN_EOF / PEER_CLOSE_NOTIFY: the session is over
}

std::string TlsSession::error_text(int code) {
  char text[128];
  mbedtls_strerror(code, text, sizeof text);
  return text;
}

// BIO callbacks for mbedTLS over the non-blocking socket.
int TlsSession::bio_send(void* context, const unsigned char* data, std::size_t size) noexcept {
  auto* s = static_cast<TlsSession*>(context);
  ssize_t n = ::send(s->fd_, data, size, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    s->wants_write_ = true;
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

int TlsSession::bio_recv(void* context, unsigned char* data, std::size_t size) noexcept {
  auto* s = static_cast<TlsSession*>(context);
  ssize_t n = ::recv(s->fd_, data, size, 0);
  if (n >= 0) return static_cast<int>(n);  // 0: end of stream
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

}  // namespace postern::bench
