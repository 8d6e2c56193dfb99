// HeaderLines: classification, the bounded line head, and streaming of long lines.
#include "dedup/header_lines.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace postern::dedup {
namespace {

// Records every visitor call as text; consecutive on_header_more / on_body
// pieces are joined, so the record does not depend on where chunks split.
struct Recorder final : HeaderLines::Visitor {
  std::vector<std::string> calls;
  std::size_t streamed = 0;  // octets handed on so far

  void add(const std::string& tag, std::string_view bytes) {
    streamed += bytes.size();
    if (!calls.empty() && calls.back().rfind(tag, 0) == 0 && tag != "line ") {
      calls.back().append(bytes);
    } else {
      calls.push_back(tag + std::string(bytes));
    }
  }
  void on_header_line(std::string_view line, HeaderLine kind) override {
    const char* k = kind == HeaderLine::field          ? "field"
                    : kind == HeaderLine::continuation ? "cont"
                                                       : "end";
    calls.push_back(std::string("line ") + k + " " + std::to_string(line.size()));
    streamed += line.size();
  }
  void on_header_more(std::string_view bytes) override { add("more ", bytes); }
  void on_body(std::string_view bytes) override { add("body ", bytes); }
};

std::vector<std::string> record(std::string_view msg, std::size_t piece) {
  Recorder r;
  HeaderLines lines(r);
  for (std::size_t i = 0; i < msg.size(); i += piece) lines.feed(msg.substr(i, piece));
  lines.finish();
  return r.calls;
}

}  // namespace

TEST_CASE("short lines come whole and classified") {
  auto calls = record("From: a\r\n folded\r\nnot a field\r\nx: y\r\n", 5);
  CHECK(calls ==
        std::vector<std::string>{"line field 9", "line cont 9", "body not a field\r\nx: y\r\n"});
  CHECK(record("A: b\r\n\r\nbody", 1) ==
        std::vector<std::string>{"line field 6", "line end 2", "body body"});
}

TEST_CASE("a line of exactly kMaxLineHead octets is whole; one more and it streams") {
  const std::size_t head = HeaderLines::kMaxLineHead;
  std::string fits = "X: " + std::string(head - 5, 'a') + "\r\n";
  REQUIRE(fits.size() == head);
  CHECK(record(fits + "\r\n", 7) == std::vector<std::string>{"line field 1000", "line end 2"});
  std::string over = "X: " + std::string(head - 4, 'a') + "\r\n";
  CHECK(record(over + "\r\n", 7) ==
        std::vector<std::string>{"line field 1000", "more \n", "line end 2"});
}

TEST_CASE("a long header line is handed on as it arrives, never held whole") {
  Recorder r;
  HeaderLines lines(r);
  lines.feed("Subject: ");
  const std::string piece(100 * 1000, 's');
  for (int i = 1; i <= 5; ++i) {
    lines.feed(piece);
    // Everything but at most a line head is already with the visitor.
    CHECK(r.streamed + HeaderLines::kMaxLineHead >= 9 + i * piece.size());
    CHECK(r.streamed >= 9 + i * piece.size());
  }
  lines.feed("\r\n\r\nbody");
  lines.finish();
  CHECK(lines.complete());
  REQUIRE(r.calls.size() == 4);
  CHECK(r.calls[0] == "line field 1000");
  CHECK(r.calls[1].size() == 5 + 9 + 5 * piece.size() + 2 - 1000);
  CHECK(r.calls[2] == "line end 2");
  CHECK(r.calls[3] == "body body");
}

TEST_CASE("a long line is classified on its head alone, the same for every split") {
  // A continuation, a non-field (no colon in the head: body), and a field.
  const std::string msg = "A: b\r\n\t" + std::string(3000, 'c') +
                          "\r\nB: " + std::string(1500, 'd') + "\r\n" + std::string(2000, 'e') +
                          ": late\r\n";
  const auto ref = record(msg, msg.size());
  CHECK(ref == std::vector<std::string>{"line field 6", "line cont 1000",
                                        "more " + std::string(2001, 'c') + "\r\n",
                                        "line field 1000", "more " + std::string(503, 'd') + "\r\n",
                                        "body " + std::string(2000, 'e') + ": late\r\n"});
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    Recorder r;
    HeaderLines lines(r);
    for (std::size_t at = 0; at < msg.size();) {
      std::size_t n = 1 + rng() % 1500;
      lines.feed(std::string_view(msg).substr(at, n));
      at += n;
    }
    lines.finish();
    CHECK(r.calls == ref);
  }
}

TEST_CASE("a stream that ends inside a long header line is not complete") {
  Recorder r;
  HeaderLines lines(r);
  lines.feed("X: " + std::string(5000, 'x'));
  lines.finish();
  CHECK_FALSE(lines.complete());
  CHECK(r.streamed == 5003);
}

}  // namespace postern::dedup
