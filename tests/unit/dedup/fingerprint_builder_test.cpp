// FingerprintBuilder: trace-field exclusion, folding, every split, Message-ID, bounds.
#include "dedup/fingerprint_builder.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace postern::dedup {
namespace {

Fingerprints whole(std::string_view msg) {
  FingerprintBuilder b;
  b.feed(msg);
  return b.finish();
}

Fingerprints in_pieces(std::string_view msg, std::size_t piece) {
  FingerprintBuilder b;
  for (std::size_t i = 0; i < msg.size(); i += piece) b.feed(msg.substr(i, piece));
  return b.finish();
}

const std::string kMessage =
    "From: alice@sender.example\r\n"
    "To: bob@example.org\r\n"
    "Subject: quarterly\r\n report\r\n"
    "Message-ID:\r\n <Part.One@Sender.EXAMPLE>\r\n"
    "\r\n"
    "Received: this is body text, not a header\r\n"
    "last line\r\n";

}  // namespace

TEST_CASE("trace fields a hop adds are left out of the content fingerprint") {
  const std::string hopped =
      "Received: from relay.example (192.0.2.1)\r\n\tby mx.example; Tue, 14 Nov 2023\r\n"
      "Return-Path: <alice@sender.example>\r\n"
      "X-Received: by 2002:a05 with SMTP id x;\r\n        Tue, 14 Nov 2023\r\n"
      "From: alice@sender.example\r\n"
      "Delivered-To: bob@example.org\r\n"
      "To: bob@example.org\r\n"
      "Subject: quarterly\r\n report\r\n"
      "RECEIVED: upper case is the same field\r\n"
      "Message-ID:\r\n <Part.One@Sender.EXAMPLE>\r\n"
      "\r\n"
      "Received: this is body text, not a header\r\n"
      "last line\r\n";
  CHECK(whole(hopped).content == whole(kMessage).content);
}

TEST_CASE("any other difference changes the content fingerprint") {
  std::string other_body = kMessage;
  other_body.back() = ' ';
  CHECK(whole(other_body).content != whole(kMessage).content);
  std::string other_header = kMessage;
  other_header.replace(other_header.find("quarterly"), 9, "Quarterly");
  CHECK(whole(other_header).content != whole(kMessage).content);
  // A "Received:" line in the body is content, not trace.
  std::string body_received = kMessage;
  body_received.erase(body_received.find("Received: this"), 43);
  CHECK(whole(body_received).content != whole(kMessage).content);
  // A continuation of a kept field is content too.
  std::string refolded = kMessage;
  refolded.replace(refolded.find("\r\n report"), 9, " report");
  CHECK(whole(refolded).content != whole(kMessage).content);
}

TEST_CASE("every split of the stream gives the same fingerprints") {
  const Fingerprints ref = whole(kMessage);
  for (std::size_t piece = 1; piece <= kMessage.size(); ++piece) {
    CAPTURE(piece);
    Fingerprints f = in_pieces(kMessage, piece);
    CHECK(f.content == ref.content);
    CHECK(f.message_id == ref.message_id);
    CHECK(f.headers_complete);
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    FingerprintBuilder b;
    std::size_t at = 0;
    while (at < kMessage.size()) {
      std::size_t n = std::uniform_int_distribution<std::size_t>(0, 9)(rng);
      b.feed(std::string_view(kMessage).substr(at, n));
      at += n;
    }
    Fingerprints f = b.finish();
    CHECK(f.content == ref.content);
    CHECK(f.message_id == ref.message_id);
  }
}

TEST_CASE("a folded trace field split across chunks is left out entirely") {
  const std::string trace = "Received: from a\r\n\tby b\r\n\tfor c; date\r\n";
  const std::string msg = trace + kMessage;
  for (std::size_t cut = 1; cut < trace.size() + 3; ++cut) {
    FingerprintBuilder b;
    b.feed(std::string_view(msg).substr(0, cut));
    b.feed(std::string_view(msg).substr(cut));
    CHECK(b.finish().content == whole(kMessage).content);
  }
}

TEST_CASE("the Message-ID is unfolded and normalised, domain lowercased, local part kept") {
  Fingerprints f = whole(kMessage);
  REQUIRE(f.message_id_text.has_value());
  CHECK(*f.message_id_text == "<Part.One@sender.example>");
  REQUIRE(f.message_id.has_value());
  CHECK(*f.message_id == message_id_fingerprint("<Part.One@sender.example>"));
  CHECK(normalize_message_id("  <a@B.C>  (comment)") == "<a@b.c>");
  CHECK(normalize_message_id("<Case@X>") != normalize_message_id("<case@X>"));
  CHECK(normalize_message_id("   ").empty());
  CHECK(normalize_message_id("<>").empty());
  // The first Message-ID field counts.
  Fingerprints two = whole("Message-ID: <one@x>\r\nMessage-Id: <two@x>\r\n\r\nb\r\n");
  CHECK(two.message_id_text == std::optional<std::string>("<one@x>"));
}

TEST_CASE("a message without a Message-ID has no message-id fingerprint") {
  Fingerprints f = whole("From: a@b\r\nSubject: s\r\n\r\nbody\r\n");
  CHECK_FALSE(f.message_id.has_value());
  CHECK_FALSE(f.message_id_text.has_value());
  CHECK(f.has_subject);
  CHECK(f.headers_complete);
  Fingerprints in_body = whole("From: a@b\r\n\r\nMessage-ID: <not@header>\r\n");
  CHECK_FALSE(in_body.message_id.has_value());
  CHECK_FALSE(in_body.has_subject);
}

TEST_CASE("a message cut inside its header section still fingerprints what arrived") {
  Fingerprints f = whole("From: a@b\r\nMessage-ID: <cut@x>\r\nSubj");
  CHECK_FALSE(f.headers_complete);
  CHECK(f.message_id_text == std::optional<std::string>("<cut@x>"));
  CHECK(f.bytes == 36);
}

TEST_CASE("a huge header section is bounded and then hashed as body") {
  // 100 KiB of header fields with no end: parsing stops at 64 KiB, memory stays bounded,
  // and a Message-ID beyond the bound is not taken.
  std::string big;
  while (big.size() < 100 * 1024) big += "X-Filler: " + std::string(70, 'f') + "\r\n";
  std::string msg = big + "Message-ID: <late@x>\r\n\r\nbody\r\n";
  Fingerprints ref = whole(msg);
  CHECK_FALSE(ref.headers_complete);
  CHECK_FALSE(ref.message_id.has_value());
  for (std::size_t piece : {1u, 7u, 4096u, 65536u, 65537u}) {
    CHECK(in_pieces(msg, piece).content == ref.content);
  }
  // One line longer than the bound is cut at the same byte whatever the split.
  std::string long_line = "X-Long: " + std::string(70 * 1024, 'l') + "\r\n\r\nbody\r\n";
  Fingerprints l = whole(long_line);
  CHECK_FALSE(l.headers_complete);
  CHECK(in_pieces(long_line, 3).content == l.content);
  CHECK(in_pieces(long_line, 65535).content == l.content);
  // Trace fields past the bound are body, so they count.
  std::string trace_late = big + "Received: x\r\n\r\nb";
  std::string no_trace = big + "\r\nb";
  CHECK(whole(trace_late).content != whole(no_trace).content);
}

TEST_CASE("a header line without a colon ends the header section") {
  Fingerprints f = whole("From: a@b\r\nnot a header\r\nMessage-ID: <x@y>\r\n\r\n");
  CHECK(f.headers_complete);
  CHECK_FALSE(f.message_id.has_value());
}

}  // namespace postern::dedup
