// dedup::PartialRewriter: labels a broken DATA kept as an alert (partial_policy keep-as-alert).
//
// The stored partial is: our trace headers, then partial_prefix() (the
// X-Postern-Partial field, and a tagged Subject when the client sent none),
// then the received bytes streamed through PartialRewriter, which prefixes the
// first Subject field's text with "[INCOMPLETE] ". Only the header section is
// parsed (HeaderLines, which holds at most a line's head, so a line of any length
// streams through); every other byte passes through untouched.
// Typical call sequence: out(partial_prefix(...)); r.feed(chunk)*; r.finish().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dedup/header_lines.h"

namespace postern::dedup {

inline constexpr std::string_view kIncompleteTag = "[INCOMPLETE] ";

enum class BreakReason { connection_lost, timeout };

// "X-Postern-Partial: incomplete delivery (connection lost after N bytes);\r\n
//  the complete message will replace this one\r\n" (folded, RFC 5322 §2.2.3).
// Without a Message-ID the complete copy cannot be matched, and the text says so.
// `has_subject` false adds "Subject: [INCOMPLETE]\r\n".
std::string partial_prefix(std::uint64_t bytes_received, BreakReason reason, bool has_message_id,
                           bool has_subject);

class PartialRewriter final : private HeaderLines::Visitor {
 public:
  using Output = std::function<void(std::string_view)>;
  explicit PartialRewriter(Output out) : out_(std::move(out)), lines_(*this) {}
  PartialRewriter(const PartialRewriter&) = delete;
  PartialRewriter& operator=(const PartialRewriter&) = delete;

  void feed(std::string_view chunk) { lines_.feed(chunk); }
  void finish() { lines_.finish(); }

 private:
  void on_header_line(std::string_view line, HeaderLine kind) override;
  void on_header_more(std::string_view bytes) override { out_(bytes); }
  void on_body(std::string_view bytes) override { out_(bytes); }

  Output out_;
  HeaderLines lines_;
  bool tagged_ = false;
};

}  // namespace postern::dedup
