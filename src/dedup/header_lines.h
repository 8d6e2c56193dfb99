// dedup::HeaderLines: splits a message stream into header lines and body bytes, streamed.
//
// Feed the message as received (CRLF line ends) in chunks of any size; the
// Visitor sees each header line classified as a field's first line, a
// continuation (RFC 5322 §2.2.3 folding: the line starts with SP or HTAB) or
// the blank line that ends the section, and then every other byte as body. A
// line that is neither a field nor a continuation (no "name:") ends the header
// section and is passed on as body.
//
// Lines are never held whole: at most kMaxLineHead octets of a line are buffered,
// enough to classify it (RFC 5322 §2.1.1 allows 998 characters and CRLF, and a
// field name must end with its colon within that). A line that fits comes in one
// on_header_line(); a longer one comes as its head (the first kMaxLineHead
// octets, classified on those alone) and then on_header_more() pieces up to and
// including its line end. So memory is bounded by kMaxLineHead whatever the
// peer sends, and the classification and the bytes each visitor call sees
// together depend on the bytes only, never on where the chunks split.
// Typical call sequence: feed(chunk)*; finish().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postern::dedup {

enum class HeaderLine { field, continuation, end };

class HeaderLines {
 public:
  static constexpr std::size_t kMaxLineHead = 1000;

  struct Visitor {
    virtual ~Visitor() = default;
    // A header line, or the head of a long one. `line` includes its line end
    // when it has one within the head (none for an unterminated last line).
    virtual void on_header_line(std::string_view line, HeaderLine kind) = 0;
    // More octets of the long header line begun by the last on_header_line().
    virtual void on_header_more(std::string_view bytes) = 0;
    virtual void on_body(std::string_view bytes) = 0;
  };

  // Borrows `visitor` for the lifetime of this object.
  explicit HeaderLines(Visitor& visitor) : visitor_(visitor) {}

  void feed(std::string_view chunk);
  // End of stream: an unterminated header line is delivered as it is.
  void finish();

  bool in_header() const { return in_header_; }
  // True once the header section ended with a blank or non-field line.
  bool complete() const { return complete_; }

  // The field name of a field line ("Subject" for "Subject: x"), empty if none.
  static std::string_view field_name(std::string_view line);
  static bool is_field(std::string_view line) { return !field_name(line).empty(); }

 private:
  // What a header line (or a long line's head) is; nullopt: it ends the section.
  static std::optional<HeaderLine> classify(std::string_view line);
  // Hands `line` to the visitor; `whole`: it is the complete line, not a head.
  void begin_line(std::string_view line, bool whole);

  Visitor& visitor_;
  std::string line_;           // the head of the header line in progress, < kMaxLineHead
  bool in_long_line_ = false;  // the head was delivered; the rest goes to on_header_more
  bool in_header_ = true;
  bool complete_ = false;
};

// ASCII case-insensitive comparison of field names.
bool same_name(std::string_view a, std::string_view b);

}  // namespace postern::dedup
