// ServerConfig: the ECDHE group and ciphersuite the server picks, and session resumption
// by ticket and by session ID, read off the server's handshake flight.
#include "tls/server_config.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tls/hardware_aes.h"
#include "tls_test_support.h"

using namespace postern;
using namespace postern::tls;
using namespace postern::tls::testing;

namespace {

// RFC 8422 §5.1.1 / RFC 7748: NamedCurve code points.
constexpr int kX25519 = 0x001d, kSecp256r1 = 0x0017;

// What the server sent in the clear before its ChangeCipherSpec (RFC 5246 §6.2, §7.4).
struct Flight {
  std::vector<int> messages;  // handshake message types in order
  int named_curve = -1;       // from ServerKeyExchange (RFC 8422 §5.4), -1 when none
  bool change_cipher_spec = false;
  bool has(int type) const {
    for (int m : messages)
      if (m == type) return true;
    return false;
  }
};

Flight parse_flight(const std::string& wire) {
  Flight flight;
  std::string handshake;  // handshake records' payloads, joined
  std::size_t at = 0;
  while (at + 5 <= wire.size()) {
    const int type = static_cast<unsigned char>(wire[at]);
    const std::size_t length =
        (static_cast<unsigned char>(wire[at + 3]) << 8) | static_cast<unsigned char>(wire[at + 4]);
    if (type == 20) {  // ChangeCipherSpec: what follows is encrypted
      flight.change_cipher_spec = true;
      break;
    }
    if (type == 22) handshake.append(wire, at + 5, length);
    at += 5 + length;
  }
  at = 0;
  while (at + 4 <= handshake.size()) {
    const int type = static_cast<unsigned char>(handshake[at]);
    const std::size_t length = (static_cast<unsigned char>(handshake[at + 1]) << 16) |
                               (static_cast<unsigned char>(handshake[at + 2]) << 8) |
                               static_cast<unsigned char>(handshake[at + 3]);
    flight.messages.push_back(type);
    // ServerKeyExchange for ECDHE: curve_type named_curve(3), then the 2-byte NamedCurve.
    if (type == 12 && length >= 3 && static_cast<unsigned char>(handshake[at + 4]) == 3) {
      flight.named_curve = (static_cast<unsigned char>(handshake[at + 5]) << 8) |
                           static_cast<unsigned char>(handshake[at + 6]);
    }
    at += 4 + length;
  }
  return flight;
}

// A full in-memory handshake; returns the server's flight.
Flight handshake(Pair& p) {
  std::string wire;
  REQUIRE(pump(*p.client, *p.server, nullptr, &wire));
  return parse_flight(wire);
}

// Sends one line each way after the handshake, so both sides are really keyed alike.
void exchange(Filter& client, Filter& server) {
  REQUIRE(client.write_plaintext("USER bob\r\n"));
  server.feed_ciphertext(client.take_ciphertext());
  std::string got;
  REQUIRE(server.read_plaintext(got, 1024));
  CHECK(got == "USER bob\r\n");
  REQUIRE(server.write_plaintext("+OK\r\n"));
  client.feed_ciphertext(server.take_ciphertext());
  got.clear();
  REQUIRE(client.read_plaintext(got, 1024));
  CHECK(got == "+OK\r\n");
}

const mbedtls_ecp_group_id kClientDefaultOrder[] = {
    // mbedTLS 2.28's own client order: secp521r1 first, X25519 late.
    MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_NONE};
const mbedtls_ecp_group_id kClientNist[] = {MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP256R1,
                                            MBEDTLS_ECP_DP_NONE};
const mbedtls_ecp_group_id kClientP521[] = {MBEDTLS_ECP_DP_SECP521R1, MBEDTLS_ECP_DP_NONE};

}  // namespace

