// Shared helpers for store tests: a fresh store in a temp dir, users, bodies.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "store/catalogue.h"
#include "store/daily_counts.h"
#include "store/delivery.h"
#include "store/env.h"
#include "store/ledger.h"
#include "store/mailbox.h"
#include "store/recovery.h"
#include "store/sha256.h"
#include "test_support.h"

namespace postern::store::testing {

inline Options options_for(const std::string& dir, std::uint64_t map_bytes = 64ull << 20) {
  Options o;
  o.data_dir = dir + "/data";
  o.map_bytes = map_bytes;
  o.pbkdf2_iterations = 1000;
  return o;
}

// Tests play the server, which runs recovery after the open; `recover` false plays the CLI.
inline std::unique_ptr<Env> open_store(const Options& options, bool recover = true) {
  auto env = Env::open(options);
  REQUIRE(env.has_value());
  if (recover) REQUIRE(store::recover(**env).has_value());
  return std::move(*env);
}

// Deterministic, non-repeating bytes so chunk-boundary mistakes show up.
inline std::string pattern_bytes(std::size_t n, std::uint32_t seed = 1) {
  std::string out(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

// pattern_bytes(n) in the stored form (store/stored_form.h): no CR or LF except CRLF pairs,
// one every 78 octets and one at the end, so neither the spool nor the import changes it.
// REQUIRES: n == 0 or n >= 2.
inline std::string stored_form_bytes(std::size_t n, std::uint32_t seed = 1) {
  std::string out = pattern_bytes(n, seed);
  for (std::size_t i = 0; i < n; ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = 'x';
    if (i % 78 == 76 && i + 1 < n) {
      out[i] = '\r';
      out[i + 1] = '\n';
      ++i;
    }
  }
  if (n >= 2) {
    out[n - 2] = '\r';
    out[n - 1] = '\n';
  }
  return out;
}

inline SpooledBody memory_body(std::string bytes) {
  SpooledBody b;
  b.size = bytes.size();
  b.hash = sha256(bytes);
  b.memory = std::move(bytes);
  return b;
}

inline void add_users(Env& env, std::initializer_list<const char*> addresses,
                      std::uint64_t quota = 0) {
  auto r = run_write(env, [&](WriteTxn& txn) -> Result<void> {
    for (const char* a : addresses) {
      if (!find_domain(txn, domain_of(a))) {
        if (auto d = add_domain(txn, domain_of(a)); !d) return d.error();
      }
      if (auto u = add_user(txn, a, "!", quota); !u) return u.error();
    }
    return {};
  });
  REQUIRE(r.has_value());
}

inline std::uint64_t mailbox_of(Env& env, const char* address) {
  auto txn = env.begin_read();
  REQUIRE(txn.has_value());
  auto u = find_user(*txn, address);
  REQUIRE(u.has_value());
  return u->record.mailbox_id;
}

inline DeliveryRequest request_to(SpooledBody body, std::initializer_list<const char*> to,
                                  std::int64_t received_at = 1'700'000'000) {
  DeliveryRequest req;
  req.body = std::move(body);
  for (const char* a : to) req.recipients.push_back(Recipient{a, std::nullopt});
  req.received_at = received_at;
  return req;
}

inline Result<DeliveryOutcome> deliver_now(Env& env, const DeliveryRequest& req) {
  return run_write(env, [&](WriteTxn& txn) { return deliver(txn, req); });
}

// Reads a whole body back through read_chunk, one short txn per chunk.
inline std::string read_body(const Env& env, const Digest& hash, std::uint64_t size) {
  std::string out;
  for (std::uint32_t n = 0; n < chunk_count_for(size); ++n) {
    auto chunk = read_chunk(env, hash, n);
    REQUIRE(chunk.has_value());
    out += *chunk;
  }
  return out;
}

}  // namespace postern::store::testing
