// dedup::HeaderLines: splits a message stream into header lines and body bytes, bounded.
//
// Feed the message as received (CRLF line ends) in chunks of any size; the
// Visitor sees each complete header line (line end included) classified as a
// field's first line, a continuation (RFC 5322 §2.2.3 folding: the line starts
// with SP or HTAB) or the blank line that ends the section, and then every
// other byte as body. The classification depends on the bytes only, never on
// where the chunks split. A line that is neither a field nor a continuation
// (no "name:") ends the header section and is passed on as body.
// At most kMaxHeaderBytes of header section are parsed; past that the section
// is treated as body (complete() stays false), so memory is bounded by that
// cap whatever the peer sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace postern::dedup {

enum class HeaderLine { field, continuation, end };

class HeaderLines {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

  struct Visitor {
    virtual ~Visitor() = default;
    // `line` includes its line end (none for an unterminated last line).
    virtual void on_header_line(std::string_view line, HeaderLine kind) = 0;
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
  void complete_line(std::string_view line);

  Visitor& visitor_;
  std::string line_;              // the header line in progress, < kMaxHeaderBytes
  std::size_t header_bytes_ = 0;  // bytes of completed header lines
  bool in_header_ = true;
  bool complete_ = false;
};

// ASCII case-insensitive comparison of field names.
bool same_name(std::string_view a, std::string_view b);

}  // namespace postern::dedup
