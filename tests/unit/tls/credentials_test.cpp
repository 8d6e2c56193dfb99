// Credentials: first-start creation, reload, install and crash recovery.
#include "tls/credentials.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>

#include "tls_test_support.h"

using namespace postern;
using namespace postern::tls;
using namespace postern::tls::testing;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::string der(Credentials& c) {
  return std::string(reinterpret_cast<const char*>(c.certificate()->raw.p),
                     c.certificate()->raw.len);
}

std::vector<std::string> dns_names(Credentials& c) {
  std::vector<std::string> names;
  for (const mbedtls_x509_sequence* s = &c.certificate()->subject_alt_names; s != nullptr;
       s = s->next) {
    if (s->buf.p != nullptr)
      names.emplace_back(reinterpret_cast<const char*>(s->buf.p), s->buf.len);
  }
  return names;
}

}  // namespace

TEST_CASE("the first start creates a self-signed P-256 pair and later starts reload it") {
  test::TempDir dir;
  core::ManualClock clock;  // 2023-11-14
  auto random = Random::create("test");
  REQUIRE(random);
  auto first = Credentials::load_or_create(dir.path(), "mail.example.net", clock, **random);
  REQUIRE(first);
  CHECK((*first)->created());

  struct stat st;
  REQUIRE(::stat((dir.path() + "/tls/key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path() + "/tls/cert.pem").c_str(), &st) == 0);

  mbedtls_x509_crt* crt = (*first)->certificate();
  char subject[256];
  REQUIRE(mbedtls_x509_dn_gets(subject, sizeof subject, &crt->subject) > 0);
  CHECK(std::string(subject) == "CN=mail.example.net");
  CHECK(crt->issuer_raw.len == crt->subject_raw.len);
  CHECK(dns_names(**first) == std::vector<std::string>{"mail.example.net", "localhost"});
  CHECK((*first)->dns_names() == std::vector<std::string>{"mail.example.net", "localhost"});
  CHECK((*first)->self_made());
  // 825 days at most (CA/B BR §6.3.2), from an hour before now.
  CHECK((*first)->not_before() == clock.now() - std::chrono::hours(1));
  CHECK((*first)->not_after() - (*first)->not_before() == std::chrono::hours(825 * 24));
  CHECK(crt->valid_from.year == 2023);
  CHECK(crt->valid_to.year == 2026);
  CHECK(crt->serial.len == 16);
  CHECK(mbedtls_pk_get_type((*first)->key()) == MBEDTLS_PK_ECKEY);
  CHECK(mbedtls_pk_ec(*(*first)->key())->grp.id == MBEDTLS_ECP_DP_SECP256R1);

  auto again = Credentials::load_or_create(dir.path(), "mail.example.net", clock, **random);
  REQUIRE(again);
  CHECK_FALSE((*again)->created());
  CHECK(der(**again) == der(**first));
}

TEST_CASE("two generated certificates get different serial numbers") {
  test::TempDir a, b;
  auto one = make_credentials(a.path(), "localhost");
  auto two = make_credentials(b.path(), "localhost");
  CHECK(dns_names(*one) == std::vector<std::string>{"localhost"});
  const auto& s1 = one->certificate()->serial;
  const auto& s2 = two->certificate()->serial;
  CHECK(std::string(reinterpret_cast<const char*>(s1.p), s1.len) !=
        std::string(reinterpret_cast<const char*>(s2.p), s2.len));
}

TEST_CASE("a hostname that could inject name attributes is refused") {
  test::TempDir dir;
  core::ManualClock clock;
  auto random = Random::create("test");
  REQUIRE(random);
  for (const char* bad : {"", "evil,O=Bank", "a b", "-lead.example", "x\r\ny"}) {
    CAPTURE(bad);
    auto r = Credentials::load_or_create(dir.path(), bad, clock, **random);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::invalid);
  }
}

TEST_CASE("install rejects a certificate that does not match the key and keeps the old files") {
  test::TempDir a, b;
  make_credentials(a.path(), "a.example");
  make_credentials(b.path(), "b.example");
  const std::string cert_a = slurp(a.path() + "/tls/cert.pem");
  const std::string key_a = slurp(a.path() + "/tls/key.pem");
  const std::string key_b = slurp(b.path() + "/tls/key.pem");

  auto r = Credentials::install(a.path(), cert_a, key_b);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::invalid);
  CHECK(slurp(a.path() + "/tls/cert.pem") == cert_a);
  CHECK(slurp(a.path() + "/tls/key.pem") == key_a);

  auto garbage = Credentials::install(a.path(), "not a certificate", key_a);
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code == core::Errc::invalid);
  CHECK(slurp(a.path() + "/tls/cert.pem") == cert_a);
}

TEST_CASE("install replaces both files and the next start serves the new pair") {
  test::TempDir a, b;
  make_credentials(a.path(), "a.example");
  auto other = make_credentials(b.path(), "b.example");
  const std::string cert_b = slurp(b.path() + "/tls/cert.pem");
  const std::string key_b = slurp(b.path() + "/tls/key.pem");
  REQUIRE(Credentials::install(a.path(), cert_b, key_b));

  struct stat st;
  REQUIRE(::stat((a.path() + "/tls/key.pem").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto reloaded = make_credentials(a.path(), "a.example");
  CHECK_FALSE(reloaded->created());
  CHECK(der(*reloaded) == der(*other));
}

TEST_CASE("an install cut short by a crash is undone or finished on the next start") {
  test::TempDir a, b;
  auto old_pair = make_credentials(a.path(), "a.example");
  auto new_pair = make_credentials(b.path(), "b.example");
  const std::string tls_a = a.path() + "/tls";
  const std::string cert_b = slurp(b.path() + "/tls/cert.pem");
  const std::string key_b = slurp(b.path() + "/tls/key.pem");

  SUBCASE("crash before any rename keeps the old pair") {
    spit(tls_a + "/key.pem.new", key_b);
    spit(tls_a + "/cert.pem.new", cert_b);
    auto loaded = make_credentials(a.path(), "a.example");
    CHECK(der(*loaded) == der(*old_pair));
  }
  SUBCASE("crash between the renames rolls the new certificate forward") {
    spit(tls_a + "/key.pem", key_b);
    spit(tls_a + "/cert.pem.new", cert_b);
    auto loaded = make_credentials(a.path(), "a.example");
    CHECK(der(*loaded) == der(*new_pair));
  }
  struct stat st;
  CHECK(::stat((tls_a + "/key.pem.new").c_str(), &st) != 0);
  CHECK(::stat((tls_a + "/cert.pem.new").c_str(), &st) != 0);
}

TEST_CASE("a mismatched pair on disk is reported, not served") {
  test::TempDir a, b;
  make_credentials(a.path(), "a.example");
  make_credentials(b.path(), "b.example");
  spit(a.path() + "/tls/key.pem", slurp(b.path() + "/tls/key.pem"));
  core::ManualClock clock;
  auto random = Random::create("test");
  REQUIRE(random);
  auto r = Credentials::load_or_create(a.path(), "a.example", clock, **random);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::invalid);
}
