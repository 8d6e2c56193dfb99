// Header/body splitting with a bounded line head, see header_lines.h.
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

std::optional<HeaderLine> HeaderLines::classify(std::string_view line) {
  if (line == "\r\n" || line == "\n") return HeaderLine::end;
  if (line.front() == ' ' || line.front() == '\t') return HeaderLine::continuation;
  if (is_field(line)) return HeaderLine::field;
  return std::nullopt;
}

void HeaderLines::begin_line(std::string_view line, bool whole) {
  std::optional<HeaderLine> kind = classify(line);
  if (!kind) {
    in_header_ = false;
    complete_ = true;
    visitor_.on_body(line);
    return;
  }
  if (*kind == HeaderLine::end) {
    in_header_ = false;
    complete_ = true;
  }
  in_long_line_ = !whole;
  visitor_.on_header_line(line, *kind);
}

void HeaderLines::feed(std::string_view chunk) {
  while (!chunk.empty() && in_header_) {
    const std::size_t lf = chunk.find('\n');
    if (in_long_line_) {
      const std::size_t take = lf == std::string_view::npos ? chunk.size() : lf + 1;
      visitor_.on_header_more(chunk.substr(0, take));
      chunk.remove_prefix(take);
      if (lf != std::string_view::npos) in_long_line_ = false;
      continue;
    }
    const std::size_t room = kMaxLineHead - line_.size();
    if (lf != std::string_view::npos && lf < room) {
      // The whole line is here: straight from the chunk when nothing is buffered.
      std::string_view line = chunk.substr(0, lf + 1);
      if (!line_.empty()) {
        line_.append(line);
        line = line_;
      }
      begin_line(line, /*whole=*/true);
      line_.clear();
      chunk.remove_prefix(lf + 1);
      continue;
    }
    if (chunk.size() < room) {
      line_.append(chunk);
      return;
    }
    // kMaxLineHead octets and no line end: classify on the head, stream the rest.
    // The cut is at a fixed octet of the line, so every split cuts the same way.
    line_.append(chunk.substr(0, room));
    chunk.remove_prefix(room);
    begin_line(line_, /*whole=*/false);
    line_.clear();
  }
  if (!chunk.empty()) visitor_.on_body(chunk);
}

void HeaderLines::finish() {
  if (!in_header_) return;
  if (!line_.empty()) {
    std::string line = std::move(line_);
    line_.clear();
    begin_line(line, /*whole=*/true);
  }
  in_long_line_ = false;
  in_header_ = false;
  complete_ = false;  // the stream ended inside the header section
}

}  // namespace postern::dedup
