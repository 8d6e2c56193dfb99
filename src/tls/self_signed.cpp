// Generating the self-signed key and certificate with mbedtls_x509write.
#include "tls/self_signed.h"

#include <arpa/inet.h>

#include <cstdio>

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tls/error.h"

namespace postern::tls {
namespace {

using core::Errc;
using core::make_error;

// RFC 5280 §4.1.2.5: "YYYYMMDDhhmmss" as mbedtls_x509write_crt_set_validity wants. Calendar
// arithmetic in std::chrono, so no 32-bit time_t overflows for dates past 2038.
std::string x509_time(core::TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day date(day);
  const hh_mm_ss<seconds> time(floor<seconds>(t - day));
  char text[64];
  std::snprintf(text, sizeof text, "%04d%02u%02u%02d%02d%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

// RFC 5280 §4.2.1.6: SubjectAltName ::= SEQUENCE OF GeneralName, with dNSName [2] IA5String
// and iPAddress [7] OCTET STRING (4 octets for IPv4, 16 for IPv6), DER written back to front.
core::Result<void> set_subject_alt_names(mbedtls_x509write_cert* crt, const Identity& identity) {
  struct Name {
    std::string bytes;
    int tag;
  };
  std::vector<Name> names{{identity.hostname, 2}};
  if (identity.hostname != "localhost") names.push_back({"localhost", 2});
  for (const std::string& address : identity.addresses) {
    unsigned char raw[16];
    std::size_t size = 0;
    if (::inet_pton(AF_INET, address.c_str(), raw) == 1) {
      size = 4;
    } else if (::inet_pton(AF_INET6, address.c_str(), raw) == 1) {
      size = 16;
    } else {
      return make_error(Errc::invalid, "certificate address");
    }
    Name name{std::string(reinterpret_cast<const char*>(raw), size), 7};
    bool seen = false;
    for (const Name& n : names) seen = seen || (n.tag == 7 && n.bytes == name.bytes);
    if (!seen) names.push_back(std::move(name));
  }
  std::vector<unsigned char> buf(64 + names.size() * 270);
  unsigned char* p = buf.data() + buf.size();
  std::size_t len = 0;
  auto add = [&](int rc) {
    if (rc < 0) return false;
    len += static_cast<std::size_t>(rc);
    return true;
  };
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    const std::size_t before = len;
    if (!add(mbedtls_asn1_write_raw_buffer(&p, buf.data(),
                                           reinterpret_cast<const unsigned char*>(it->bytes.data()),
                                           it->bytes.size())) ||
        !add(mbedtls_asn1_write_len(&p, buf.data(), len - before)) ||
        !add(mbedtls_asn1_write_tag(
            &p, buf.data(), static_cast<unsigned char>(MBEDTLS_ASN1_CONTEXT_SPECIFIC | it->tag)))) {
      return tls_error("write subjectAltName", MBEDTLS_ERR_ASN1_BUF_TOO_SMALL);
    }
  }
  if (!add(mbedtls_asn1_write_len(&p, buf.data(), len)) ||
      !add(mbedtls_asn1_write_tag(&p, buf.data(),
                                  MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))) {
    return tls_error("write subjectAltName", MBEDTLS_ERR_ASN1_BUF_TOO_SMALL);
  }
  int rc = mbedtls_x509write_crt_set_extension(
      crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p, len);
  if (rc != 0) return tls_error("set subjectAltName", rc);
  return {};
}

}  // namespace

PemPair::~PemPair() {
  mbedtls_platform_zeroize(key.data(), key.size());
}

bool valid_hostname(std::string_view host) {
  // Anything else could smuggle extra attributes into "CN=<hostname>".
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

core::Result<void> generate_self_signed(const Identity& identity, core::TimePoint now,
                                        Random& random, PemPair& out) {
  if (!valid_hostname(identity.hostname)) return make_error(Errc::invalid, "tls hostname");
  struct Contexts {  // RAII for the generation-only contexts (STYLE trap 3)
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    Contexts() {
      mbedtls_pk_init(&key);
      mbedtls_x509write_crt_init(&crt);
      mbedtls_mpi_init(&serial);
    }
    ~Contexts() {
      mbedtls_mpi_free(&serial);
      mbedtls_x509write_crt_free(&crt);
      mbedtls_pk_free(&key);
    }
  } c;
  int rc = mbedtls_pk_setup(&c.key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0) {
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(c.key), &Random::generate,
                             random.context());
  }
  if (rc != 0) return tls_error("generate P-256 key", rc);

  // RFC 5280 §4.1.2.2: positive, at most 20 octets; random so a replaced
  // certificate never repeats an (issuer, serial) pair.
  unsigned char serial[16];
  rc = Random::generate(random.context(), serial, sizeof serial);
  if (rc != 0) return tls_error("random serial", rc);
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);
  rc = mbedtls_mpi_read_binary(&c.serial, serial, sizeof serial);
  if (rc != 0) return tls_error("serial", rc);

  const core::TimePoint from = std::chrono::floor<std::chrono::seconds>(now) - kBackdate;
  const core::TimePoint until = from + kMaxValidity;
  const std::string subject = "CN=" + identity.hostname;
  mbedtls_x509write_crt_set_version(&c.crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&c.crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&c.crt, &c.key);
  mbedtls_x509write_crt_set_issuer_key(&c.crt, &c.key);
  if ((rc = mbedtls_x509write_crt_set_subject_name(&c.crt, subject.c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_issuer_name(&c.crt, subject.c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_serial(&c.crt, &c.serial)) != 0 ||
      (rc = mbedtls_x509write_crt_set_validity(&c.crt, x509_time(from).c_str(),
                                               x509_time(until).c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_basic_constraints(&c.crt, 0, -1)) != 0 ||
      (rc = mbedtls_x509write_crt_set_key_usage(&c.crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
      (rc = mbedtls_x509write_crt_set_subject_key_identifier(&c.crt)) != 0 ||
      (rc = mbedtls_x509write_crt_set_authority_key_identifier(&c.crt)) != 0) {
    return tls_error("build certificate", rc);
  }
  if (auto san = set_subject_alt_names(&c.crt, identity); !san) return san.error();

  unsigned char pem[4096];
  rc = mbedtls_x509write_crt_pem(&c.crt, pem, sizeof pem, &Random::generate, random.context());
  if (rc != 0) return tls_error("sign certificate", rc);
  out.cert = reinterpret_cast<const char*>(pem);
  rc = mbedtls_pk_write_key_pem(&c.key, pem, sizeof pem);
  if (rc == 0) out.key = reinterpret_cast<const char*>(pem);
  mbedtls_platform_zeroize(pem, sizeof pem);
  if (rc != 0) return tls_error("write key", rc);
  return {};
}

}  // namespace postern::tls
