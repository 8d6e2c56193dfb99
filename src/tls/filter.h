// One TLS session as a filter over memory buffers: ciphertext in and out for
// the socket, plaintext in and out for the service. No sockets, no uv.h.
//
// Typical call sequence (net::Connection drives it on the loop thread):
//   auto f = Filter::create(server_config);
//   on socket bytes: f->feed_ciphertext(b); f->read_plaintext(input, room);
//                    (drives the handshake until handshake_done(), then decrypts)
//   to send:         f->write_plaintext(bytes)   // REQUIRES handshake_done()
//   after each call: socket_write(f->take_ciphertext())
//   to finish:       f->close_notify(); socket_write(f->take_ciphertext())
// A client (tests) calls handshake() first, so its ClientHello is queued.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <mbedtls/ssl.h>

#include "core/result.h"
#include "tls/client_config.h"
#include "tls/server_config.h"

namespace postern::tls {

class Filter {
 public:
  // REQUIRES: `config` outlives the Filter (the context keeps a pointer to it).
  static core::Result<std::unique_ptr<Filter>> create(const ServerConfig& config);
  // `hostname` is sent as SNI and, when the config has a CA, checked against the
  // certificate (RFC 6125).
  // `resume`, when not empty, offers that session (its ticket or ID) for an abbreviated
  // handshake (RFC 5246 §7.3, RFC 5077 §3.1); the server may still choose a full one.
  static core::Result<std::unique_ptr<Filter>> create_client(const ClientConfig& config,
                                                             const std::string& hostname,
                                                             const ClientSession* resume = nullptr);
  // The same over any client mbedtls_ssl_config (e.g. tls/peer_verifier.h's).
  // REQUIRES: `config` outlives the Filter.
  static core::Result<std::unique_ptr<Filter>> create_client(const mbedtls_ssl_config* config,
                                                             const std::string& hostname,
                                                             const ClientSession* resume = nullptr);
  // Client side, after the handshake: keeps this session for a later create_client().
  core::Result<void> save_session(ClientSession& out) const;
  ~Filter();
  // Non-copyable and non-movable: mbedtls_ssl_set_bio keeps a pointer to this.
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  // Appends ciphertext that arrived from the peer; any split is fine.
  void feed_ciphertext(std::string_view bytes);

  // Advances the handshake with what has been fed. true once complete.
  // Errors (Errc::tls, sys = mbedTLS code) are final: the session is dead.
  core::Result<bool> handshake();

  // Handshakes if needed, then appends at most `max_bytes` of decrypted data to
  // `out`; returns how many (0 while waiting for more ciphertext). Plaintext
  // beyond `max_bytes` stays buffered: has_buffered_input() tells.
  core::Result<std::size_t> read_plaintext(std::string& out, std::size_t max_bytes);

  // Encrypts `bytes` into the outgoing ciphertext. REQUIRES: handshake_done().
  core::Result<void> write_plaintext(std::string_view bytes);

  // Queues a close_notify alert (RFC 5246 §7.2.1).
  core::Result<void> close_notify();

  // Ciphertext to write to the socket, in order; empties the outgoing buffer.
  std::string take_ciphertext();
  bool has_ciphertext() const noexcept { return !out_.empty(); }

  bool handshake_done() const noexcept { return handshake_done_; }
  // The negotiated ciphersuite's IANA name, e.g. "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256";
  // "unknown" before the handshake.
  const char* ciphersuite() const noexcept;
  // The certificate the peer presented in a full handshake; null when none.
  const mbedtls_x509_crt* peer_certificate() const noexcept;
  // The peer sent close_notify (or ended the stream cleanly).
  bool peer_closed() const noexcept { return peer_closed_; }
  // Fed ciphertext or decrypted plaintext not yet returned by read_plaintext().
  bool has_buffered_input() const noexcept;

 private:
  Filter();
  core::Result<std::unique_ptr<Filter>> static setup(std::unique_ptr<Filter> filter,
                                                     const mbedtls_ssl_config* config);
  static int on_send(void* self, const unsigned char* data, std::size_t length) noexcept;
  static int on_receive(void* self, unsigned char* data, std::size_t length) noexcept;

  std::string in_;  // fed ciphertext; bytes before in_pos_ are consumed
  std::size_t in_pos_ = 0;
  std::string out_;  // ciphertext awaiting take_ciphertext()
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  int failure_ = 0;  // first fatal mbedTLS code; later calls repeat it
  // The server config this session was set up with, kept alive across
  // ServerConfig::replace_credentials(); null for clients (ClientConfig outlives them).
  std::shared_ptr<const mbedtls_ssl_config> config_;
  mbedtls_ssl_context ssl_;  // last: points at the buffers above through `this`
};

}  // namespace postern::tls
