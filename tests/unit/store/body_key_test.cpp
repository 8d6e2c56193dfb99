// Body keys, version 3: header block split, whole / byte at a time / random splits,
// the definition, and the deep check accepting new and old keys.
#include "store/body_key.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

#include "store/check.h"
#include "store/records.h"
#include "store_fixture.h"

using namespace postern::store;
using namespace postern::store::testing;
using postern::test::TempDir;

namespace {

const std::string kHead = "Received: from a\r\nSubject: s\r\n\r\n";
const std::string kMessage = kHead + "body line\r\n\r\nsecond paragraph\r\n";

BodyKeys keys_in_pieces(std::string_view bytes, std::mt19937& rng, std::size_t max_piece) {
  BodyKeyHasher h;
  std::uniform_int_distribution<std::size_t> len(0, max_piece);
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), len(rng));
    h.update(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  return h.finish();
}

std::string big_body() {
  std::string s = "From: a@b\r\n\r\n";
  while (s.size() < 300 * 1024) s += "line " + std::to_string(s.size()) + " of the body\r\n";
  return s;
}

}  // namespace

TEST_CASE("the key is SHA-256(header block, SHA-256(rest), tag)") {
  const std::string rest = kMessage.substr(kHead.size());
  const Digest rest_digest = sha256(rest);
  const Digest want = sha256(kHead + std::string(as_view(rest_digest)) + std::string(kKeyTag));
  BodyKeyHasher h;
  h.update(kMessage);
  const BodyKeys k = h.finish();
  CHECK(k.rest_digest == rest_digest);
  CHECK(k.key == want);
  CHECK(body_key(kMessage) == want);
  CHECK(k.key != legacy_body_key(kMessage));
  // The split is at the first empty line, even one at offset 0 (no header fields).
  CHECK(body_key("\r\nbody\r\n") ==
        sha256("\r\n" + std::string(as_view(sha256("body\r\n"))) + std::string(kKeyTag)));
  // No empty line: everything is header block, the rest is empty.
  CHECK(body_key("a\r\nb\r\n") ==
        sha256("a\r\nb\r\n" + std::string(as_view(sha256(""))) + std::string(kKeyTag)));
  // A bare CR line is not an empty line; CR CR LF neither.
  HeaderSplit split;
  CHECK(split.feed("x\r\n\r\r\nA: b\r\n\r\nrest") == 14);
  CHECK(split.ended());
  CHECK(split.feed("more") == 0);
}

TEST_CASE("whole, byte at a time and random splits give the same keys") {
  for (const std::string& msg : {kMessage, big_body(), std::string(), std::string("\r\n")}) {
    BodyKeyHasher whole;
    whole.update(msg);
    const BodyKeys ref = whole.finish();
    BodyKeyHasher bytewise;
    for (char c : msg) bytewise.update(std::string_view(&c, 1));
    const BodyKeys one = bytewise.finish();
    CHECK(one.key == ref.key);
    CHECK(one.rest_digest == ref.rest_digest);
    std::mt19937 rng(7);
    for (std::size_t max_piece : {3u, 100u, 70000u}) {
      const BodyKeys r = keys_in_pieces(msg, rng, max_piece);
      CHECK(r.key == ref.key);
      CHECK(r.rest_digest == ref.rest_digest);
    }
  }
}

TEST_CASE("a header section without an end is cut at kMaxHeaderBlock, counted from the offset") {
  std::string fields;
  while (fields.size() < kMaxHeaderBlock + 100) fields += "X-F: " + std::string(60, 'f') + "\r\n";
  BodyKeyHasher h;
  h.update(fields);
  const BodyKeys k = h.finish();
  CHECK(k.rest_digest == sha256(fields.substr(kMaxHeaderBlock)));
  HeaderSplit after_trace(100);
  CHECK(after_trace.feed(fields) == kMaxHeaderBlock - 100);
  HeaderSplit full(kMaxHeaderBlock);
  CHECK(full.ended());
  CHECK(full.feed("a") == 0);
}

TEST_CASE("a new key cannot be the legacy key of a stored body") {
  // Stored bodies are empty or end in LF (stored form); every version 3 key's input ends
  // with the tag, whose last octet is not LF.
  CHECK(kKeyTag.back() != '\n');
  CHECK(kKeyTag.size() == 3);
}

TEST_CASE("the deep check verifies new keys and keys stored before version 3") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  SpooledBody old_form = memory_body("Subject: old\r\n\r\nold body\r\n");  // SHA-256 key
  SpooledBody new_form = memory_body("Subject: new\r\n\r\n" + big_body());
  new_form.hash = body_key(new_form.memory);
  REQUIRE(deliver_now(*env, request_to(old_form, {"a@x.org"})));
  REQUIRE(deliver_now(*env, request_to(new_form, {"a@x.org"})));
  REQUIRE(check_consistency(*env, true).has_value());
  // A chunk changed under a new key: the deep check finds it.
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    std::string chunk(*t.get(Db::chunks, chunk_key(new_form.hash, 1)));
    chunk[10] ^= 1;
    return t.put(Db::chunks, chunk_key(new_form.hash, 1), chunk);
  }));
  CHECK(check_consistency(*env, false).has_value());
  auto r = check_consistency(*env, true);
  REQUIRE_FALSE(r.has_value());
  CHECK(std::string(r.error().where) == "body-hash");
}

TEST_CASE("a legacy key whose chunk changed fails the deep check too") {
  TempDir dir;
  auto env = open_store(options_for(dir.path()));
  add_users(*env, {"a@x.org"});
  SpooledBody old_form = memory_body("Subject: old\r\n\r\nold body\r\n");
  REQUIRE(deliver_now(*env, request_to(old_form, {"a@x.org"})));
  REQUIRE(run_write(*env, [&](WriteTxn& t) {
    std::string chunk(*t.get(Db::chunks, chunk_key(old_form.hash, 0)));
    chunk[0] = 'X';
    return t.put(Db::chunks, chunk_key(old_form.hash, 0), chunk);
  }));
  auto r = check_consistency(*env, true);
  REQUIRE_FALSE(r.has_value());
  CHECK(std::string(r.error().where) == "body-hash");
}
