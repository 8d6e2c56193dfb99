// smtp::Session framing: how the next octets are cut into command lines, DATA
// body and BDAT chunks, and what happens to a command line before dispatch (its
// length, line ending, control bytes, and another protocol). See session.h.
#include <algorithm>

#include "core/log.h"
#include "smtp/session.h"
#include "smtp/syntax.h"

namespace postern::smtp {

std::size_t Session::feed(std::string_view bytes) {
  std::size_t used = 0;
  while (used < bytes.size() && wants_input()) {
    std::string_view rest = bytes.substr(used);
    std::size_t n = 0;
    switch (framing_) {
      case Framing::line:
        n = take_line(rest);
        break;
      case Framing::discard_line:
        n = discard_line(rest);
        break;
      case Framing::data_body:
        n = feed_data(rest);
        break;
      case Framing::chunk:
        n = feed_chunk(rest);
        break;
    }
    if (n == 0) break;  // an incomplete command line: net offers it again with more
    used += n;
  }
  return used;
}

std::size_t Session::take_line(std::string_view rest) {
  const std::size_t limit = command_line_limit();
  std::size_t lf = rest.substr(0, limit).find('\n');
  if (lf == std::string_view::npos) {
    if (rest.size() < limit) return 0;
    if (refuse_other_protocol(rest.substr(0, limit))) return limit;
    // Longer than the limit (§4.5.3.1.4): answered now, not when (if ever) its
    // CRLF comes, and discarded in pieces so nobody buffers it (§4.5.3.1.10).
    POSTERN_LOG_INFO("smtp %s event=command-rejected reason=line-too-long",
                     peer_.session_id.c_str());
    framing_ = Framing::discard_line;
    discarded_ = limit;
    answer(replies::command_too_long(limit));  // may close: too many errors
    return limit;
  }
  std::string_view line = rest.substr(0, lf);
  // §2.3.8: commands end with CRLF; a bare CR or LF is refused, never guessed at.
  if (line.empty() || line.back() != '\r' || line.find('\r') != line.size() - 1) {
    // A hand-typed or scripted HTTP request may end its lines with a bare LF.
    if (refuse_other_protocol(line.substr(0, line.find('\r')))) return lf + 1;
    POSTERN_LOG_INFO("smtp %s event=command-rejected reason=bare-line-ending",
                     peer_.session_id.c_str());
    answer(replies::command_bare_line_ending());
    return lf + 1;
  }
  line.remove_suffix(1);
  if (has_control_byte(line)) {
    // Refused whole, before any parsing: a NUL or other control never becomes
    // part of an argument, a trace header or a log line.
    POSTERN_LOG_INFO("smtp %s event=command-rejected reason=control-byte",
                     peer_.session_id.c_str());
    answer(replies::command_control_byte());
    return lf + 1;
  }
  if (!refuse_other_protocol(line)) dispatch(line);
  return lf + 1;
}

std::size_t Session::discard_line(std::string_view rest) {
  const std::size_t room = limits_.max_discarded_command_bytes - discarded_;
  std::size_t lf = rest.substr(0, room).find('\n');
  if (lf != std::string_view::npos) {
    framing_ = Framing::line;  // answered when the limit was crossed
    return lf + 1;
  }
  std::size_t n = std::min(rest.size(), room);
  discarded_ += n;
  if (discarded_ >= limits_.max_discarded_command_bytes) {
    POSTERN_LOG_INFO("smtp %s event=close reason=command-line-without-end octets=%zu",
                     peer_.session_id.c_str(), discarded_);
    close_with(replies::command_line_never_ends(limits_.hostname));
  }
  return n;
}

// Like Postfix's smtpd_forbidden_commands, but only before EHLO/HELO: that is
// where a browser's or proxy's request lands (cross-protocol attacks such as
// ALPACA), while a line looking like a header field later in a session is more
// likely a confused mail client, which the ordinary 500 replies serve better.
bool Session::refuse_other_protocol(std::string_view line) {
  if (state_ != State::connected || !looks_like_http(line)) return false;
  POSTERN_LOG_INFO("smtp %s event=close reason=other-protocol", peer_.session_id.c_str());
  close_with(replies::other_protocol());
  return true;
}

}  // namespace postern::smtp
