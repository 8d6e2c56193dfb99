// The server's TLS identity: tls/key.pem + tls/cert.pem in the data folder, created
// self-signed on first start and renewed by postern, or installed by the owner.
//
// Self-made or the owner's: tls/self-signed lists the SHA-256 of every certificate postern
// generated (one hex line each). A cert.pem whose DER hash is listed is postern's own and is
// renewed; any other (installed from the page, or files copied in by hand) is the owner's
// and never touched.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "core/clock.h"
#include "core/result.h"
#include "tls/random.h"
#include "tls/self_signed.h"

namespace postern::tls {

// Why a self-made certificate is replaced (tls/renewal.h decides).
enum class Renewal {
  none,
  expiring,       // less than kRenewBefore left (or already expired)
  too_long,       // lives longer than kMaxValidity (made by an older postern)
  names_missing,  // the hostname, "localhost" or a listening address is not in it
};
const char* to_string(Renewal reason) noexcept;

// A parsed certificate chain and its private key, checked to match.
//
// Non-copyable and non-movable: a ServerConfig points into both contexts
// (mbedtls_ssl_conf_own_cert), so it holds a shared_ptr to keep them alive.
// Immutable after loading; install() and renew() change the files, not this object.
class Credentials {
 public:
  // Loads <data_dir>/tls/{cert,key}.pem. When neither exists, generates a self-signed pair
  // (tls/self_signed.h; key mode 0600). When the loaded pair is self-made and renewal_needed()
  // with the names check says so, generates a new one in its place; not while clock.now() is
  // before the certificate's notBefore (a router booted without its time yet).
  // Public-key work: call at start-up, before the loop runs.
  // Errors: Errc::invalid (bad hostname or address, mismatched pair), Errc::io, Errc::tls.
  static core::Result<std::shared_ptr<Credentials>> load_or_create(const std::string& data_dir,
                                                                   const Identity& identity,
                                                                   const core::Clock& clock,
                                                                   Random& random);
  static core::Result<std::shared_ptr<Credentials>> load_or_create(const std::string& data_dir,
                                                                   const std::string& hostname,
                                                                   const core::Clock& clock,
                                                                   Random& random) {
    return load_or_create(data_dir, Identity{hostname, {}}, clock, random);
  }

  // Reads and checks the pair on disk as it is now (no creation, no recovery, no renewal).
  static core::Result<std::shared_ptr<Credentials>> load(const std::string& data_dir);

  // Generates a new self-signed pair, installs it and returns it loaded. Public-key work and
  // fsyncs: run it on the thread pool. Callers check renewal_needed() first.
  static core::Result<std::shared_ptr<Credentials>> renew(const std::string& data_dir,
                                                          const Identity& identity,
                                                          core::TimePoint now, Random& random);

  // Parses a PEM certificate (chain) and a PEM private key and checks they match
  // (mbedtls_pk_check_pair). Errc::invalid when either does not parse or they differ.
  static core::Result<std::shared_ptr<Credentials>> from_pem(std::string_view cert_pem,
                                                             std::string_view key_pem);

  // Validates the pair like from_pem(), then replaces <data_dir>/tls/{cert,key}.pem:
  // each written to "<name>.new" and fsynced, then key renamed over key.pem, then
  // cert over cert.pem. load_or_create() finishes or undoes an install cut short
  // by a crash, so a matching pair is always found. Running ServerConfigs keep the
  // pair they were built with; the new one serves from the next ServerConfig.
  // On a validation error the files are untouched. The owner's way in: the pair installed
  // is never renewed by postern.
  static core::Result<void> install(const std::string& data_dir, std::string_view cert_pem,
                                    std::string_view key_pem);

  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  mbedtls_x509_crt* certificate() noexcept { return &certificate_; }
  const mbedtls_x509_crt* certificate() const noexcept { return &certificate_; }
  mbedtls_pk_context* key() noexcept { return &key_; }
  // True when load_or_create() generated the pair during this call (first start or renewal).
  bool created() const noexcept { return created_; }
  // Why load_or_create() replaced an existing self-made pair; Renewal::none otherwise.
  Renewal renewed() const noexcept { return renewed_; }
  // postern generated this certificate (listed in tls/self-signed); false: the owner's.
  bool self_made() const noexcept { return self_made_; }
  // The leaf certificate's validity (RFC 5280 §4.1.2.5), as UTC time points.
  core::TimePoint not_before() const noexcept;
  core::TimePoint not_after() const noexcept;
  // The leaf's subjectAltName entries: dNSName values, and iPAddress values in text form.
  std::vector<std::string> dns_names() const;
  std::vector<std::string> ip_addresses() const;

 private:
  Credentials();
  mbedtls_x509_crt certificate_;
  mbedtls_pk_context key_;
  bool created_ = false;
  bool self_made_ = false;
  Renewal renewed_ = Renewal::none;
};

// None for the owner's certificates. Otherwise: expiring when now >= notAfter - kRenewBefore,
// too_long past kMaxValidity, and, when `check_names` (at start: the hostname or the
// addresses may have changed), names_missing when any name of `identity` is not in the SANs.
Renewal renewal_needed(const Credentials& credentials, const Identity& identity,
                       core::TimePoint now, bool check_names);

}  // namespace postern::tls
