// Streaming duplicate fingerprints, see fingerprint_builder.h.
#include "dedup/fingerprint_builder.h"

#include <algorithm>

namespace postern::dedup {
namespace {

// Fields a hop adds or rewrites (RFC 5321 §4.4 trace fields, and the
// Delivered-To / X-Received lines of common MTAs and providers): a retry that
// took another path differs only there.
constexpr std::string_view kTraceFields[] = {"Received", "Return-Path", "Delivered-To",
                                             "X-Received"};

bool is_trace_field(std::string_view name) {
  for (auto f : kTraceFields) {
    if (same_name(name, f)) return true;
  }
  return false;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::string normalize_message_id(std::string_view value) {
  while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_space(value.back())) value.remove_suffix(1);
  std::size_t open = value.find('<');
  if (open != std::string_view::npos) {
    std::size_t close = value.find('>', open);
    if (close != std::string_view::npos) value = value.substr(open, close - open + 1);
  }
  std::string out;
  for (char c : value) {
    if (!is_space(c)) out.push_back(c);
  }
  if (out.empty() || out == "<>") return {};
  std::size_t at = out.rfind('@');
  if (at != std::string::npos) {
    for (std::size_t i = at + 1; i < out.size(); ++i) {
      if (out[i] >= 'A' && out[i] <= 'Z') out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
  }
  return out;
}

Fingerprint message_id_fingerprint(std::string_view normalized) {
  store::Sha256 h;
  h.update("mid:");
  h.update(normalized);
  return h.finish();
}

void FingerprintBuilder::feed(std::string_view chunk) {
  bytes_ += chunk.size();
  const std::size_t head = split_.feed(chunk);
  head_bytes_ += head;
  if (hash_rest_ && head < chunk.size()) rest_.update(chunk.substr(head));
  // Past the header block, lines are still parsed while the header section lasts
  // (a Message-ID beyond kMaxHeaderBlock), but nothing more is hashed here.
  if (split_.ended() && !lines_.in_header() && visited_ >= head_bytes_) return;
  lines_.feed(chunk);
}

// The visitor sees every octet once, in order, possibly later than fed (a line
// head is held until its end): `visited_` places each piece in the stream.
void FingerprintBuilder::hash_head(std::string_view bytes, bool keep) {
  const std::uint64_t at = visited_;
  visited_ += bytes.size();
  if (!keep || at >= head_bytes_) return;
  const std::uint64_t in_block = std::min<std::uint64_t>(bytes.size(), head_bytes_ - at);
  content_.update(bytes.substr(0, static_cast<std::size_t>(in_block)));
}

void FingerprintBuilder::end_message_id() {
  if (!capturing_) return;
  capturing_ = false;
  if (!mid_overflow_) {
    std::string normalized = normalize_message_id(mid_value_);
    if (!normalized.empty()) message_id_ = std::move(normalized);
  }
  mid_value_.clear();
  mid_value_.shrink_to_fit();
}

// Unfolding (RFC 5322 §2.2.3) removes the CRLF; the WSP stays. Every CR and LF
// is dropped (normalize_message_id drops them anyway), so the count, and with
// it the overflow, is the same however the line arrived.
void FingerprintBuilder::capture(std::string_view value_part) {
  if (!capturing_ || mid_overflow_) return;
  for (char c : value_part) {
    if (c == '\r' || c == '\n') continue;
    if (mid_value_.size() == kMaxMessageIdBytes) {
      mid_overflow_ = true;
      mid_value_.clear();
      return;
    }
    mid_value_.push_back(c);
  }
}

void FingerprintBuilder::on_header_more(std::string_view bytes) {
  capture(bytes);
  hash_head(bytes, !skipping_);
}

void FingerprintBuilder::on_header_line(std::string_view line, HeaderLine kind) {
  if (kind == HeaderLine::continuation) {
    capture(line);
    hash_head(line, !skipping_);
    return;
  }
  end_message_id();
  skipping_ = false;
  if (kind == HeaderLine::field) {
    std::string_view name = HeaderLines::field_name(line);
    skipping_ = is_trace_field(name);
    if (same_name(name, "Subject")) has_subject_ = true;
    if (!message_id_ && same_name(name, "Message-ID")) {
      capturing_ = true;
      mid_overflow_ = false;
      mid_value_.clear();
      capture(line.substr(line.find(':') + 1));
    }
  }
  hash_head(line, !skipping_);
}

void FingerprintBuilder::on_body(std::string_view bytes) {
  end_message_id();
  skipping_ = false;
  hash_head(bytes, true);
}

Fingerprints FingerprintBuilder::finish(const store::Digest* rest_digest) {
  lines_.finish();
  end_message_id();
  Fingerprints out;
  store::Digest own{};
  if (hash_rest_) {
    own = rest_.finish();
    rest_digest = &own;
  }
  if (rest_digest != nullptr) {
    content_.update(store::as_view(*rest_digest));
    content_.update(store::kKeyTag);
    out.content = content_.finish();
  }
  out.headers_complete = lines_.complete();
  out.has_subject = has_subject_;
  out.bytes = bytes_;
  if (message_id_) {
    out.message_id = message_id_fingerprint(*message_id_);
    out.message_id_text = message_id_;
  }
  return out;
}

}  // namespace postern::dedup
