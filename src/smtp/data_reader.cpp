// smtp::DataReader: the DATA body decoder (see data_reader.h).
#include "smtp/data_reader.h"

#include <algorithm>
#include <cstring>

namespace postern::smtp {

void DataReader::fail(AbortReason reason) {
  if (!failure_) failure_ = reason;
}

void DataReader::emit(Sink& sink, std::string_view octets) const {
  if (failure_) return;
  while (!octets.empty()) {
    std::string_view piece = octets.substr(0, kMaxChunk);
    sink.body(piece);
    octets.remove_prefix(piece.size());
  }
}

DataReader::Step DataReader::feed(std::string_view in, Sink& sink) {
  std::size_t i = 0;
  std::size_t run = 0;  // start of the octets not yet given to the sink
  auto flush = [&](std::size_t end) {
    if (end > run) emit(sink, in.substr(run, end - run));
    run = end;
  };
  // Counts `octets` of content starting at in[at]. The sink gets exactly the
  // octets before the first one past the size limit, however the input was
  // split, so what a host sees before message_abort() is deterministic. A
  // stuffed dot is not content and is never counted.
  auto count = [&](std::size_t octets, std::size_t at) {
    if (!failure_) {
      // While nothing failed, size_ is within the limit.
      std::uint64_t room = max_message_bytes_ - size_;
      if (octets > room) {
        flush(at + static_cast<std::size_t>(room));
        fail(AbortReason::too_big);
      }
    }
    size_ += octets;
  };
  // The offset of the next `c` at or after i (in.size() when none); `at` caches it.
  std::size_t next_cr = 0, next_lf = 0;
  bool have_cr = false, have_lf = false;
  auto next_of = [&](char c, std::size_t& at) {
    bool& have = c == '\r' ? have_cr : have_lf;
    if (!have || at < i) {
      const void* hit = std::memchr(in.data() + i, c, in.size() - i);
      at = hit != nullptr ? static_cast<std::size_t>(static_cast<const char*>(hit) - in.data())
                          : in.size();
      have = true;
    }
    return at;
  };
  auto bare = [&](std::size_t at) {
    flush(at);
    fail(AbortReason::bad_line_ending);
  };
  while (i < in.size()) {
    const char c = in[i];
    switch (mode_) {
      case Mode::line_start:
        if (c == '.') {
          // RFC 5321 §4.5.2: a leading dot is either the terminator or stuffing;
          // it is never content.
          flush(i);
          run = ++i;
          mode_ = Mode::dot;
        } else {
          mode_ = Mode::mid_line;
        }
        break;
      case Mode::dot:
        if (c == '\r') {
          run = ++i;  // held until we know whether LF follows
          mode_ = Mode::dot_cr;
        } else {
          mode_ = Mode::mid_line;  // "..x": the dot was stuffing, x is content
        }
        break;
      case Mode::dot_cr:
        if (c == '\n') {
          ++i;
          return Step{i, true};
        }
        count(1, i);  // ".\r" + other: a bare CR after a stuffed dot
        bare(i);
        mode_ = Mode::mid_line;
        break;
      case Mode::cr:
        if (c == '\n') {
          emit(sink, "\r");
          run = i;  // the LF starts the next run
          count(1, i);
          ++i;
          mode_ = Mode::line_start;
        } else {
          bare(i);  // the held CR was bare
          mode_ = Mode::mid_line;
        }
        break;
      case Mode::mid_line: {
        // Not find_first_of("\r\n"): libstdc++ calls memchr on the set once per
        // octet, which was the loop thread's top cost under 100 KB bodies. One
        // vectorised memchr per CR and per LF instead; each found position is kept
        // until passed, so input without one of them is still scanned once (linear).
        const std::size_t stop = std::min(next_of('\r', next_cr), next_of('\n', next_lf));
        count(stop - i, i);
        i = stop;
        if (i == in.size()) break;
        if (in[i] == '\n') {  // bare LF: content, not a line end
          bare(i);
          count(1, i);
          ++i;
        } else if (i + 1 == in.size()) {  // CR at the end of the input: hold it
          flush(i);
          count(1, i);
          run = ++i;
          mode_ = Mode::cr;
        } else if (in[i + 1] == '\n') {
          count(2, i);
          i += 2;
          mode_ = Mode::line_start;
        } else {  // bare CR
          bare(i);
          count(1, i);
          ++i;
        }
        break;
      }
    }
  }
  flush(in.size());
  return Step{in.size(), false};
}

}  // namespace postern::smtp
