// dedup::FingerprintBuilder: the duplicate fingerprints of one received message, streamed.
//
// Typical call sequence (any thread, one message per builder):
//   FingerprintBuilder b;  b.feed(chunk)* ;  Fingerprints f = b.finish();
// Feed the bytes the client sent (smtp::Host::message_data), not our own trace
// headers: `content` must be the same for the sender's retry, which another
// hop may have given new trace fields. Hence the header fields Received,
// Return-Path, Delivered-To and X-Received (with their folded continuation
// lines, RFC 5322 §2.2.3) are left out of the content hash; everything else,
// the blank line and the body are covered byte for byte.
// Hash once (FORMAT.md "dedup", version 3): the content fingerprint is
//   SHA-256(filtered header block ‖ SHA-256(rest) ‖ store::kKeyTag)
// with the header block and rest split as store/body_key.h splits the stored
// body, so the rest digest is the one the Spool computes for the body key on
// its pool job. Built with a `spooled` offset, the builder hashes only the
// header block (a few KB on the loop) and takes the rest digest in finish();
// built without, it hashes the rest itself (same value). Memory is bounded:
// never the whole message nor a whole line, at most HeaderLines::kMaxLineHead
// octets of a header line and kMaxMessageIdBytes of Message-ID value, however
// long the lines are (a Message-ID longer than that is not used).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dedup/header_lines.h"
#include "store/body_key.h"
#include "store/records.h"
#include "store/sha256.h"

namespace postern::dedup {

using Fingerprint = store::Fingerprint;

struct Fingerprints {
  Fingerprint content{};                       // see above; zero when no rest digest was given
  std::optional<Fingerprint> message_id;       // SHA-256 of "mid:" + message_id_text
  std::optional<std::string> message_id_text;  // normalised, e.g. "<Abc.1@example.org>"
  bool headers_complete = false;               // the header section ended (blank line)
  bool has_subject = false;                    // a Subject field was among the header lines
  std::uint64_t bytes = 0;                     // bytes fed
};

// The Message-ID value normalised: unfolded, trimmed, the first <...> (angle
// brackets kept, whitespace inside dropped), the part after the last '@'
// lowercased (RFC 5322 §3.6.4: domains are case-insensitive, local parts are
// not). Empty when nothing usable is left.
std::string normalize_message_id(std::string_view value);

// SHA-256 of "mid:" + text. REQUIRES: text is normalised.
Fingerprint message_id_fingerprint(std::string_view normalized);

class FingerprintBuilder final : private HeaderLines::Visitor {
 public:
  static constexpr std::size_t kMaxMessageIdBytes = 1024;

  // Hashes the rest itself: finish() gives the complete fingerprints.
  FingerprintBuilder() : lines_(*this) {}
  // For bytes a store::Spool stores after `trace_bytes` octets of our own trace
  // headers, fed in the stored form (what Spool::append returns): the rest is not
  // hashed here; finish(rest_digest) takes it from the spooled body.
  struct Spooled {
    std::uint64_t trace_bytes = 0;
  };
  explicit FingerprintBuilder(Spooled spooled)
      : lines_(*this), split_(spooled.trace_bytes), hash_rest_(false) {}
  FingerprintBuilder(const FingerprintBuilder&) = delete;
  FingerprintBuilder& operator=(const FingerprintBuilder&) = delete;

  void feed(std::string_view chunk);
  // REQUIRES: called once; feed() is not called after it. Built with Spooled
  // and given no digest (a broken DATA), `content` is left zero.
  Fingerprints finish(const store::Digest* rest_digest = nullptr);

 private:
  void on_header_line(std::string_view line, HeaderLine kind) override;
  void on_header_more(std::string_view bytes) override;
  void on_body(std::string_view bytes) override;
  void capture(std::string_view value_part);
  void end_message_id();
  // Hashes the part of `bytes` (the next octets the visitor sees) inside the header block.
  void hash_head(std::string_view bytes, bool keep);

  HeaderLines lines_;
  store::HeaderSplit split_;
  bool hash_rest_ = true;
  store::Sha256 content_;         // the filtered header block, then the rest digest and the tag
  store::Sha256 rest_;            // hash_rest_ only
  std::uint64_t head_bytes_ = 0;  // octets of the header block fed so far
  std::uint64_t visited_ = 0;     // octets the visitor has seen
  std::uint64_t bytes_ = 0;
  bool skipping_ = false;   // the current field is a trace field
  bool capturing_ = false;  // the current field is the (first) Message-ID
  bool mid_overflow_ = false;
  bool has_subject_ = false;
  std::string mid_value_;  // raw value while capturing, bounded
  std::optional<std::string> message_id_;
};

}  // namespace postern::dedup
