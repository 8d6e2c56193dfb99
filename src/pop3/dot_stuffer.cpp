// DotStuffer: RFC 1939 §3 byte-stuffing and the TOP line limit, across chunk boundaries.
#include "pop3/dot_stuffer.h"

namespace postern::pop3 {

DotStuffer::DotStuffer(std::optional<std::uint64_t> top_body_lines)
    : body_lines_left_(top_body_lines), in_headers_(top_body_lines.has_value()) {}

bool DotStuffer::append(std::string_view chunk, std::string& out) {
  if (done_) return true;
  out.reserve(out.size() + chunk.size() + 8);
  std::size_t run_start = 0;  // bytes are copied in runs between stuffing points
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (at_line_start_ && c == '.') {
      out.append(chunk.substr(run_start, i - run_start));
      out.push_back('.');
      run_start = i;
    }
    at_line_start_ = false;
    if (c != '\n') {
      if (c != '\r') line_empty_so_far_ = false;
      continue;
    }
    at_line_start_ = true;
    if (body_lines_left_) {
      if (in_headers_) {
        // RFC 5322 §2.1: the first empty line ends the header section.
        if (line_empty_so_far_) in_headers_ = false;
      } else {
        --*body_lines_left_;
      }
      if (!in_headers_ && *body_lines_left_ == 0) {
        out.append(chunk.substr(run_start, i + 1 - run_start));
        last_ = '\n';
        consumed_ += i + 1;
        done_ = true;
        return true;
      }
    }
    line_empty_so_far_ = true;
  }
  if (chunk.size() > run_start) {
    out.append(chunk.substr(run_start));
    last_ = chunk.back();
  }
  consumed_ += chunk.size();
  return false;
}

void DotStuffer::finish(std::string& out) {
  // The stored form (store/stored_form.h) ends every body with CRLF, so RETR adds nothing
  // and sends exactly the listed size. Should a body ever lack it (a damaged store), the
  // terminator must still be recognisable, or the client would read ".\r\n" as text.
  if (last_ == '\r') {
    out += '\n';
  } else if (last_ != '\n') {
    out += "\r\n";
  }
  out += ".\r\n";
  done_ = true;
}

}  // namespace postern::pop3
