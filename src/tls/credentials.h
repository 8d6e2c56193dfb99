// The server's TLS identity: tls/key.pem + tls/cert.pem in the data folder,
// created self-signed on first start, replaceable by the owner.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "core/clock.h"
#include "core/result.h"
#include "tls/random.h"

namespace postern::tls {

// A parsed certificate chain and its private key, checked to match.
//
// Non-copyable and non-movable: a ServerConfig points into both contexts
// (mbedtls_ssl_conf_own_cert), so it holds a shared_ptr to keep them alive.
// Immutable after loading; install() changes the files, not this object.
class Credentials {
 public:
  // Loads <data_dir>/tls/{cert,key}.pem. On first start (neither file exists)
  // creates an EC P-256 key (mode 0600) and a self-signed certificate: CN and
  // SAN dNSName = hostname, SAN dNSName "localhost", a random 126-bit serial,
  // valid from one hour before clock.now() for ten years. Key generation is
  // public-key work: call at start-up, before the loop runs.
  // Errors: Errc::invalid (bad hostname, mismatched pair), Errc::io, Errc::tls.
  static core::Result<std::shared_ptr<Credentials>> load_or_create(const std::string& data_dir,
                                                                   const std::string& hostname,
                                                                   const core::Clock& clock,
                                                                   Random& random);

  // Parses a PEM certificate (chain) and a PEM private key and checks they match
  // (mbedtls_pk_check_pair). Errc::invalid when either does not parse or they differ.
  static core::Result<std::shared_ptr<Credentials>> from_pem(std::string_view cert_pem,
                                                             std::string_view key_pem);

  // Validates the pair like from_pem(), then replaces <data_dir>/tls/{cert,key}.pem:
  // each written to "<name>.new" and fsynced, then key renamed over key.pem, then
  // cert over cert.pem. load_or_create() finishes or undoes an install cut short
  // by a crash, so a matching pair is always found. Running ServerConfigs keep the
  // pair they were built with; the new one serves from the next ServerConfig.
  // On a validation error the files are untouched.
  static core::Result<void> install(const std::string& data_dir, std::string_view cert_pem,
                                    std::string_view key_pem);

  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  mbedtls_x509_crt* certificate() noexcept { return &certificate_; }
  mbedtls_pk_context* key() noexcept { return &key_; }
  // True when load_or_create() generated the pair during this call.
  bool created() const noexcept { return created_; }

 private:
  Credentials();
  mbedtls_x509_crt certificate_;
  mbedtls_pk_context key_;
  bool created_ = false;
};

}  // namespace postern::tls
