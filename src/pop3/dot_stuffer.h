// Turns a stored message, chunk by chunk, into a RETR/TOP multi-line body (RFC 1939 §3, §7).
//
// Stateful across chunks, so a '.' that starts a line at a chunk boundary is still stuffed,
// and a TOP limit counts lines across chunks. It never holds more than the current chunk.
// Typical use: for each chunk { if (stuffer.append(chunk, out)) break; }  stuffer.finish(out).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::pop3 {

class DotStuffer {
 public:
  // top_body_lines: nullopt for RETR (whole message); for TOP n m, m: the headers, the
  // blank line that ends them, then at most m body lines (RFC 1939 §7 TOP).
  explicit DotStuffer(std::optional<std::uint64_t> top_body_lines = std::nullopt);

  // Appends the stuffed form of `chunk` to `out`. Returns true once the TOP limit is reached:
  // the rest of the message is not wanted, so the caller stops reading chunks.
  bool append(std::string_view chunk, std::string& out);
  // Ends the body with CRLF if the stored bytes did not, then the ".\r\n" terminator.
  void finish(std::string& out);
  bool done() const { return done_; }
  // Octets of the stored message taken so far (before stuffing). A TOP whose stream ended
  // with consumed() == the message size sent the whole message (RFC 1939 §7: fetchmail
  // downloads with "TOP n 99999999").
  std::uint64_t consumed() const { return consumed_; }

 private:
  std::optional<std::uint64_t> body_lines_left_;
  bool at_line_start_ = true;
  bool in_headers_;
  bool line_empty_so_far_ = true;  // current line held only an optional CR so far
  char last_ = '\n';               // the last byte emitted; '\n' for an empty body
  bool done_ = false;
  std::uint64_t consumed_ = 0;
};

}  // namespace postern::pop3
