// Loading, creating and replacing the TLS key and certificate files.
#include "tls/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <utility>

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tls/error.h"

namespace postern::tls {
namespace {

using core::Errc;
using core::make_error;

struct Paths {
  std::string dir, cert, key, cert_new, key_new;
  explicit Paths(const std::string& data_dir)
      : dir(data_dir + "/tls"),
        cert(dir + "/cert.pem"),
        key(dir + "/key.pem"),
        cert_new(cert + ".new"),
        key_new(key + ".new") {}
};

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

core::Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io, "open tls file", errno);
  std::string data;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(Errc::io, "read tls file", err);
    }
    if (n == 0) break;
    data.append(chunk, static_cast<std::size_t>(n));
    if (data.size() > (1u << 20)) {  // a certificate chain is a few KiB
      ::close(fd);
      return make_error(Errc::invalid, "tls file too large");
    }
  }
  ::close(fd);
  return data;
}

// Writes and fsyncs a whole file; `mode` applies even when the file existed.
core::Result<void> write_synced(const std::string& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(Errc::io, "create tls file", errno);
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(Errc::io, "chmod tls file", err);
  }
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(err == ENOSPC ? Errc::full : Errc::io, "write tls file", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(Errc::io, "fsync tls file", err);
  }
  ::close(fd);
  return {};
}

core::Result<void> fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::io, "open tls dir", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(Errc::io, "fsync tls dir", err);
  return {};
}

// RFC 1123 §2.1 host names: letters, digits, hyphen, dot; at most 253 octets.
// Anything else could smuggle extra attributes into "CN=<hostname>".
bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// RFC 5280 §4.1.2.5: "YYYYMMDDhhmmss" as mbedtls_x509write_crt_set_validity wants.
std::string x509_time(const std::tm& t) {
  char text[64];  // room for any int, so no truncation warning; 14 used
  std::snprintf(text, sizeof text, "%04d%02d%02d%02d%02d%02d", t.tm_year + 1900, t.tm_mon + 1,
                t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
  return text;
}

// RFC 5280 §4.2.1.6: SubjectAltName ::= SEQUENCE OF GeneralName, dNSName [2] IA5String.
core::Result<void> set_subject_alt_names(mbedtls_x509write_cert* crt, const std::string& hostname) {
  unsigned char buf[600];
  unsigned char* p = buf + sizeof buf;
  std::size_t len = 0;
  auto add = [&](int rc) {
    if (rc < 0) return false;
    len += static_cast<std::size_t>(rc);
    return true;
  };
  const std::string names[2] = {"localhost", hostname};  // written back to front
  for (const std::string& name : names) {
    if (&name == &names[1] && name == "localhost") continue;
    std::size_t before = len;
    if (!add(mbedtls_asn1_write_raw_buffer(
            &p, buf, reinterpret_cast<const unsigned char*>(name.data()), name.size())) ||
        !add(mbedtls_asn1_write_len(&p, buf, len - before)) ||
        !add(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2))) {
      return tls_error("write subjectAltName", MBEDTLS_ERR_ASN1_BUF_TOO_SMALL);
    }
  }
  if (!add(mbedtls_asn1_write_len(&p, buf, len)) ||
      !add(mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))) {
    return tls_error("write subjectAltName", MBEDTLS_ERR_ASN1_BUF_TOO_SMALL);
  }
  int rc = mbedtls_x509write_crt_set_extension(
      crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p, len);
  if (rc != 0) return tls_error("set subjectAltName", rc);
  return {};
}

struct PemPair {
  std::string cert, key;
  ~PemPair() { mbedtls_platform_zeroize(key.data(), key.size()); }
};

