// A verified-credential cache for password logins, like Dovecot's auth cache: a login that
// passed the PBKDF2 check recently is answered again without running PBKDF2.
//
// What is kept per mailbox is an HMAC-SHA256, under a key drawn at random for this process,
// of (mailbox, password, stored password record), and when it was made: never the password.
// Because the stored record (scheme, iterations, salt, hash) is inside the MAC, a password
// changed or a user removed by the CLI in another process misses automatically: the caller
// reads the record afresh from the store on every login and the MAC no longer matches.
//
// Typical use by any caller of store::verify_password (POP3 PASS/AUTH, the page's mailbox
// login), on one thread at a time or several (it locks):
//   record = find_user(...)                          // unknown user: full PBKDF2 vs a dummy
//   if (cache.verified(address, password, record.password_hash, now)) -> accept, no PBKDF2
//   else ok = verify_password(...) on the thread pool, then on the loop:
//        ok ? cache.remember(address, password, record.password_hash, now)
//           : cache.forget(address);                 // any failed attempt drops the entry
// The caller's failure throttle is unchanged: a hit is a success like any other.
#pragma once

#include <array>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/result.h"

namespace postern::store {

struct CredentialCacheLimits {
  std::size_t max_entries = 256;  // 0: nothing is cached
  core::Seconds ttl{3600};        // age limit since the full check; 0: nothing is cached
};

class CredentialCache {
 public:
  using Key = std::array<unsigned char, 32>;

  // A fresh random key from getrandom(2). Errc::io when the kernel gives none.
  static core::Result<std::unique_ptr<CredentialCache>> create(CredentialCacheLimits limits);
  // Tests: a given key.
  CredentialCache(CredentialCacheLimits limits, const Key& key);
  ~CredentialCache();  // wipes the key and the MACs
  CredentialCache(const CredentialCache&) = delete;
  CredentialCache& operator=(const CredentialCache&) = delete;

  // True when remember() was called for exactly this (mailbox, password, stored_hash) less
  // than ttl before `now`, and no forget(mailbox) since. MACs are compared in constant time.
  // An expired entry is dropped. Never true for an empty stored_hash.
  bool verified(std::string_view mailbox, std::string_view password, std::string_view stored_hash,
                core::TimePoint now);

  // Records a successful full check. One entry per mailbox (the latest); the oldest entry
  // goes when max_entries is reached.
  void remember(std::string_view mailbox, std::string_view password, std::string_view stored_hash,
                core::TimePoint now);

  // Drops the entry of `mailbox` (a failed attempt, a password change seen by this process).
  void forget(std::string_view mailbox);

  // New bounds (SIGHUP); shrinking drops the oldest entries.
  void set_limits(CredentialCacheLimits limits);
  std::size_t size() const;

 private:
  using Mac = std::array<unsigned char, 32>;
  struct Entry {
    Mac mac;
    core::TimePoint at;
    std::list<std::string>::iterator order;  // position in order_
  };

  Mac mac(std::string_view mailbox, std::string_view password, std::string_view stored_hash) const;
  void erase(std::unordered_map<std::string, Entry>::iterator it);  // REQUIRES: mutex_ held
  void trim(std::size_t max_entries);                               // REQUIRES: mutex_ held

  mutable std::mutex mutex_;
  CredentialCacheLimits limits_;
  Key key_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // mailboxes, oldest remember() first
};

}  // namespace postern::store
