// The self-signed certificate's names and lifetime, and when postern renews it (fake clock).
#include "tls/credentials.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tls_test_support.h"

using namespace postern;
using namespace postern::tls;
using namespace postern::tls::testing;
using std::chrono::hours;

namespace {

constexpr hours kDay{24};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string der(const Credentials& c) {
  return std::string(reinterpret_cast<const char*>(c.certificate()->raw.p),
                     c.certificate()->raw.len);
}

struct Fixture {
  test::TempDir dir;
  core::ManualClock clock;  // 2023-11-14
  std::unique_ptr<Random> random;
  Fixture() {
    auto r = Random::create("renewal test");
    REQUIRE(r);
    random = std::move(*r);
  }
  std::shared_ptr<Credentials> load(const Identity& identity) {
    auto c = Credentials::load_or_create(dir.path(), identity, clock, *random);
    REQUIRE(c);
    return *c;
  }
};

const Identity kIdentity{"mail.example.net", {"127.0.0.1", "::1", "192.0.2.7"}};

}  // namespace

TEST_CASE("the certificate names the hostname, localhost and every address, and lives 825 days") {
  Fixture f;
  auto c = f.load(kIdentity);
  CHECK(c->created());
  CHECK(c->self_made());
  CHECK(c->renewed() == Renewal::none);
  CHECK(c->dns_names() == std::vector<std::string>{"mail.example.net", "localhost"});
  CHECK(c->ip_addresses() == std::vector<std::string>{"127.0.0.1", "::1", "192.0.2.7"});
  CHECK(c->not_before() == f.clock.now() - hours(1));
  CHECK(c->not_after() - c->not_before() == hours(825 * 24));
  CHECK(c->not_after() - c->not_before() <= kMaxValidity);
  // The raw iPAddress values are 4 and 16 octets (RFC 5280 §4.2.1.6).
  std::vector<std::size_t> ip_lengths;
  for (const mbedtls_x509_sequence* s = &c->certificate()->subject_alt_names; s != nullptr;
       s = s->next) {
    if ((s->buf.tag & 0x1f) == 7) ip_lengths.push_back(s->buf.len);
  }
  CHECK(ip_lengths == std::vector<std::size_t>{4, 16, 4});
}

TEST_CASE("a verifying client accepts the certificate for the hostname and localhost only") {
  test::TempDir dir;
  core::SystemClock now;  // the client checks validity against the real time
  auto random = Random::create("renewal test");
  REQUIRE(random);
  auto c = Credentials::load_or_create(dir.path(), kIdentity, now, **random);
  REQUIRE(c);
  ClientOptions options;
  options.trust = *c;
  for (const char* name : {"mail.example.net", "localhost", "other.example"}) {
    CAPTURE(name);
    auto p = make_pair(*c, options, name);
    CHECK(pump(*p.client, *p.server) == (std::string(name) != "other.example"));
  }
}

TEST_CASE("an address that is not an IP literal is refused") {
  Fixture f;
  auto r = Credentials::load_or_create(f.dir.path(), Identity{"mail.example.net", {"not-an-ip"}},
                                       f.clock, *f.random);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::invalid);
}

TEST_CASE("renewal is due 30 days before expiry, and the next start renews it") {
  Fixture f;
  auto first = f.load(kIdentity);
  CHECK(renewal_needed(*first, kIdentity, f.clock.now(), true) == Renewal::none);
  f.clock.advance(794 * kDay);  // 31 days - 1 h left
  CHECK(renewal_needed(*first, kIdentity, f.clock.now(), false) == Renewal::none);
  auto same = f.load(kIdentity);
  CHECK_FALSE(same->created());
  CHECK(der(*same) == der(*first));

  f.clock.advance(kDay + hours(1));  // exactly 30 days left
  CHECK(renewal_needed(*first, kIdentity, f.clock.now(), false) == Renewal::expiring);
  auto renewed = f.load(kIdentity);
  CHECK(renewed->renewed() == Renewal::expiring);
  CHECK(renewed->created());
  CHECK(renewed->self_made());
  CHECK(der(*renewed) != der(*first));
  CHECK(renewed->not_before() == f.clock.now() - hours(1));
  CHECK(renewal_needed(*renewed, kIdentity, f.clock.now(), true) == Renewal::none);
  // The marker lists only the new certificate now.
  CHECK(slurp(f.dir.path() + "/tls/self-signed").size() == 65);

  // Long expired (a box switched off for years) is renewed too.
  f.clock.advance(5 * 365 * kDay);
  CHECK(f.load(kIdentity)->renewed() == Renewal::expiring);
}

TEST_CASE("a new hostname or address renews at start; the daily check looks at expiry only") {
  Fixture f;
  auto first = f.load(kIdentity);
  const Identity renamed{"pop.example.net", kIdentity.addresses};
  const Identity moved{"mail.example.net", {"127.0.0.1", "::1", "192.0.2.7", "2001:db8::25"}};
  const Identity fewer{"MAIL.example.net", {"0:0:0:0:0:0:0:1"}};
  CHECK(renewal_needed(*first, renamed, f.clock.now(), true) == Renewal::names_missing);
  CHECK(renewal_needed(*first, moved, f.clock.now(), true) == Renewal::names_missing);
  CHECK(renewal_needed(*first, renamed, f.clock.now(), false) == Renewal::none);
  // Fewer names, another spelling of the same ones: nothing is missing.
  CHECK(renewal_needed(*first, fewer, f.clock.now(), true) == Renewal::none);

  auto again = f.load(renamed);
  CHECK(again->renewed() == Renewal::names_missing);
  CHECK(again->dns_names() == std::vector<std::string>{"pop.example.net", "localhost"});
}

TEST_CASE("the owner's certificate is never renewed, even expired") {
  Fixture f;
  f.load(kIdentity);
  test::TempDir other;
  make_credentials(other.path(), "owner.example");  // stands in for a CA-issued pair
  const std::string cert = slurp(other.path() + "/tls/cert.pem");
  REQUIRE(Credentials::install(f.dir.path(), cert, slurp(other.path() + "/tls/key.pem")));
  auto installed = f.load(kIdentity);
  CHECK_FALSE(installed->self_made());
  f.clock.advance(3000 * kDay);
  CHECK(renewal_needed(*installed, kIdentity, f.clock.now(), true) == Renewal::none);
  auto later = f.load(Identity{"elsewhere.example", {}});
  CHECK(later->renewed() == Renewal::none);
  CHECK(slurp(f.dir.path() + "/tls/cert.pem") == cert);
}

TEST_CASE("a clock before notBefore (no time yet after boot) does not renew") {
  Fixture f;
  auto first = f.load(kIdentity);
  core::ManualClock early(core::from_unix_seconds(86400));  // 1970-01-02
  auto c =
      Credentials::load_or_create(f.dir.path(), Identity{"renamed.example", {}}, early, *f.random);
  REQUIRE(c);
  CHECK((*c)->renewed() == Renewal::none);
  CHECK(der(**c) == der(*first));
}

TEST_CASE("renew() replaces the files with a new self-made pair") {
  Fixture f;
  auto first = f.load(kIdentity);
  f.clock.advance(800 * kDay);
  auto renewed = Credentials::renew(f.dir.path(), kIdentity, f.clock.now(), *f.random);
  REQUIRE(renewed);
  CHECK((*renewed)->self_made());
  CHECK(der(**renewed) != der(*first));
  auto loaded = f.load(kIdentity);
  CHECK_FALSE(loaded->created());
  CHECK(der(*loaded) == der(**renewed));
}
