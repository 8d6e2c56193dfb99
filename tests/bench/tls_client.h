// tls_client.h: the client side of TLS for a load tool (mbedTLS 2.28): one configuration shared
// by every connection, and one session per connection over its non-blocking socket.
//
// Typical use: TlsClient client; client.init("tool"); per connection, after its connect
// completed: TlsSession s; s.start(client, fd); handshake() until it returns 1, then
// send_some()/recv_some(). Between calls, poll for POLLOUT when wants_write(), else POLLIN.
// Single-threaded, like the tools.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>

#include <cstddef>
#include <string>

namespace postern::bench {

// The configuration every session shares; it must outlive them all. Not copyable or movable:
// mbedtls_ssl_setup keeps a pointer to the config, the config one to the DRBG, the DRBG one to
// the entropy source.
class TlsClient {
 public:
  TlsClient();
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Seeds the DRBG (personalised with `personal`) and sets up a client that does not verify
  // the certificate (the servers use self-signed ones on loopback) and offers only
  // ECDHE-ECDSA/RSA-AES128-GCM-SHA256, so every server is measured with the same cipher.
  // False when mbedTLS refused.
  bool init(const char* personal);
  const mbedtls_ssl_config* config() const { return &config_; }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config config_;
};

// One connection's TLS session over a socket it does not own (the caller closes the fd, after
// or instead of this session). Not copyable or movable: the BIO callbacks point to it.
class TlsSession {
 public:
  TlsSession();
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // REQUIRES: `client` was initialised and outlives this session; fd is connected and
  // non-blocking. False when mbedTLS refused.
  bool start(const TlsClient& client, int fd);
  // 1: the handshake is done; 0: it waits for the socket; < 0: it failed (the mbedTLS error,
  // which error_text() spells out). A full handshake: no session resumption.
  int handshake();
  // send_some()/recv_some()'s contract (load_client.h): > 0 bytes moved, 0 would block, < 0
  // ended (close_notify or end of stream) or failed.
  long send_some(const char* data, std::size_t size);
  long recv_some(char* data, std::size_t size);
  // The last call stopped because the socket would not take more: wait for POLLOUT.
  bool wants_write() const { return wants_write_; }

  static std::string error_text(int code);

 private:
  static int bio_send(void* context, const unsigned char* data, std::size_t size) noexcept;
  static int bio_recv(void* context, unsigned char* data, std::size_t size) noexcept;

  mbedtls_ssl_context ssl_;
  int fd_ = -1;
  bool wants_write_ = false;
};

}  // namespace postern::bench
