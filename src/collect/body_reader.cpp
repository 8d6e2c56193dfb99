// Streaming dot-unstuffing for POP3 multi-line replies.
#include "collect/body_reader.h"

namespace postern::collect {

std::size_t BodyReader::read(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size() && !done_) {
    if (at_line_start_ && in[i] == '.') {
      // RFC 1939 §3: a line starting with "." is either the terminator ".CRLF"
      // or byte-stuffed; the first "." is removed either way.
      if (i + 1 >= in.size()) return i;  // need the next byte
      if (in[i + 1] == '\r') {
        if (i + 2 >= in.size()) return i;
        if (in[i + 2] == '\n') {
          done_ = true;
          return i + 3;
        }
      }
      ++i;  // strip the stuffing dot
      at_line_start_ = false;
      continue;
    }
    const std::size_t nl = in.find('\n', i);
    const std::size_t end = nl == std::string_view::npos ? in.size() : nl + 1;
    out.append(in.substr(i, end - i));
    at_line_start_ = nl != std::string_view::npos;
    i = end;
  }
  return i;
}

}  // namespace postern::collect
