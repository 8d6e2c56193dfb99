// Server certificate checks for outgoing TLS: CA bundle + host name, or a pin.
#include "tls/peer_verifier.h"

#include <cctype>
#include <cstdio>

#include <mbedtls/sha256.h>

#include "tls/error.h"

namespace postern::tls {

PeerVerifier::PeerVerifier() {
  mbedtls_x509_crt_init(&ca_);
  mbedtls_ssl_config_init(&config_);
}

PeerVerifier::~PeerVerifier() {
  mbedtls_ssl_config_free(&config_);
  mbedtls_x509_crt_free(&ca_);
}

std::string PeerVerifier::normalize_pin(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out.size() == 64 ? out : std::string();
}

core::Result<std::unique_ptr<PeerVerifier>> PeerVerifier::create(const PeerCheck& check) {
  std::unique_ptr<PeerVerifier> v(new PeerVerifier());
  auto random = Random::create("postern collect client");
  if (!random) return random.error();
  v->random_ = std::move(*random);
  mbedtls_ssl_config* c = &v->config_;
  int rc = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return tls_error("ssl_config_defaults", rc);
  mbedtls_ssl_conf_rng(c, &Random::generate, v->random_->context());
  mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  // A bundle with a few unparsable entries still loads the rest (rc > 0).
  rc = mbedtls_x509_crt_parse_file(&v->ca_, check.ca_file.c_str());
  if (!check.pin.empty()) {
    v->pin_ = normalize_pin(check.pin);
    if (v->pin_.empty()) return core::make_error(core::Errc::invalid, "pin");
  } else if (rc < 0 || v->ca_.version == 0) {
    return core::make_error(core::Errc::not_found, "ca-file", rc);
  }
  // Always a chain, even an empty one: mbedTLS refuses to verify without one
  // (MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED); with a pin, on_verify decides.
  mbedtls_ssl_conf_ca_chain(c, &v->ca_, nullptr);
  mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_verify(c, &PeerVerifier::on_verify, v.get());
  return v;
}

int PeerVerifier::on_verify(void* p, mbedtls_x509_crt* crt, int depth,
                            std::uint32_t* flags) noexcept {
  auto* self = static_cast<PeerVerifier*>(p);
  if (depth == 0) {
    unsigned char digest[32];
    mbedtls_sha256_ret(crt->raw.p, crt->raw.len, digest, 0);
    self->seen_.clear();
    char hex[3];
    for (unsigned char b : digest) {
      std::snprintf(hex, sizeof hex, "%02x", b);
      self->seen_ += hex;
    }
  }
  if (!self->pin_.empty()) {
    // Pinned: the chain and the name do not matter, only the leaf's identity.
    // Flags of the upper levels are cleared; the leaf decides.
    if (depth > 0 || self->seen_ == self->pin_) {
      *flags = 0;
    } else {
      self->problem_ = "pin mismatch";
      *flags |= MBEDTLS_X509_BADCERT_OTHER;  // even a CA-valid certificate is refused
    }
    return 0;
  }
  if (*flags != 0 && depth == 0) {
    char text[256];
    const int n = mbedtls_x509_crt_verify_info(text, sizeof text, "", *flags);
    self->problem_ = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : "not trusted";
    while (!self->problem_.empty() && (self->problem_.back() == '\n')) self->problem_.pop_back();
    for (char& ch : self->problem_)
      if (ch == '\n') ch = ';';
  }
  return 0;
}

}  // namespace postern::tls
