// smtp::Session framing: how the next octets are cut into command lines, DATA
// body and BDAT chunks, and what happens to a command line before dispatch (its
// length, line ending, control bytes, and another protocol). See session.h.
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

// One command line, cut by core::LineFramer with SMTP's rules (session.cpp builds it):
// CRLF only (§2.3.8), and a line over the limit (§4.5.3.1.4) answered now, not when (if
// ever) its CRLF comes, and discarded in pieces so nobody buffers it (§4.5.3.1.10).
std::size_t Session::take_line(std::string_view rest) {
  const core::LineFramer::Piece piece = framer_.next(rest, command_line_limit());
  switch (piece.kind) {
    case core::LineFramer::Kind::incomplete:
      break;  // net offers it again with more
    case core::LineFramer::Kind::too_long:
      if (refuse_other_protocol(piece.text)) break;
      POSTERN_LOG_INFO("smtp %s event=command-rejected reason=line-too-long",
                       peer_.session_id.c_str());
      answer(replies::command_too_long(command_line_limit()));  // may close: too many errors
      break;
    case core::LineFramer::Kind::discarded:
      break;  // answered when the limit was crossed
    case core::LineFramer::Kind::flood:
      POSTERN_LOG_INFO("smtp %s event=close reason=command-line-without-end octets=%zu",
                       peer_.session_id.c_str(), framer_.discarded());
      close_with(replies::command_line_never_ends(limits_.hostname));
      break;
    case core::LineFramer::Kind::bad_ending:
      // A hand-typed or scripted HTTP request may end its lines with a bare LF.
      if (refuse_other_protocol(piece.text.substr(0, piece.text.find('\r')))) break;
      POSTERN_LOG_INFO("smtp %s event=command-rejected reason=bare-line-ending",
                       peer_.session_id.c_str());
      answer(replies::command_bare_line_ending());
      break;
    case core::LineFramer::Kind::control_byte:
      // Refused whole, before any parsing: a NUL or other control never becomes
      // part of an argument, a trace header or a log line.
      POSTERN_LOG_INFO("smtp %s event=command-rejected reason=control-byte",
                       peer_.session_id.c_str());
      answer(replies::command_control_byte());
      break;
    case core::LineFramer::Kind::line:
      if (!refuse_other_protocol(piece.text)) dispatch(piece.text);
      break;
  }
  return piece.consumed;
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
