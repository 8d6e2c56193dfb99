// libFuzzer driver for the header parsing behind dedup (dedup::HeaderLines and
// dedup::FingerprintBuilder): a received message, fed whole and in input-chosen splits.
//
// Input: byte 0 = flags (bits 0 and 1 both set: a header line longer than
// HeaderLines::kMaxLineHead in front, so the head/rest path runs), byte 1 = seed of the
// split sizes; the rest is the message as the client sent it.
//
// Invariants: the lines and body HeaderLines reports, and every fingerprint, are the same
// whatever the split (header_lines.h: "depends on the bytes only"); the reported pieces
// put back together are the input; and the content fingerprint ignores a trace field a hop
// puts in front (RFC 5321 §4.4), so a retry that took another path is still recognised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dedup/fingerprint_builder.h"
#include "dedup/header_lines.h"

namespace {

using namespace postern;

void require(bool ok) {
  if (!ok) std::abort();
}

// Records what HeaderLines reports; a long line's pieces and the body bytes are merged,
// since their cuts follow the split, but a line's head never does.
struct Recorder final : dedup::HeaderLines::Visitor {
  std::vector<std::pair<std::string, dedup::HeaderLine>> lines;
  std::vector<std::size_t> heads;  // the size of each line's first piece
  std::string body;
  void on_header_line(std::string_view line, dedup::HeaderLine kind) override {
    require(body.empty());  // no header line after the body started
    require(!line.empty() && line.size() <= dedup::HeaderLines::kMaxLineHead);
    lines.emplace_back(std::string(line), kind);
    heads.push_back(line.size());
  }
  void on_header_more(std::string_view bytes) override {
    require(body.empty() && !lines.empty() && !bytes.empty());
    require(lines.back().first.back() != '\n');  // the line had not ended
    lines.back().first.append(bytes);
  }
  void on_body(std::string_view bytes) override {
    require(!bytes.empty());
    body.append(bytes);
  }
};

struct Split {
  std::uint32_t seed;
  std::size_t next() {
    seed = seed * 1103515245u + 12345u;
    std::size_t n = (seed >> 16) % 23;
    return n == 22 ? 4096 : n;  // empty pieces too: feed("") must be harmless
  }
};

struct Outcome {
  Recorder recorder;
  bool complete = false;
  dedup::Fingerprints fingerprints;
};

void run(std::string_view message, Split* split, Outcome& out) {
  dedup::HeaderLines lines(out.recorder);
  dedup::FingerprintBuilder builder;
  while (!message.empty() || split) {
    const std::size_t n = split ? std::min(split->next(), message.size()) : message.size();
    lines.feed(message.substr(0, n));
    builder.feed(message.substr(0, n));
    message.remove_prefix(n);
    if (message.empty()) break;
  }
  lines.finish();
  out.complete = lines.complete();
  out.fingerprints = builder.finish();
}

bool same(const dedup::Fingerprints& a, const dedup::Fingerprints& b) {
  return a.content == b.content && a.message_id == b.message_id &&
         a.message_id_text == b.message_id_text && a.headers_complete == b.headers_complete &&
         a.has_subject == b.has_subject && a.bytes == b.bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string message;
  const bool padded = (data[0] & 3) == 3;
  if (padded) message = "X-Pad: " + std::string(990 + (data[0] >> 2), 'p') + "\r\n";
  message.append(reinterpret_cast<const char*>(data) + 2, size - 2);

  Outcome whole;
  run(message, nullptr, whole);
  Split split{data[1] * 2654435761u + 7};
  Outcome pieces;
  run(message, &split, pieces);

  require(whole.recorder.lines == pieces.recorder.lines);
  require(whole.recorder.heads == pieces.recorder.heads);
  require(whole.recorder.body == pieces.recorder.body);
  require(whole.complete == pieces.complete);
  require(same(whole.fingerprints, pieces.fingerprints));
  require(whole.fingerprints.bytes == message.size());
  require(whole.fingerprints.headers_complete == whole.complete);

  // Nothing is lost or invented: the lines and the body are the message.
  std::string rebuilt;
  for (const auto& [line, kind] : whole.recorder.lines) rebuilt += line;
  rebuilt += whole.recorder.body;
  require(rebuilt == message);

  // A Message-ID is normalised once: normalising it again changes nothing.
  if (whole.fingerprints.message_id_text) {
    const std::string& text = *whole.fingerprints.message_id_text;
    require(!text.empty() && dedup::normalize_message_id(text) == text);
    require(*whole.fingerprints.message_id == dedup::message_id_fingerprint(text));
  }

  // A hop's trace field in front changes nothing but the byte count, unless the message
  // starts with folding white space (it would continue the trace field).
  if (message.empty() || (message[0] != ' ' && message[0] != '\t')) {
    Outcome traced;
    run("Received: from relay.example.net by mx.example.org; 3 Dec 2026 18:00:00 +0000\r\n" +
            message,
        nullptr, traced);
    require(traced.fingerprints.content == whole.fingerprints.content);
    require(traced.fingerprints.message_id_text == whole.fingerprints.message_id_text);
  }
  return 0;
}
