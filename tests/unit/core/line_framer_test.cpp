// Tests for core::LineFramer: whole, byte at a time and in random splits (a driver that
// keeps the unconsumed rest, as net does), over-long lines, the CRLF / bare LF rules, the
// control-byte check and the discard bound.
#include "core/line_framer.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

using postern::core::LineEnding;
using postern::core::LineFramer;
using postern::core::LineRules;

namespace {

using Kind = LineFramer::Kind;

const char* name(Kind kind) {
  switch (kind) {
    case Kind::incomplete:
      return "incomplete";
    case Kind::line:
      return "line";
    case Kind::too_long:
      return "too_long";
    case Kind::bad_ending:
      return "bad_ending";
    case Kind::control_byte:
      return "control_byte";
    case Kind::discarded:
      return "discarded";
    case Kind::flood:
      return "flood";
  }
  return "?";
}

struct Run {
  std::vector<std::string> events;  // "line:NOOP", "too_long", ... (discarded pieces left out)
  std::size_t peak_buffer = 0;      // the most a caller ever had to hold
  std::size_t leftover = 0;         // unconsumed when the input ended (or at a flood)
  bool flooded = false;
};

// Feeds `input` in pieces of the sizes `cut` picks, keeping what next() did not consume
// like net's input buffer; stops at a flood (the session closes there).
template <class Cut>
Run drive(const std::string& input, LineRules rules, std::size_t limit, Cut cut) {
  LineFramer framer(rules);
  Run run;
  std::string buffer;
  std::size_t offered = 0;
  while (offered < input.size() && !run.flooded) {
    const std::size_t n = std::min(cut(), input.size() - offered);
    buffer.append(input, offered, n);
    offered += n;
    run.peak_buffer = std::max(run.peak_buffer, buffer.size());
    std::size_t used = 0;
    while (used < buffer.size()) {
      LineFramer::Piece piece = framer.next(std::string_view(buffer).substr(used), limit);
      if (piece.kind == Kind::incomplete) {
        CHECK(piece.consumed == 0);
        break;
      }
      REQUIRE(piece.consumed > 0);
      REQUIRE(piece.consumed <= buffer.size() - used);
      used += piece.consumed;
      if (piece.kind == Kind::discarded) continue;  // how many pieces depends on the split
      std::string event = name(piece.kind);
      if (piece.kind == Kind::line || piece.kind == Kind::control_byte ||
          piece.kind == Kind::bad_ending) {
        event += ":" + std::string(piece.text);
      }
      run.events.push_back(event);
      if (piece.kind == Kind::flood) {
        run.flooded = true;
        break;
      }
    }
    buffer.erase(0, used);
  }
  run.leftover = buffer.size() + (input.size() - offered);
  return run;
}

// Whole, a byte at a time, and in random splits from fixed seeds: all must agree.
Run all_ways(const std::string& input, LineRules rules, std::size_t limit) {
  Run whole = drive(input, rules, limit, [&] { return input.size(); });
  Run bytes = drive(input, rules, limit, [] { return std::size_t{1}; });
  CHECK(bytes.events == whole.events);
  CHECK(bytes.leftover == whole.leftover);
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    Run random = drive(input, rules, limit, [&] { return std::size_t{1} + rng() % 53; });
    CAPTURE(seed);
    CHECK(random.events == whole.events);
    CHECK(random.leftover == whole.leftover);
  }
  // Memory is bounded by the line limit, whatever the split (plus the piece just offered).
  CHECK(bytes.peak_buffer <= limit);
  return whole;
}

const LineRules kSmtp{LineEnding::crlf, 4096};
const LineRules kPop3{LineEnding::crlf_or_lf, 4096};

}  // namespace

TEST_CASE("complete lines come out without their line ending; a partial one waits") {
  for (LineRules rules : {kSmtp, kPop3}) {
    Run run = all_ways("EHLO a.example\r\nNOOP\r\n\r\nQUI", rules, 512);
    CHECK(run.events == std::vector<std::string>{"line:EHLO a.example", "line:NOOP", "line:"});
    CHECK(run.leftover == 3);  // "QUI": held until its LF comes
  }
}

TEST_CASE("CRLF only: a bare LF or a CR inside the line is a bad ending, never guessed at") {
  Run run = all_ways("NOOP\nNO\rOP\r\n\nNOOP\r\r\nNOOP\r\n", kSmtp, 512);
  CHECK(run.events == std::vector<std::string>{"bad_ending:NOOP", "bad_ending:NO\rOP\r",
                                               "bad_ending:", "bad_ending:NOOP\r\r", "line:NOOP"});
}

TEST_CASE("CRLF or bare LF: both end a line; a stray CR stays and is a control byte") {
  Run run = all_ways("USER a\nPASS b\r\nNO\rOP\r\nX\r\r\n", kPop3, 255);
  CHECK(run.events == std::vector<std::string>{"line:USER a", "line:PASS b", "control_byte:NO\rOP",
                                               "control_byte:X\r"});
}

