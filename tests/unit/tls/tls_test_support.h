// Helpers for the tls tests: fresh credentials and an in-memory client<->server pump.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "test_support.h"
#include "tls/client_config.h"
#include "tls/credentials.h"
#include "tls/filter.h"
#include "tls/server_config.h"

namespace postern::tls::testing {

inline std::shared_ptr<Credentials> make_credentials(const std::string& dir,
                                                     const std::string& hostname) {
  core::SystemClock clock;  // the client checks validity against the real time
  auto random = Random::create("test");
  REQUIRE(random);
  auto creds = Credentials::load_or_create(dir, hostname, clock, **random);
  REQUIRE(creds);
  return *creds;
}

// Moves ciphertext both ways until neither side produces any; returns false on
// a TLS error (the failing side's error is left in *error when given).
// `server_wire`, when given, receives every byte the server sent.
inline bool pump(Filter& client, Filter& server, core::Error* error = nullptr,
                 std::string* server_wire = nullptr) {
  for (int round = 0; round < 64; ++round) {
    auto c = client.handshake();
    if (!c) {
      if (error) *error = c.error();
      return false;
    }
    std::string to_server = client.take_ciphertext();
    server.feed_ciphertext(to_server);
    auto s = server.handshake();
    if (!s) {
      if (error) *error = s.error();
      return false;
    }
    std::string to_client = server.take_ciphertext();
    if (server_wire != nullptr) *server_wire += to_client;
    client.feed_ciphertext(to_client);
    if (to_server.empty() && to_client.empty() && *c && *s) return true;
  }
  return false;
}

struct Pair {
  std::unique_ptr<ServerConfig> server_config;
  std::unique_ptr<ClientConfig> client_config;
  std::unique_ptr<Filter> server;
  std::unique_ptr<Filter> client;
};

inline Pair make_pair(std::shared_ptr<Credentials> creds, ClientOptions options = {},
                      const std::string& hostname = "localhost",
                      const ServerOptions& server_options = {}) {
  Pair p;
  auto sc = ServerConfig::create(creds, server_options);
  REQUIRE(sc);
  p.server_config = std::move(*sc);
  auto cc = ClientConfig::create(options);
  REQUIRE(cc);
  p.client_config = std::move(*cc);
  auto s = Filter::create(*p.server_config);
  REQUIRE(s);
  p.server = std::move(*s);
  auto c = Filter::create_client(*p.client_config, hostname);
  REQUIRE(c);
  p.client = std::move(*c);
  return p;
}

}  // namespace postern::tls::testing
