// The verified-credential cache: HMAC-SHA256 entries bounded in number and age.
#include "store/credential_cache.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <iterator>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

namespace postern::store {
namespace {

// Each field length-prefixed, so ("ab", "c") and ("a", "bc") never share an input.
void update_field(mbedtls_md_context_t* md, std::string_view field) {
  const std::uint32_t n = static_cast<std::uint32_t>(field.size());
  const unsigned char length[4] = {
      static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
      static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  mbedtls_md_hmac_update(md, length, sizeof length);
  mbedtls_md_hmac_update(md, reinterpret_cast<const unsigned char*>(field.data()), field.size());
}

// Reads every byte whatever the contents: the time taken says nothing about where two MACs
// differ.
bool equal_constant_time(const unsigned char* a, const unsigned char* b, std::size_t n) {
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff = static_cast<unsigned char>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

}  // namespace

core::Result<std::unique_ptr<CredentialCache>> CredentialCache::create(
    CredentialCacheLimits limits) {
  Key key;
  std::size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return core::make_error(core::Errc::io, "getrandom credential cache key", errno);
    got += static_cast<std::size_t>(n);
  }
  auto cache = std::make_unique<CredentialCache>(limits, key);
  mbedtls_platform_zeroize(key.data(), key.size());
  return cache;
}

CredentialCache::CredentialCache(CredentialCacheLimits limits, const Key& key)
    : limits_(limits), key_(key) {}

CredentialCache::~CredentialCache() {
  mbedtls_platform_zeroize(key_.data(), key_.size());
  for (auto& [mailbox, entry] : entries_) {
    mbedtls_platform_zeroize(entry.mac.data(), entry.mac.size());
  }
}

CredentialCache::Mac CredentialCache::mac(std::string_view mailbox, std::string_view password,
                                          std::string_view stored_hash) const {
  Mac out{};
  mbedtls_md_context_t md;
  mbedtls_md_init(&md);
  if (mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) == 0 &&
      mbedtls_md_hmac_starts(&md, key_.data(), key_.size()) == 0) {
    update_field(&md, mailbox);
    update_field(&md, password);
    update_field(&md, stored_hash);
    mbedtls_md_hmac_finish(&md, out.data());
  }
  mbedtls_md_free(&md);
  return out;
}

bool CredentialCache::verified(std::string_view mailbox, std::string_view password,
                               std::string_view stored_hash, core::TimePoint now) {
  if (stored_hash.empty()) return false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (limits_.max_entries == 0 || limits_.ttl.count() == 0 || entries_.empty()) return false;
    auto it = entries_.find(std::string(mailbox));
    if (it == entries_.end()) return false;
    // A clock stepped back counts as expired too: the entry's age is unknown.
    if (now < it->second.at || now - it->second.at >= limits_.ttl) {
      erase(it);
      return false;
    }
  }
  // The HMAC runs outside the lock; the entry is looked up again to compare.
  const Mac candidate = mac(mailbox, password, stored_hash);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(std::string(mailbox));
  if (it == entries_.end()) return false;
  return equal_constant_time(candidate.data(), it->second.mac.data(), candidate.size());
}

void CredentialCache::remember(std::string_view mailbox, std::string_view password,
                               std::string_view stored_hash, core::TimePoint now) {
  if (stored_hash.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (limits_.max_entries == 0 || limits_.ttl.count() == 0) return;
  }
  const Mac value = mac(mailbox, password, stored_hash);
  std::lock_guard<std::mutex> lock(mutex_);
  if (limits_.max_entries == 0 || limits_.ttl.count() == 0) return;  // set_limits() meanwhile
  std::string name(mailbox);
  if (auto it = entries_.find(name); it != entries_.end()) erase(it);
  trim(limits_.max_entries - 1);
  order_.push_back(name);
  entries_.emplace(std::move(name), Entry{value, now, std::prev(order_.end())});
}

void CredentialCache::forget(std::string_view mailbox) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = entries_.find(std::string(mailbox)); it != entries_.end()) erase(it);
}

void CredentialCache::set_limits(CredentialCacheLimits limits) {
  std::lock_guard<std::mutex> lock(mutex_);
  limits_ = limits;
  trim(limits_.ttl.count() == 0 ? 0 : limits_.max_entries);
}

std::size_t CredentialCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void CredentialCache::erase(std::unordered_map<std::string, Entry>::iterator it) {
  mbedtls_platform_zeroize(it->second.mac.data(), it->second.mac.size());
  order_.erase(it->second.order);
  entries_.erase(it);
}

void CredentialCache::trim(std::size_t max_entries) {
  while (entries_.size() > max_entries) erase(entries_.find(order_.front()));
}

}  // namespace postern::store