TEST_CASE("every C0 control and DEL is reported, the line cut all the same") {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\r' || c == '\n') continue;
    const std::string line = std::string("NOOP x") + static_cast<char>(c);
    for (LineRules rules : {kSmtp, kPop3}) {
      CAPTURE(c);
      Run run = all_ways(line + "\r\nNOOP\r\n", rules, 512);
      CHECK(run.events == std::vector<std::string>{"control_byte:" + line, "line:NOOP"});
    }
  }
  Run del = all_ways("a\x7f\r\n", kSmtp, 512);
  CHECK(del.events == std::vector<std::string>{"control_byte:a\x7f"});
}

TEST_CASE("the limit counts the line ending: limit octets fit, one more is too long") {
  const std::string fits = std::string(253, 'x') + "\r\n";  // 255 with its CRLF
  const std::string over = std::string(254, 'x') + "\r\n";
  for (LineRules rules : {kSmtp, kPop3}) {
    Run run = all_ways(fits + over + "NOOP\r\n", rules, 255);
    CHECK(run.events ==
          std::vector<std::string>{"line:" + std::string(253, 'x'), "too_long", "line:NOOP"});
  }
  // A bare LF counts one octet where the rules accept it.
  Run lf = all_ways(std::string(254, 'y') + "\n", kPop3, 255);
  CHECK(lf.events == std::vector<std::string>{"line:" + std::string(254, 'y')});
}

TEST_CASE("an over-long line is reported as the limit is crossed, before any LF") {
  LineFramer framer(kSmtp);
  const std::string head = "GET / HTTP/1.1" + std::string(600, 'x');
  LineFramer::Piece piece = framer.next(head, 512);
  CHECK(piece.kind == Kind::too_long);
  CHECK(piece.consumed == 512);
  CHECK(piece.text == std::string_view(head).substr(0, 512));  // for a look at what it is
  CHECK(framer.discarding());
  CHECK(framer.discarded() == 512);
  piece = framer.next(std::string_view(head).substr(512), 512);
  CHECK(piece.kind == Kind::discarded);
  CHECK(piece.consumed == head.size() - 512);  // dropped as it comes, never held
  piece = framer.next("tail\r\nNOOP\r\n", 512);
  CHECK(piece.kind == Kind::discarded);
  CHECK(piece.consumed == 6);  // up to and including its LF
  CHECK_FALSE(framer.discarding());
  piece = framer.next("NOOP\r\n", 512);
  CHECK(piece.kind == Kind::line);
  CHECK(piece.text == "NOOP");
}

TEST_CASE("the discard bound: a line of max_discarded octets ends, one more floods") {
  for (LineRules rules : {kSmtp, kPop3}) {
    // 4095 octets and its LF: 4096 in all, the bound itself, still a line that ends.
    Run at = all_ways(std::string(4095, 'x') + "\nNOOP\r\n", rules, 512);
    CHECK(at.events == std::vector<std::string>{"too_long", "line:NOOP"});
    CHECK_FALSE(at.flooded);
    // 4096 octets without an LF: the flood is known before the next octet arrives.
    Run over = all_ways(std::string(4096, 'x') + "\r\nNOOP\r\n", rules, 512);
    CHECK(over.events == std::vector<std::string>{"too_long", "flood"});
    CHECK(over.leftover == 8);  // the rest is never read
  }
}

TEST_CASE("100 KB without an LF floods at the bound with memory bounded by the limit") {
  const std::string flood(100 * 1000, 'z');
  Run run = all_ways(flood, kPop3, 255);
  CHECK(run.events == std::vector<std::string>{"too_long", "flood"});
  CHECK(run.leftover == flood.size() - 4096);
  // A single offer of it all: one too_long, then one discarded piece up to the bound.
  LineFramer framer(LineRules{LineEnding::crlf, 64 * 1024});
  std::string_view rest = flood;
  LineFramer::Piece piece = framer.next(rest, 512);
  REQUIRE(piece.kind == Kind::too_long);
  rest.remove_prefix(piece.consumed);
  piece = framer.next(rest, 512);
  CHECK(piece.kind == Kind::flood);
  CHECK(piece.consumed == 64 * 1024 - 512);
  CHECK(framer.discarded() == 64 * 1024);
}

TEST_CASE("the limit may change between lines (POP3's AUTH continuation)") {
  LineFramer framer(kPop3);
  const std::string continuation = std::string(700, 'A') + "\r\n";
  CHECK(framer.next(continuation, 1024).kind == Kind::line);
  CHECK(framer.next(continuation, 255).kind == Kind::too_long);
}

TEST_CASE("reset forgets a half-dropped line (nothing carries over a TLS start)") {
  LineFramer framer(kPop3);
  CHECK(framer.next(std::string(300, 'x'), 255).kind == Kind::too_long);
  REQUIRE(framer.discarding());
  framer.reset();
  CHECK_FALSE(framer.discarding());
  CHECK(framer.discarded() == 0);
  LineFramer::Piece piece = framer.next("CAPA\r\n", 255);
  CHECK(piece.kind == Kind::line);
  CHECK(piece.text == "CAPA");
}