TEST_CASE("the server prefers X25519, then P-256, then P-384, whatever the client's order") {
  test::TempDir dir;
  auto creds = make_credentials(dir.path(), "mail.example.net");
  SUBCASE("X25519 offered last still wins") {
    ClientOptions options;
    options.curves = kClientDefaultOrder;
    auto p = make_pair(creds, options);
    CHECK(handshake(p).named_curve == kX25519);
    exchange(*p.client, *p.server);
  }
  SUBCASE("without X25519, P-256 before P-384") {
    ClientOptions options;
    options.curves = kClientNist;
    auto p = make_pair(creds, options);
    CHECK(handshake(p).named_curve == kSecp256r1);
  }
  // (P-384 alone cannot be tried: the client's list also bounds the curve of the server's
  // ECDSA key, RFC 8422 §5.1.1, and the generated key is P-256.)
  SUBCASE("secp521r1 is no longer offered") {
    ClientOptions options;
    options.curves = kClientP521;
    auto p = make_pair(creds, options);
    CHECK_FALSE(pump(*p.client, *p.server));
  }
  const mbedtls_ecp_group_id* curves = server_curves();
  CHECK(curves[0] == MBEDTLS_ECP_DP_CURVE25519);
  CHECK(curves[1] == MBEDTLS_ECP_DP_SECP256R1);
  CHECK(curves[2] == MBEDTLS_ECP_DP_SECP384R1);
  CHECK(curves[3] == MBEDTLS_ECP_DP_NONE);
}

