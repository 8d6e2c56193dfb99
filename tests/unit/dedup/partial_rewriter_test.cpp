// PartialRewriter and partial_prefix: the labels of a kept partial.
#include "dedup/partial_rewriter.h"

#include <doctest/doctest.h>

#include <string>

namespace postern::dedup {
namespace {

std::string rewrite(std::string_view in, std::size_t piece) {
  std::string out;
  PartialRewriter r([&](std::string_view bytes) { out.append(bytes); });
  for (std::size_t i = 0; i < in.size(); i += piece) r.feed(in.substr(i, piece));
  r.finish();
  return out;
}

}  // namespace

TEST_CASE("the first Subject field is tagged [INCOMPLETE] whatever the split") {
  const std::string in =
      "From: a@b\r\nsubject:Hello\r\n there\r\nSubject: second\r\n\r\nSubject: body\r\n";
  const std::string want =
      "From: a@b\r\nsubject: [INCOMPLETE] Hello\r\n there\r\nSubject: second\r\n\r\n"
      "Subject: body\r\n";
  for (std::size_t piece = 1; piece <= in.size(); ++piece) {
    CAPTURE(piece);
    CHECK(rewrite(in, piece) == want);
  }
}

TEST_CASE("a message cut inside the Subject line is still tagged") {
  CHECK(rewrite("From: a@b\r\nSubject: Hel", 4) == "From: a@b\r\nSubject: [INCOMPLETE] Hel");
}

TEST_CASE("without a Subject the rewriter leaves the bytes alone") {
  const std::string in = "From: a@b\r\n\r\nbody\r\n";
  CHECK(rewrite(in, 3) == in);
}

TEST_CASE("the X-Postern-Partial prefix says what happened and whether it can be replaced") {
  std::string with_id = partial_prefix(1234, BreakReason::connection_lost, true, true);
  CHECK(with_id ==
        "X-Postern-Partial: incomplete delivery (connection lost after 1234 bytes);\r\n"
        " the complete message will replace this one\r\n");
  std::string without = partial_prefix(7, BreakReason::timeout, false, false);
  CHECK(without.find("timed out after 7 bytes") != std::string::npos);
  CHECK(without.find("cannot replace this one") != std::string::npos);
  CHECK(without.find("\r\nSubject: [INCOMPLETE]\r\n") != std::string::npos);
  // Folded lines, each under RFC 5322 §2.1.1's 78 characters.
  for (std::size_t at = 0, end; (end = without.find("\r\n", at)) != std::string::npos;
       at = end + 2) {
    CHECK(end - at <= 78);
  }
}

}  // namespace postern::dedup

namespace postern::dedup {

TEST_CASE("a partial with long header lines is tagged and passed through byte for byte") {
  const std::string subject = "Subject: " + std::string(300 * 1000, 's') + "\r\n";
  const std::string before = "X-Long: " + std::string(5000, 'x') + "\r\n";
  const std::string body = std::string(200 * 1000, 'b') + "\r\n";
  const std::string in = before + subject + "\r\n" + body;
  const std::string want = before + "Subject: [INCOMPLETE] " + subject.substr(9) + "\r\n" + body;
  for (std::size_t piece : {1u, 999u, 1000u, 1001u, 65536u}) {
    CAPTURE(piece);
    CHECK(rewrite(in, piece) == want);
  }
}

}  // namespace postern::dedup
