// Filter: handshakes and records between an in-memory client and server.
#include "tls/filter.h"

#include <doctest/doctest.h>

#include <string>

#include "tls_test_support.h"

using namespace postern;
using namespace postern::tls;
using namespace postern::tls::testing;

namespace {

std::string all_byte_values(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7 + i / 256) & 0xff);
  return s;
}

// Reads everything decryptable into `out`.
void drain(Filter& f, std::string& out) {
  for (;;) {
    auto n = f.read_plaintext(out, 1 << 20);
    REQUIRE(n);
    if (*n == 0) return;
  }
}

}  // namespace

TEST_CASE("a client and a server handshake in memory and exchange data both ways byte-exact") {
  test::TempDir dir;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"));
  CHECK_FALSE(p.server->handshake_done());
  REQUIRE(pump(*p.client, *p.server));
  CHECK(p.client->handshake_done());
  CHECK(p.server->handshake_done());

  const std::string up = all_byte_values(100'000);  // several 16 KiB records
  REQUIRE(p.client->write_plaintext(up));
  p.server->feed_ciphertext(p.client->take_ciphertext());
  std::string got_up;
  drain(*p.server, got_up);
  CHECK(got_up == up);

  const std::string down = "+OK \r\n" + all_byte_values(3000);
  REQUIRE(p.server->write_plaintext(down));
  p.client->feed_ciphertext(p.server->take_ciphertext());
  std::string got_down;
  drain(*p.client, got_down);
  CHECK(got_down == down);
}

TEST_CASE("ciphertext fed one byte at a time still decrypts to the same bytes") {
  test::TempDir dir;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"));
  // The handshake itself byte by byte, server side.
  REQUIRE(p.client->handshake());
  for (int round = 0; round < 16 && !(p.client->handshake_done() && p.server->handshake_done());
       ++round) {
    for (char c : p.client->take_ciphertext()) {
      p.server->feed_ciphertext(std::string_view(&c, 1));
      REQUIRE(p.server->handshake());
    }
    p.client->feed_ciphertext(p.server->take_ciphertext());
    REQUIRE(p.client->handshake());
  }
  REQUIRE(p.server->handshake_done());
  REQUIRE(p.client->handshake_done());

  const std::string message = all_byte_values(40'000);
  REQUIRE(p.server->write_plaintext(message));
  std::string wire = p.server->take_ciphertext();
  std::string got;
  for (char c : wire) {
    p.client->feed_ciphertext(std::string_view(&c, 1));
    auto n = p.client->read_plaintext(got, 1 << 20);
    REQUIRE(n);
  }
  CHECK(got == message);
  CHECK_FALSE(p.client->has_buffered_input());
}

TEST_CASE("read_plaintext returns at most max_bytes and keeps the rest buffered") {
  test::TempDir dir;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"));
  REQUIRE(pump(*p.client, *p.server));
  REQUIRE(p.client->write_plaintext(std::string(1000, 'x')));
  p.server->feed_ciphertext(p.client->take_ciphertext());
  std::string got;
  auto n = p.server->read_plaintext(got, 300);
  REQUIRE(n);
  CHECK(*n == 300);
  CHECK(p.server->has_buffered_input());
  n = p.server->read_plaintext(got, 1000);
  REQUIRE(n);
  CHECK(*n == 700);
  CHECK(got == std::string(1000, 'x'));
  CHECK_FALSE(p.server->has_buffered_input());
}

TEST_CASE("close_notify is seen by the peer as a clean close") {
  test::TempDir dir;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"));
  REQUIRE(pump(*p.client, *p.server));
  REQUIRE(p.server->close_notify());
  p.client->feed_ciphertext(p.server->take_ciphertext());
  std::string got;
  auto n = p.client->read_plaintext(got, 100);
  REQUIRE(n);
  CHECK(*n == 0);
  CHECK(p.client->peer_closed());
}

TEST_CASE("a TLS 1.1 client is rejected by the server") {
  test::TempDir dir;
  ClientOptions old;
  old.min_minor_version = MBEDTLS_SSL_MINOR_VERSION_2;
  old.max_minor_version = MBEDTLS_SSL_MINOR_VERSION_2;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"), old);
  core::Error error;
  CHECK_FALSE(pump(*p.client, *p.server, &error));
  CHECK(error.code == core::Errc::tls);
  CHECK(error.sys == MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION);
  CHECK_FALSE(p.server->handshake_done());
  // The failure is final.
  CHECK_FALSE(p.server->handshake());
}

TEST_CASE("garbage instead of a ClientHello fails the handshake") {
  test::TempDir dir;
  auto p = make_pair(make_credentials(dir.path(), "mail.example.net"));
  p.server->feed_ciphertext("EVIL\r\nEVIL\r\nEVIL\r\n");
  auto r = p.server->handshake();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::tls);
}

TEST_CASE("a client that trusts the generated certificate accepts its hostname and localhost") {
  test::TempDir dir;
  auto creds = make_credentials(dir.path(), "mail.example.net");
  ClientOptions verify;
  verify.trust = creds;
  for (const char* name : {"mail.example.net", "localhost"}) {
    CAPTURE(name);
    auto p = make_pair(creds, verify, name);
    CHECK(pump(*p.client, *p.server));
  }
  auto wrong = make_pair(creds, verify, "other.example.org");
  core::Error error;
  CHECK_FALSE(pump(*wrong.client, *wrong.server, &error));
  CHECK(error.code == core::Errc::tls);
}
