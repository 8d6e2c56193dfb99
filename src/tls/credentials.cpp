// Loading, creating and replacing the TLS key and certificate files.
#include "tls/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "core/fd.h"
#include "tls/error.h"

namespace postern::tls {
namespace {

using core::Errc;
using core::make_error;

struct Paths {
  std::string dir, cert, key, cert_new, key_new, marker, marker_new;
  explicit Paths(const std::string& data_dir)
      : dir(data_dir + "/tls"),
        cert(dir + "/cert.pem"),
        key(dir + "/key.pem"),
        cert_new(cert + ".new"),
        key_new(key + ".new"),
        marker(dir + "/self-signed"),
        marker_new(marker + ".new") {}
};

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

core::Result<std::string> read_file(const std::string& path) {
  auto fd = core::open_fd(path, O_RDONLY, "open tls file");
  if (!fd) return fd.error();
  auto data = core::read_to_end(fd->get(), 1u << 20, "read tls file");  // a chain is a few KiB
  if (!data && data.error().code == Errc::invalid)
    return make_error(Errc::invalid, "tls file too large");
  return data;
}

// Writes and fsyncs a whole file; `mode` applies even when the file existed.
core::Result<void> write_synced(const std::string& path, std::string_view data, mode_t mode) {
  auto fd = core::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, "create tls file", mode);
  if (!fd) return fd.error();
  if (::fchmod(fd->get(), mode) != 0) return make_error(Errc::io, "chmod tls file", errno);
  if (auto r = core::write_all(fd->get(), data, "write tls file"); !r) return r;
  return core::sync_fd(fd->get(), "fsync tls file");
}

// The hex SHA-256 of a certificate's DER: its line in tls/self-signed.
std::string fingerprint(const mbedtls_x509_crt& crt) {
  unsigned char digest[32];
  mbedtls_sha256_ret(crt.raw.p, crt.raw.len, digest, 0);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

bool listed(const std::string& marker_text, const std::string& line) {
  std::string_view rest = marker_text;
  while (!rest.empty()) {
    const std::size_t eol = rest.find('\n');
    if (rest.substr(0, eol) == line) return true;
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
  }
  return false;
}

// Replaces tls/self-signed with `text` (written to .new, fsynced, renamed).
core::Result<void> write_marker(const Paths& paths, const std::string& text) {
  if (auto r = write_synced(paths.marker_new, text, 0644); !r) return r;
  if (::rename(paths.marker_new.c_str(), paths.marker.c_str()) != 0) {
    return make_error(Errc::io, "rename self-signed marker", errno);
  }
  return core::sync_dir(paths.dir, "fsync tls dir");
}

// Generates a pair and installs it as postern's own. Its fingerprint is added to the marker
// before the files change and the older ones dropped after: a crash at any point leaves
// whichever cert.pem is in place listed if postern made it.
core::Result<void> make_self_signed(const std::string& data_dir, const Identity& identity,
                                    core::TimePoint now, Random& random) {
  PemPair fresh;
  if (auto r = generate_self_signed(identity, now, random, fresh); !r) return r.error();
  auto parsed = Credentials::from_pem(fresh.cert, fresh.key);
  if (!parsed) return parsed.error();
  const std::string line = fingerprint(*(*parsed)->certificate()) + "\n";
  const Paths paths(data_dir);
  auto old = read_file(paths.marker);
  if (!old && old.error().code != Errc::not_found) return old.error();
  if (auto r = write_marker(paths, (old ? *old : std::string()) + line); !r) return r;
  if (auto r = Credentials::install(data_dir, fresh.cert, fresh.key); !r) return r;
  return write_marker(paths, line);
}

bool is_self_made(const Paths& paths, const Credentials& pair) {
  auto marker = read_file(paths.marker);
  return marker && listed(*marker, fingerprint(*pair.certificate()));
}

// Reads and checks the pair on disk.
core::Result<std::shared_ptr<Credentials>> read_pair(const Paths& paths) {
  auto cert = read_file(paths.cert);
  if (!cert) return cert.error();
  auto key = read_file(paths.key);
  if (!key) return key.error();
  auto pair = Credentials::from_pem(*cert, *key);
  mbedtls_platform_zeroize(key->data(), key->size());
  return pair;
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
  return core::sync_dir(paths.dir, "fsync tls dir");
}

core::Result<std::shared_ptr<Credentials>> Credentials::load_or_create(const std::string& data_dir,
                                                                       const Identity& identity,
                                                                       const core::Clock& clock,
                                                                       Random& random) {
  if (!valid_hostname(identity.hostname)) return make_error(Errc::invalid, "tls hostname");
  const Paths paths(data_dir);
  if (::mkdir(paths.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(Errc::io, "mkdir tls", errno);
  }
  if (auto r = recover(paths); !r) return r.error();
  const core::TimePoint now = clock.now();
  bool created = false;
  if (!exists(paths.cert) && !exists(paths.key)) {
    if (auto r = make_self_signed(data_dir, identity, now, random); !r) return r.error();
    created = true;
  }
  auto pair = load(data_dir);
  if (!pair) return pair.error();
  Renewal reason = renewal_needed(**pair, identity, now, /*check_names=*/true);
  if (reason != Renewal::none && now >= (*pair)->not_before()) {
    auto renewed = renew(data_dir, identity, now, random);
    if (!renewed) return renewed.error();
    pair = std::move(renewed);
    (*pair)->renewed_ = reason;
    created = true;
  }
  (*pair)->created_ = created;
  return pair;
}

core::Result<std::shared_ptr<Credentials>> Credentials::renew(const std::string& data_dir,
                                                              const Identity& identity,
                                                              core::TimePoint now, Random& random) {
  if (auto r = make_self_signed(data_dir, identity, now, random); !r) return r.error();
  auto pair = load(data_dir);
  if (!pair) return pair.error();
  (*pair)->created_ = true;
  return pair;
}

core::Result<std::shared_ptr<Credentials>> Credentials::load(const std::string& data_dir) {
  const Paths paths(data_dir);
  auto pair = read_pair(paths);
  if (!pair) return pair.error();
  (*pair)->self_made_ = is_self_made(paths, **pair);
  return pair;
}

}  // namespace postern::tls
