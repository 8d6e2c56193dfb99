// Labelling a partial message, see partial_rewriter.h.
#include "dedup/partial_rewriter.h"

namespace postern::dedup {

std::string partial_prefix(std::uint64_t bytes_received, BreakReason reason, bool has_message_id,
                           bool has_subject) {
  std::string out = "X-Postern-Partial: incomplete delivery (";
  out += reason == BreakReason::timeout ? "timed out" : "connection lost";
  out += " after " + std::to_string(bytes_received) + " bytes);\r\n";
  if (has_message_id) {
    out += " the complete message will replace this one\r\n";
  } else {
    out += " no Message-ID was received, so the complete message cannot replace this one\r\n";
  }
  if (!has_subject) out += "Subject: " + std::string(kIncompleteTag.substr(0, 12)) + "\r\n";
  return out;
}

void PartialRewriter::on_header_line(std::string_view line, HeaderLine kind) {
  if (kind == HeaderLine::field && !tagged_ &&
      same_name(HeaderLines::field_name(line), "Subject")) {
    tagged_ = true;
    std::size_t colon = line.find(':');
    std::string_view rest = line.substr(colon + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::string tagged(line.substr(0, colon + 1));
    tagged += ' ';
    tagged += kIncompleteTag;
    tagged += rest;
    out_(tagged);
    return;
  }
  out_(line);
}

}  // namespace postern::dedup
