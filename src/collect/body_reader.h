// Reads a POP3 multi-line body (RFC 1939 §3) as it arrives: removes the
// byte-stuffed dots and finds the ".\r\n" terminator, in any split, holding
// at most two bytes between calls, so a message of any size streams through.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace postern::collect {

class BodyReader {
 public:
  // Consumes from `in`, appending the un-stuffed body to `out`. Returns the
  // bytes consumed: all of `in`, or fewer when the terminator ended the body
  // (done() is then true; the rest belongs to the next reply), or fewer when
  // the last bytes could still be the start of a terminator (offer them again
  // with more).
  std::size_t read(std::string_view in, std::string& out);
  bool done() const noexcept { return done_; }
  void reset() { *this = BodyReader(); }

 private:
  bool at_line_start_ = true;
  bool done_ = false;
};

}  // namespace postern::collect
