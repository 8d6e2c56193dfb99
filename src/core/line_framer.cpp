// core::LineFramer: command lines, over-long lines and their bounded discard (line_framer.h).
#include "core/line_framer.h"

#include <algorithm>

#include "core/ascii.h"

namespace postern::core {

LineFramer::Piece LineFramer::next(std::string_view bytes, std::size_t limit) {
  if (discarding_) return discard(bytes);
  // Only the first `limit` octets are searched: a line is over-long whatever follows.
  const std::size_t lf = bytes.substr(0, limit).find('\n');
  if (lf != std::string_view::npos) return complete(bytes.substr(0, lf), lf + 1);
  if (bytes.size() < limit) return Piece{};
  // `limit` octets and no LF: the line cannot fit any more. It is reported now and its
  // octets are dropped as they come, so nobody buffers it.
  discarding_ = true;
  discarded_ = limit;
  return Piece{Kind::too_long, limit, bytes.substr(0, limit)};
}

LineFramer::Piece LineFramer::discard(std::string_view bytes) {
  const std::size_t room = rules_.max_discarded - std::min(discarded_, rules_.max_discarded);
  const std::size_t lf = bytes.substr(0, room).find('\n');
  if (lf != std::string_view::npos) {
    reset();  // the over-long line ends here; it was answered when the limit was crossed
    return Piece{Kind::discarded, lf + 1, {}};
  }
  const std::size_t n = std::min(bytes.size(), room);
  discarded_ += n;
  if (discarded_ >= rules_.max_discarded) return Piece{Kind::flood, n, {}};
  return Piece{Kind::discarded, n, {}};
}

LineFramer::Piece LineFramer::complete(std::string_view raw, std::size_t consumed) const {
  std::string_view line = raw;
  if (rules_.ending == LineEnding::crlf) {
    // RFC 5321 §2.3.8: CRLF and nothing else; a bare CR or LF is refused, never guessed at.
    if (line.empty() || line.back() != '\r' || line.find('\r') != line.size() - 1) {
      return Piece{Kind::bad_ending, consumed, raw};
    }
    line.remove_suffix(1);
  } else if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (has_control_byte(line)) return Piece{Kind::control_byte, consumed, line};
  return Piece{Kind::line, consumed, line};
}

}  // namespace postern::core
