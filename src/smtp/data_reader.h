// smtp::DataReader: decodes the DATA body (RFC 5321 §4.1.1.4, §4.5.2) as a stream.
//
// It removes dot-stuffing, finds the terminating <CRLF>.<CRLF> and counts octets,
// without buffering: body octets go to the sink as views into the caller's input
// (at most kMaxChunk each), so memory never holds a message, nor a line: a text
// line may be of any length (RFC 5321 §4.5.3.1 asks receivers to impose no limit
// where they can), and only max_message_bytes bounds the whole.
//
// Only CRLF ends a line. A bare CR or LF is content that fails the message
// (RFC 5321 §2.3.8), so "\n.\n", "\r.\r", "\n.\r\n" or "\r\n.\n" never end the
// data and no second message can be smuggled inside the first (CVE-2023-51764).
// After the first failure the reader keeps consuming to the true end but sends
// nothing more to the sink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "smtp/host.h"

namespace postern::smtp {

class DataReader {
 public:
  static constexpr std::size_t kMaxChunk = 64 * 1024;

  struct Sink {
    virtual void body(std::string_view unstuffed) = 0;

   protected:
    ~Sink() = default;
  };

  struct Step {
    std::size_t consumed = 0;  // octets of the input used, the terminator included
    bool finished = false;     // the terminating <CRLF>.<CRLF> was consumed
  };

  // The reader starts at the beginning of a line: the DATA command's CRLF is the
  // first CRLF of the terminator (RFC 5321 §4.1.1.4), so ".\r\n" at once ends an
  // empty message.
  explicit DataReader(std::uint64_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Consumes all of `in` or up to the end of the terminator.
  // REQUIRES: !finished from an earlier call.
  Step feed(std::string_view in, Sink& sink);

  // The first reason the message fails, if any: too_big or bad_line_ending.
  std::optional<AbortReason> failure() const { return failure_; }
  // Body octets after unstuffing, terminator excluded.
  std::uint64_t size() const { return size_; }

 private:
  enum class Mode {
    line_start,  // after CRLF
    dot,         // after a '.' at the start of a line
    dot_cr,      // after ".\r" at the start of a line
    mid_line,
    cr,  // a CR was the last octet of the previous input
  };

  void fail(AbortReason reason);
  void emit(Sink& sink, std::string_view octets) const;

  const std::uint64_t max_message_bytes_;
  Mode mode_ = Mode::line_start;
  std::uint64_t size_ = 0;
  std::optional<AbortReason> failure_;
};

}  // namespace postern::smtp
