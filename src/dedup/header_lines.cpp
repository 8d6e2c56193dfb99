// Header/body splitting with a fixed byte bound, see header_lines.h.
#include "dedup/header_lines.h"

namespace postern::dedup {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view HeaderLines::field_name(std::string_view line) {
  // RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII but ':'); obs-optional
  // (§4.5.8) allows WSP before the colon.
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (name.empty()) return {};
  for (char c : name) {
    if (c < 33 || c > 126) return {};
  }
  return name;
}

void HeaderLines::complete_line(std::string_view line) {
  if (line == "\r\n" || line == "\n") {
    in_header_ = false;
    complete_ = true;
    visitor_.on_header_line(line, HeaderLine::end);
  } else if (line.front() == ' ' || line.front() == '\t') {
    visitor_.on_header_line(line, HeaderLine::continuation);
  } else if (is_field(line)) {
    visitor_.on_header_line(line, HeaderLine::field);
  } else {
    in_header_ = false;
    complete_ = true;
    visitor_.on_body(line);
  }
}

void HeaderLines::feed(std::string_view chunk) {
  while (!chunk.empty() && in_header_) {
    const std::size_t room = kMaxHeaderBytes - header_bytes_ - line_.size();
    std::size_t lf = chunk.find('\n');
    std::size_t take = lf == std::string_view::npos ? chunk.size() : lf + 1;
    if (take > room) {
      // The cap falls inside this line: what is buffered up to the cap, and
      // everything after it, is body. The cut is at a fixed byte offset, so
      // every split of the stream cuts in the same place.
      line_.append(chunk.substr(0, room));
      chunk.remove_prefix(room);
      in_header_ = false;
      if (!line_.empty()) visitor_.on_body(line_);
      line_.clear();
      break;
    }
    if (lf == std::string_view::npos) {
      line_.append(chunk);
      return;
    }
    std::string_view line;
    if (line_.empty()) {
      line = chunk.substr(0, take);
    } else {
      line_.append(chunk.substr(0, take));
      line = line_;
    }
    header_bytes_ += line.size();
    complete_line(line);
    line_.clear();
    chunk.remove_prefix(take);
  }
  if (!chunk.empty()) visitor_.on_body(chunk);
}

void HeaderLines::finish() {
  if (in_header_ && !line_.empty()) {
    std::string line = std::move(line_);
    line_.clear();
    header_bytes_ += line.size();
    complete_line(line);
    in_header_ = false;
    complete_ = false;  // the stream ended inside the header section
  }
}

}  // namespace postern::dedup
