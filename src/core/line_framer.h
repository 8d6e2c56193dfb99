// core::LineFramer: cuts a protocol's command lines out of a byte stream, sans-I/O and in
// bounded memory. SMTP (smtp/framing.cpp) and POP3 (pop3/session.cpp) use it for their
// command lines; the rules where their RFCs differ are LineRules.
//
// What it owns, once for both: a line is complete at its LF; a line longer than the
// caller's limit is reported as soon as the limit is crossed (not when, if ever, its LF
// comes), then consumed and dropped in pieces up to that LF, never held; past
// LineRules::max_discarded octets of one line without an LF the peer is flooding.
//
// Typical use (the session's feed loop):
//   while (used < bytes.size() && wants_input()) {
//     LineFramer::Piece piece = framer_.next(bytes.substr(used), limit);
//     if (piece.kind == LineFramer::Kind::incomplete) break;  // net offers it again
//     used += piece.consumed;
//     switch (piece.kind) { ... }                               // answer, dispatch, close
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace postern::core {

// How a protocol ends its command lines.
enum class LineEnding : std::uint8_t {
  // CRLF only (SMTP, RFC 5321 §2.3.8: a bare CR or LF is never a line end): a line whose
  // LF has no CR before it, or with a CR anywhere else, is Kind::bad_ending.
  crlf,
  // CRLF or a bare LF (POP3, as popa3d: client to server POP3 carries only commands, never
  // relayed content, so the leniency smuggles nothing). A CR elsewhere stays in the line,
  // where it is a control byte.
  crlf_or_lf,
};

struct LineRules {
  LineEnding ending = LineEnding::crlf;
  // Octets of one over-long line (counted from its first octet, the LF included) that are
  // dropped before the peer is taken for a flood (Kind::flood). A line of exactly this
  // many octets still ends normally.
  std::size_t max_discarded = 64 * 1024;
};

class LineFramer {
 public:
  enum class Kind : std::uint8_t {
    incomplete,    // no LF yet and under the limit: nothing consumed, offer it again with more
    line,          // a command line; `text` without its line ending
    too_long,      // the limit was crossed; `text` is the line's first `limit` octets
    bad_ending,    // LineEnding::crlf broken; `text` is the line before its LF, CRs included
    control_byte,  // a C0 control or DEL in the line; `text` without its line ending
    discarded,     // more of an over-long line dropped (its LF included, if it came)
    flood,         // max_discarded octets of one line without an LF: close the connection
  };
  struct Piece {
    Kind kind = Kind::incomplete;
    std::size_t consumed = 0;  // octets of `bytes` this piece used up
    std::string_view text;     // points into `bytes`; empty for incomplete/discarded/flood
  };

  explicit LineFramer(LineRules rules) : rules_(rules) {}

  // The next piece of `bytes`. `limit` is the longest line allowed now, in octets with its
  // line ending (it may change between calls, e.g. POP3's AUTH continuation lines).
  // REQUIRES: limit > 0, limit <= rules.max_discarded.
  Piece next(std::string_view bytes, std::size_t limit);

  // Inside an over-long line, dropping it up to its LF.
  bool discarding() const { return discarding_; }
  // Octets of the current over-long line dropped so far (for the flood's log line).
  std::size_t discarded() const { return discarded_; }
  // Forgets a half-dropped line (RFC 2595 §4: nothing from before TLS carries over).
  void reset() {
    discarding_ = false;
    discarded_ = 0;
  }

 private:
  Piece discard(std::string_view bytes);
  Piece complete(std::string_view raw, std::size_t consumed) const;

  LineRules rules_;
  bool discarding_ = false;
  std::size_t discarded_ = 0;
};

}  // namespace postern::core