// Generates a P-256 key and a self-signed certificate for `hostname`.
core::Result<void> generate(const std::string& hostname, const core::Clock& clock, Random& random,
                            PemPair& out) {
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

  std::time_t now = std::chrono::system_clock::to_time_t(clock.now());
  std::time_t earlier = now - 3600;  // tolerate a client clock slightly behind ours
  std::tm from{}, until{};
  gmtime_r(&earlier, &from);
  gmtime_r(&now, &until);
  until.tm_year += 10;  // field arithmetic: no 32-bit time_t overflow past 2038
  if (until.tm_mon == 1 && until.tm_mday == 29) until.tm_mday = 28;

  const std::string subject = "CN=" + hostname;
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
  if (auto san = set_subject_alt_names(&c.crt, hostname); !san) return san.error();

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

// Finishes or undoes an install() cut short (see credentials.h).
core::Result<void> recover(const Paths& paths) {
  if (exists(paths.key_new)) {  // crashed before the first rename: the old pair is intact
    ::unlink(paths.key_new.c_str());
    ::unlink(paths.cert_new.c_str());
  } else if (exists(paths.cert_new)) {  // key already renamed: roll the cert forward
    if (::rename(paths.cert_new.c_str(), paths.cert.c_str()) != 0) {
      return make_error(Errc::io, "rename cert.pem.new", errno);
    }
  }
  return {};
}

}  // namespace

Credentials::Credentials() {
  mbedtls_x509_crt_init(&certificate_);
  mbedtls_pk_init(&key_);
}

Credentials::~Credentials() {
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&certificate_);
}

core::Result<std::shared_ptr<Credentials>> Credentials::from_pem(std::string_view cert_pem,
                                                                 std::string_view key_pem) {
  std::shared_ptr<Credentials> pair(new Credentials());
  // PEM parsing wants the terminating NUL counted in the length.
  std::string cert(cert_pem), key(key_pem);
  int rc = mbedtls_x509_crt_parse(
      &pair->certificate_, reinterpret_cast<const unsigned char*>(cert.c_str()), cert.size() + 1);
  if (rc != 0) return make_error(Errc::invalid, "parse certificate", rc);
  rc = mbedtls_pk_parse_key(&pair->key_, reinterpret_cast<const unsigned char*>(key.c_str()),
                            key.size() + 1, nullptr, 0);
  mbedtls_platform_zeroize(key.data(), key.size());
  if (rc != 0) return make_error(Errc::invalid, "parse private key", rc);
  rc = mbedtls_pk_check_pair(&pair->certificate_.pk, &pair->key_);
  if (rc != 0) return make_error(Errc::invalid, "certificate does not match key", rc);
  return pair;
}

core::Result<void> Credentials::install(const std::string& data_dir, std::string_view cert_pem,
                                        std::string_view key_pem) {
  if (auto checked = from_pem(cert_pem, key_pem); !checked) return checked.error();
  Paths paths(data_dir);
  if (::mkdir(paths.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(Errc::io, "mkdir tls", errno);
  }
  if (auto r = write_synced(paths.key_new, key_pem, 0600); !r) return r;
  if (auto r = write_synced(paths.cert_new, cert_pem, 0644); !r) return r;
  if (::rename(paths.key_new.c_str(), paths.key.c_str()) != 0) {
    return make_error(Errc::io, "rename key.pem.new", errno);
  }
  if (::rename(paths.cert_new.c_str(), paths.cert.c_str()) != 0) {
    return make_error(Errc::io, "rename cert.pem.new", errno);
  }
  return fsync_dir(paths.dir);
}

core::Result<std::shared_ptr<Credentials>> Credentials::load_or_create(const std::string& data_dir,
                                                                       const std::string& hostname,
                                                                       const core::Clock& clock,
                                                                       Random& random) {
  if (!valid_hostname(hostname)) return make_error(Errc::invalid, "tls hostname");
  Paths paths(data_dir);
  if (::mkdir(paths.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(Errc::io, "mkdir tls", errno);
  }
  if (auto r = recover(paths); !r) return r.error();
  bool created = false;
  if (!exists(paths.cert) && !exists(paths.key)) {
    PemPair fresh;
    if (auto r = generate(hostname, clock, random, fresh); !r) return r.error();
    if (auto r = install(data_dir, fresh.cert, fresh.key); !r) return r.error();
    created = true;
  }
  auto cert = read_file(paths.cert);
  if (!cert) return cert.error();
  auto key = read_file(paths.key);
  if (!key) return key.error();
  auto pair = from_pem(*cert, *key);
  mbedtls_platform_zeroize(key->data(), key->size());
  if (!pair) return pair.error();
  (*pair)->created_ = created;
  return pair;
}

}  // namespace postern::tls
