// The verified-credential cache: hits, misses on any changed input, age and size bounds.
#include "store/credential_cache.h"

#include <doctest/doctest.h>

#include <string>

#include "store/password.h"

namespace {

using namespace std::chrono_literals;
using postern::core::ManualClock;
using postern::store::CredentialCache;
using postern::store::CredentialCacheLimits;

CredentialCache::Key key_of(unsigned char fill) {
  CredentialCache::Key key;
  key.fill(fill);
  return key;
}

const std::string kRecord = "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$AAAA";

}  // namespace

TEST_CASE("a remembered login is verified; a different password, mailbox or record is not") {
  ManualClock clock;
  CredentialCache cache({256, 3600s}, key_of(7));
  CHECK_FALSE(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
  cache.remember("bob@example.org", "pw", kRecord, clock.now());
  CHECK(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
  CHECK_FALSE(cache.verified("bob@example.org", "pW", kRecord, clock.now()));
  CHECK_FALSE(cache.verified("bob@example.org", "pw ", kRecord, clock.now()));
  CHECK_FALSE(cache.verified("bob@example.org", "", kRecord, clock.now()));
  CHECK_FALSE(cache.verified("alice@example.org", "pw", kRecord, clock.now()));
  // The record changed (another process ran `postern user passwd`): a miss.
  CHECK_FALSE(cache.verified("bob@example.org", "pw", kRecord + "A", clock.now()));
  CHECK_FALSE(cache.verified("bob@example.org", "pw", "", clock.now()));
  // Misses on other inputs leave the entry in place.
  CHECK(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
}

TEST_CASE("a real password change invalidates the entry through the stored record") {
  ManualClock clock;
  CredentialCache cache({256, 3600s}, key_of(1));
  const std::string before = postern::store::hash_password("secret", 1000);
  const std::string after =
      postern::store::hash_password("secret", 1000);  // same password, new salt
  cache.remember("bob@example.org", "secret", before, clock.now());
  CHECK(cache.verified("bob@example.org", "secret", before, clock.now()));
  CHECK_FALSE(cache.verified("bob@example.org", "secret", after, clock.now()));
}

TEST_CASE("field boundaries are part of the MAC") {
  ManualClock clock;
  CredentialCache cache({256, 3600s}, key_of(2));
  cache.remember("ab", "c", kRecord, clock.now());
  CHECK_FALSE(cache.verified("ab", "", "c" + kRecord, clock.now()));
  cache.remember("a", "bc", kRecord, clock.now());
  CHECK(cache.verified("a", "bc", kRecord, clock.now()));
  CHECK(cache.verified("ab", "c", kRecord, clock.now()));
}

TEST_CASE("the key is per cache: another process's entries mean nothing here") {
  ManualClock clock;
  CredentialCache one({256, 3600s}, key_of(3));
  CredentialCache two({256, 3600s}, key_of(4));
  one.remember("bob@example.org", "pw", kRecord, clock.now());
  two.remember("bob@example.org", "other", kRecord, clock.now());
  CHECK(one.verified("bob@example.org", "pw", kRecord, clock.now()));
  CHECK_FALSE(two.verified("bob@example.org", "pw", kRecord, clock.now()));
  auto random = CredentialCache::create({4, 60s});
  REQUIRE(random.has_value());
  (*random)->remember("bob@example.org", "pw", kRecord, clock.now());
  CHECK((*random)->verified("bob@example.org", "pw", kRecord, clock.now()));
}

TEST_CASE("an entry expires ttl after the full check, and a hit does not extend it") {
  ManualClock clock;
  CredentialCache cache({256, 60s}, key_of(5));
  cache.remember("bob@example.org", "pw", kRecord, clock.now());
  clock.advance(59s);
  CHECK(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
  clock.advance(1s);
  CHECK_FALSE(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
  CHECK(cache.size() == 0);
  // A clock stepped back makes the age unknown: a miss.
  cache.remember("bob@example.org", "pw", kRecord, clock.now());
  CHECK_FALSE(cache.verified("bob@example.org", "pw", kRecord, clock.now() - 1s));
}

TEST_CASE("forget drops the entry: a failed attempt for that mailbox") {
  ManualClock clock;
  CredentialCache cache({256, 3600s}, key_of(6));
  cache.remember("bob@example.org", "pw", kRecord, clock.now());
  cache.remember("eve@example.org", "pw", kRecord, clock.now());
  cache.forget("bob@example.org");
  cache.forget("nobody@example.org");
  CHECK_FALSE(cache.verified("bob@example.org", "pw", kRecord, clock.now()));
  CHECK(cache.verified("eve@example.org", "pw", kRecord, clock.now()));
  CHECK(cache.size() == 1);
}

TEST_CASE("the number of entries is bounded; the oldest check goes first") {
  ManualClock clock;
  CredentialCache cache({3, 3600s}, key_of(8));
  for (int i = 1; i <= 4; ++i) {
    cache.remember("u" + std::to_string(i), "pw", kRecord, clock.now());
    clock.advance(1s);
  }
  CHECK(cache.size() == 3);
  CHECK_FALSE(cache.verified("u1", "pw", kRecord, clock.now()));
  CHECK(cache.verified("u2", "pw", kRecord, clock.now()));
  // Remembering u2 again makes it the newest: u3 is now the oldest.
  cache.remember("u2", "pw", kRecord, clock.now());
  cache.remember("u5", "pw", kRecord, clock.now());
  CHECK_FALSE(cache.verified("u3", "pw", kRecord, clock.now()));
  CHECK(cache.verified("u2", "pw", kRecord, clock.now()));
  CHECK(cache.verified("u4", "pw", kRecord, clock.now()));
  CHECK(cache.verified("u5", "pw", kRecord, clock.now()));

  cache.set_limits({1, 3600s});
  CHECK(cache.size() == 1);
  CHECK(cache.verified("u5", "pw", kRecord, clock.now()));
}

TEST_CASE("zero entries or zero ttl turns the cache off") {
  ManualClock clock;
  CredentialCache off({0, 3600s}, key_of(9));
  off.remember("bob@example.org", "pw", kRecord, clock.now());
  CHECK_FALSE(off.verified("bob@example.org", "pw", kRecord, clock.now()));
  CHECK(off.size() == 0);
  CredentialCache no_age({16, 0s}, key_of(9));
  no_age.remember("bob@example.org", "pw", kRecord, clock.now());
  CHECK_FALSE(no_age.verified("bob@example.org", "pw", kRecord, clock.now()));
  CredentialCache on({16, 60s}, key_of(9));
  on.remember("bob@example.org", "pw", kRecord, clock.now());
  on.set_limits({16, 0s});
  CHECK(on.size() == 0);
}