TEST_CASE("without hardware AES ChaCha20-Poly1305 comes first, with it AES-GCM") {
  test::TempDir dir;
  auto creds = make_credentials(dir.path(), "mail.example.net");
  ServerOptions no_aes;
  no_aes.hardware_aes = false;
  ServerOptions aes;
  aes.hardware_aes = true;

  auto slow = make_pair(creds, {}, "localhost", no_aes);
  handshake(slow);
  CHECK(std::string(slow.server->ciphersuite()) == "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256");
  CHECK(std::string(slow.client->ciphersuite()) == slow.server->ciphersuite());
  CHECK(slow.server_config->prefers_chacha());
  exchange(*slow.client, *slow.server);

  auto fast = make_pair(creds, {}, "localhost", aes);
  handshake(fast);
  CHECK(std::string(fast.server->ciphersuite()) == "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256");
  CHECK_FALSE(fast.server_config->prefers_chacha());

  // A client without ChaCha20 is still served by the no-AES order.
  static const int kAesOnly[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0};
  ClientOptions aes_client;
  aes_client.ciphersuites = kAesOnly;
  auto mixed = make_pair(creds, aes_client, "localhost", no_aes);
  handshake(mixed);
  CHECK(std::string(mixed.server->ciphersuite()) == "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");

  // Every suite offered is ECDHE with an AEAD cipher, in both orders.
  for (bool hardware : {false, true}) {
    int count = 0;
    for (const int* suite = server_ciphersuites(hardware); *suite != 0; ++suite, ++count) {
      const std::string name = mbedtls_ssl_get_ciphersuite_name(*suite);
      CAPTURE(name);
      CHECK(name.rfind("TLS-ECDHE-", 0) == 0);
      CHECK((name.find("-GCM-") != std::string::npos ||
             name.find("CHACHA20-POLY1305") != std::string::npos));
    }
    CHECK(count == 6);
  }
  CHECK(server_ciphersuites(false)[0] == MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
  CHECK(server_ciphersuites(true)[0] == MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
}

TEST_CASE("the AES detection is consistent with this machine") {
  const HardwareAes found = detect_hardware_aes();
  CHECK((!found.library || found.cpu));  // the library never uses what the CPU lacks
#if defined(__mips__)
  CHECK_FALSE(found.cpu);
#endif
}

TEST_CASE("a ticket resumes the session: no certificate, no key exchange, one round trip") {
  test::TempDir dir;
  auto creds = make_credentials(dir.path(), "mail.example.net");
  for (bool hardware : {false, true}) {
    CAPTURE(hardware);
    ServerOptions options;
    options.hardware_aes = hardware;
    options.session_cache_entries = 0;  // tickets alone
    auto first = make_pair(creds, {}, "localhost", options);
    const Flight full = handshake(first);
    CHECK(full.has(11));  // Certificate
    CHECK(full.has(12));  // ServerKeyExchange
    CHECK(full.has(4));   // NewSessionTicket (RFC 5077 §3.3), sent after the client's Finished
    CHECK(first.server_config->tickets());
    exchange(*first.client, *first.server);
    ClientSession saved;
    CHECK(saved.empty());
    REQUIRE(first.client->save_session(saved));
    CHECK_FALSE(saved.empty());

    // The next connection, as a POP3 client polling a minute later.
    auto server = Filter::create(*first.server_config);
    REQUIRE(server);
    auto client = Filter::create_client(*first.client_config, "localhost", &saved);
    REQUIRE(client);
    std::string wire;
    REQUIRE(pump(**client, **server, nullptr, &wire));
    const Flight resumed = parse_flight(wire);
    CHECK(resumed.has(2));              // ServerHello
    CHECK_FALSE(resumed.has(11));       // no Certificate
    CHECK_FALSE(resumed.has(12));       // no ServerKeyExchange: no ECDHE, no signature
    CHECK(resumed.change_cipher_spec);  // abbreviated: the server's first flight ends keyed
    CHECK(std::string((*server)->ciphersuite()) == first.server->ciphersuite());
    exchange(**client, **server);
  }
}

TEST_CASE("without tickets the session-ID cache resumes; with neither, a full handshake") {
  test::TempDir dir;
  auto creds = make_credentials(dir.path(), "mail.example.net");
  ClientOptions no_tickets;
  no_tickets.session_tickets = false;
  for (std::size_t cache_entries : {std::size_t{32}, std::size_t{0}}) {
    CAPTURE(cache_entries);
    ServerOptions options;
    options.ticket_lifetime = std::chrono::seconds(0);
    options.session_cache_entries = cache_entries;
    auto first = make_pair(creds, no_tickets, "localhost", options);
    const Flight full = handshake(first);
    CHECK_FALSE(full.has(4));
    CHECK_FALSE(first.server_config->tickets());
    ClientSession saved;
    REQUIRE(first.client->save_session(saved));
    auto server = Filter::create(*first.server_config);
    REQUIRE(server);
    auto client = Filter::create_client(*first.client_config, "localhost", &saved);
    REQUIRE(client);
    std::string wire;
    REQUIRE(pump(**client, **server, nullptr, &wire));
    CHECK(parse_flight(wire).has(11) == (cache_entries == 0));
    exchange(**client, **server);
  }
}

TEST_CASE("replaced credentials serve new sessions; open sessions and old tickets keep working") {
  test::TempDir a, b;
  auto old_creds = make_credentials(a.path(), "mail.example.net");
  auto new_creds = make_credentials(b.path(), "mail.example.net");
  auto p = make_pair(old_creds);
  handshake(p);
  ClientSession saved;
  REQUIRE(p.client->save_session(saved));
  // A session mid-handshake when the certificate changes finishes with the old one.
  auto pending_server = Filter::create(*p.server_config);
  REQUIRE(pending_server);
  auto pending_client = Filter::create_client(*p.client_config, "localhost");
  REQUIRE(pending_client);

  REQUIRE(p.server_config->replace_credentials(new_creds));
  CHECK(p.server_config->credentials() == new_creds);
  exchange(*p.client, *p.server);
  REQUIRE(pump(**pending_client, **pending_server));
  exchange(**pending_client, **pending_server);

  auto server = Filter::create(*p.server_config);
  REQUIRE(server);
  auto client = Filter::create_client(*p.client_config, "localhost", &saved);
  REQUIRE(client);
  std::string wire;
  REQUIRE(pump(**client, **server, nullptr, &wire));
  CHECK_FALSE(parse_flight(wire).has(11));  // the ticket from before still resumes

  auto fresh_server = Filter::create(*p.server_config);
  REQUIRE(fresh_server);
  auto fresh_client = Filter::create_client(*p.client_config, "localhost");
  REQUIRE(fresh_client);
  REQUIRE(pump(**fresh_client, **fresh_server));
  const mbedtls_x509_crt* peer = (*fresh_client)->peer_certificate();
  REQUIRE(peer != nullptr);
  const mbedtls_x509_crt* served = new_creds->certificate();
  CHECK(std::string(reinterpret_cast<const char*>(peer->raw.p), peer->raw.len) ==
        std::string(reinterpret_cast<const char*>(served->raw.p), served->raw.len));
}
