// AES-256-GCM sealing (mbedTLS) and the key file.
#include "store/sealed.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <mbedtls/gcm.h>

namespace postern::store {
namespace {

constexpr unsigned char kVersion = 1;
constexpr std::size_t kNonce = 12, kTag = 16;
// Additional data: a sealed value from another purpose does not open here.
constexpr std::string_view kContext = "postern collect password v1";

core::Result<void> random_bytes(unsigned char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return core::make_error(core::Errc::io, "getrandom", errno);
    }
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return {};
}

class Gcm {
 public:
  explicit Gcm(const SealKey& key) {
    mbedtls_gcm_init(&ctx_);
    rc_ = mbedtls_gcm_setkey(&ctx_, MBEDTLS_CIPHER_ID_AES, key.data(), 256);
  }
  ~Gcm() { mbedtls_gcm_free(&ctx_); }
  Gcm(const Gcm&) = delete;
  Gcm& operator=(const Gcm&) = delete;
  mbedtls_gcm_context* get() { return &ctx_; }
  int setup_error() const { return rc_; }

 private:
  mbedtls_gcm_context ctx_;
  int rc_ = 0;
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

core::Result<SealKey> load_or_create_seal_key(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kSealKeyFile;
  SealKey key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (auto r = random_bytes(key.data(), key.size()); !r) return r.error();
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return load_or_create_seal_key(data_dir);  // lost a race
    if (fd < 0) return core::make_error(core::Errc::io, "seal-key-create", errno);
    const bool ok =
        ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
      ::unlink(path.c_str());
      return core::make_error(core::Errc::io, "seal-key-write", saved);
    }
    return key;
  }
  if (fd < 0) return core::make_error(core::Errc::io, "seal-key-open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    return core::make_error(core::Errc::io, "seal-key-stat", saved);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return core::make_error(core::Errc::denied, "seal-key-mode");
  }
  const ssize_t n = ::read(fd, key.data(), key.size());
  unsigned char extra;
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || more != 0)
    return core::make_error(core::Errc::corrupt, "seal-key-size");
  return key;
}

core::Result<std::string> seal(const SealKey& key, std::string_view plaintext) {
  Gcm gcm(key);
  if (gcm.setup_error() != 0)
    return core::make_error(core::Errc::tls, "seal-key", gcm.setup_error());
  std::string out(1 + kNonce + plaintext.size() + kTag, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kVersion;
  if (auto r = random_bytes(p + 1, kNonce); !r) return r.error();
  const int rc = mbedtls_gcm_crypt_and_tag(
      gcm.get(), MBEDTLS_GCM_ENCRYPT, plaintext.size(), p + 1, kNonce, bytes(kContext),
      kContext.size(), bytes(plaintext), p + 1 + kNonce, kTag, p + 1 + kNonce + plaintext.size());
  if (rc != 0) return core::make_error(core::Errc::tls, "seal", rc);
  return out;
}

core::Result<std::string> unseal(const SealKey& key, std::string_view sealed) {
  if (sealed.size() < 1 + kNonce + kTag || static_cast<unsigned char>(sealed[0]) != kVersion)
    return core::make_error(core::Errc::corrupt, "unseal-format");
  Gcm gcm(key);
  if (gcm.setup_error() != 0)
    return core::make_error(core::Errc::tls, "seal-key", gcm.setup_error());
  const std::size_t n = sealed.size() - 1 - kNonce - kTag;
  std::string out(n, '\0');
  const auto* p = bytes(sealed);
  const int rc = mbedtls_gcm_auth_decrypt(gcm.get(), n, p + 1, kNonce, bytes(kContext),
                                          kContext.size(), p + 1 + kNonce + n, kTag, p + 1 + kNonce,
                                          reinterpret_cast<unsigned char*>(out.data()));
  if (rc != 0) return core::make_error(core::Errc::denied, "unseal", rc);
  return out;
}

}  // namespace postern::store
