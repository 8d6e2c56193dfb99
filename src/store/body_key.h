// Body keys, version 3 (FORMAT.md "bodies"): the bulk of a message is hashed once.
//
// A stored body splits into its header block (the bytes up to and including the first
// empty line, RFC 5322 §2.1, at most kMaxHeaderBlock octets) and the rest. The rest is
// hashed once, SHA-256(rest) = the rest digest; both the body key and the dedup content
// fingerprint (src/dedup/fingerprint_builder.h) are derived from that digest and their
// own, small, header bytes:
//   key = SHA-256(header block ‖ SHA-256(rest) ‖ kKeyTag)
// so the hash pass over a 100 KB message runs once, on the spool's pool job, instead of
// once there and again on the loop for the fingerprint.
// The split depends on the bytes only, never on how they arrive in pieces. Keys written
// before version 3 are SHA-256(body) (`legacy_body_key`); the deep check accepts both.
// Typical call sequence (any thread, one body per hasher):
//   BodyKeyHasher h;  h.update(piece)*;  BodyKeys k = h.finish();
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/sha256.h"

namespace postern::store {

// A longer header section is cut here: the rest digest covers the remainder, so the
// bytes hashed twice (key and fingerprint) stay bounded whatever the peer sends.
inline constexpr std::size_t kMaxHeaderBlock = 1024 * 1024;
// Ends every version 3 key's input. Every stored body is empty or ends in LF (FORMAT.md
// "Stored form"), so no body's legacy key SHA-256(body) can equal a version 3 key.
inline constexpr std::string_view kKeyTag{"\0v3", 3};

// Finds the end of the header block in a stream: the first empty line (CRLF at the start
// of a line, or at offset 0), or kMaxHeaderBlock octets. `offset` octets (our trace
// headers, each line ending in CRLF) precede the first byte fed.
class HeaderSplit {
 public:
  explicit HeaderSplit(std::uint64_t offset = 0)
      : seen_(offset), ended_(offset >= kMaxHeaderBlock) {}
  // How many leading octets of `bytes` belong to the header block (all of them until it
  // ends; 0 once it has ended).
  std::size_t feed(std::string_view bytes);
  bool ended() const { return ended_; }

 private:
  enum class At : std::uint8_t { line_start, cr_at_start, in_line };
  std::uint64_t seen_;
  bool ended_;
  At at_ = At::line_start;
};

struct BodyKeys {
  Digest key{};          // the bodies/chunks key
  Digest rest_digest{};  // SHA-256 of the bytes after the header block
};

class BodyKeyHasher {
 public:
  void update(std::string_view bytes);
  BodyKeys finish();  // REQUIRES: called once

 private:
  HeaderSplit split_;
  Sha256 head_;  // the header block, then the rest digest and the tag
  Sha256 rest_;
};

// The version 3 key of a whole body in memory.
Digest body_key(std::string_view bytes);
// The key bodies stored before version 3 have: SHA-256 of the bytes.
inline Digest legacy_body_key(std::string_view bytes) {
  return sha256(bytes);
}

}  // namespace postern::store
