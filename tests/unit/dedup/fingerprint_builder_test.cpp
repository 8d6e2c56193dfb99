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

TEST_CASE("a huge header section is parsed whole, with memory bounded by a line head") {
  // 100 KiB of header fields: a Message-ID after them is still found.
  std::string big;
  while (big.size() < 100 * 1024) big += "X-Filler: " + std::string(70, 'f') + "\r\n";
  std::string msg = big + "Message-ID: <late@x>\r\n\r\nbody\r\n";
  Fingerprints ref = whole(msg);
  CHECK(ref.headers_complete);
  CHECK(ref.message_id_text == std::optional<std::string>("<late@x>"));
  for (std::size_t piece : {1u, 7u, 4096u, 65536u, 65537u}) {
    CHECK(in_pieces(msg, piece).content == ref.content);
    CHECK(in_pieces(msg, piece).message_id == ref.message_id);
  }
  // Trace fields after them are still left out.
  CHECK(whole(big + "Received: x\r\n\r\nb").content == whole(big + "\r\nb").content);
}

TEST_CASE("header lines of any length stream through the fingerprint, whatever the split") {
  // One 200 000-octet field (an unfolded To list, a camera's base64 in a header)
  // is hashed as content; the Message-ID after it is found.
  const std::string long_field = "X-Long: " + std::string(200 * 1000, 'l') + "\r\n";
  const std::string msg = "From: a@b\r\n" + long_field + "Message-ID: <after@long>\r\n\r\nbody\r\n";
  Fingerprints ref = whole(msg);
  CHECK(ref.headers_complete);
  CHECK(ref.message_id_text == std::optional<std::string>("<after@long>"));
  for (std::size_t piece : {1u, 3u, 999u, 1000u, 1001u, 65535u}) {
    CAPTURE(piece);
    Fingerprints f = in_pieces(msg, piece);
    CHECK(f.content == ref.content);
    CHECK(f.message_id == ref.message_id);
  }
  // Its bytes count: one octet changed deep inside changes the fingerprint.
  std::string changed = msg;
  changed[150 * 1000] = 'L';
  CHECK(whole(changed).content != ref.content);
}

TEST_CASE("a long trace field is left out entirely, however long") {
  const std::string trace = "Received: from a " + std::string(300 * 1000, 'r') + "\r\n\tby b " +
                            std::string(5000, 'x') + "\r\n";
  for (std::size_t piece : {1u, 1000u, 4096u}) {
    CAPTURE(piece);
    CHECK(in_pieces(trace + kMessage, piece).content == whole(kMessage).content);
  }
}

TEST_CASE("a Message-ID longer than its bound is not used, whatever the split") {
  const std::string over = "<" + std::string(1030, 'm') + "@x>";
  const std::string at_bound = "<" + std::string(1020, 'm') + "@x>";  // 1024 octets
  for (std::size_t piece : {1u, 2u, 999u, 1000u, 5000u}) {
    CAPTURE(piece);
    CHECK_FALSE(in_pieces("Message-ID: " + over + "\r\n\r\nb", piece).message_id.has_value());
    CHECK(in_pieces("Message-ID:" + at_bound + "\r\n\r\nb", piece).message_id_text ==
          std::optional<std::string>(at_bound));
    // Folded into a long continuation line the same holds.
    CHECK_FALSE(in_pieces("Message-ID:\r\n " + over + "\r\n\r\nb", piece).message_id.has_value());
  }
}

TEST_CASE("a header line without a colon ends the header section") {
  Fingerprints f = whole("From: a@b\r\nnot a header\r\nMessage-ID: <x@y>\r\n\r\n");
  CHECK(f.headers_complete);
  CHECK_FALSE(f.message_id.has_value());
}

}  // namespace postern::dedup

namespace postern::dedup {
namespace {

// What the spool computes for the stored form: trace headers, then the client's bytes.
store::BodyKeys spooled_keys(std::string_view trace, std::string_view msg) {
  store::BodyKeyHasher h;
  h.update(trace);
  h.update(msg);
  return h.finish();
}

Fingerprints spooled(std::string_view trace, std::string_view msg, std::size_t piece) {
  FingerprintBuilder b(FingerprintBuilder::Spooled{trace.size()});
  for (std::size_t i = 0; i < msg.size(); i += piece) b.feed(msg.substr(i, piece));
  const store::BodyKeys keys = spooled_keys(trace, msg);
  return b.finish(&keys.rest_digest);
}

std::string long_message() {
  std::string s = kMessage;
  while (s.size() < 200 * 1024) s += "body text " + std::to_string(s.size()) + "\r\n";
  return s;
}

}  // namespace

TEST_CASE(
    "hash once: the content fingerprint is SHA-256(filtered header block, rest digest, tag)") {
  const std::string head =
      "From: alice@sender.example\r\nTo: bob@example.org\r\nSubject: quarterly\r\n report\r\n"
      "Message-ID:\r\n <Part.One@Sender.EXAMPLE>\r\n\r\n";
  const std::string rest = kMessage.substr(head.size());
  REQUIRE(kMessage.substr(0, head.size()) == head);
  const store::Digest rest_digest = store::sha256(rest);
  CHECK(whole(kMessage).content == store::sha256(head + std::string(store::as_view(rest_digest)) +
                                                 std::string(store::kKeyTag)));
}

TEST_CASE("with the spool's rest digest: the same fingerprints, whole, byte at a time, any split") {
  const std::string trace = "Received: from client by us; Thu, 3 Dec 2026\r\n";
  for (const std::string& msg : {kMessage, long_message()}) {
    const Fingerprints ref = whole(msg);
    for (std::size_t piece : {1u, 2u, 13u, 4096u, 65536u, 1u << 20}) {
      const Fingerprints f = spooled(trace, msg, piece);
      CHECK(f.content == ref.content);
      CHECK(f.message_id == ref.message_id);
      CHECK(f.has_subject == ref.has_subject);
      CHECK(f.headers_complete == ref.headers_complete);
      CHECK(f.bytes == msg.size());
    }
    std::mt19937 rng(11);
    for (int round = 0; round < 20; ++round) {
      FingerprintBuilder b(FingerprintBuilder::Spooled{trace.size()});
      std::string_view rest = msg;
      std::uniform_int_distribution<std::size_t> len(0, 3000);
      while (!rest.empty()) {
        const std::size_t n = std::min(rest.size(), len(rng));
        b.feed(rest.substr(0, n));
        rest.remove_prefix(n);
      }
      const store::BodyKeys keys = spooled_keys(trace, msg);
      CHECK(b.finish(&keys.rest_digest).content == ref.content);
    }
  }
  // Without a digest (a broken DATA) the content is left zero; the Message-ID is there.
  FingerprintBuilder b(FingerprintBuilder::Spooled{trace.size()});
  b.feed(kMessage);
  const Fingerprints cut = b.finish();
  CHECK(cut.content == Fingerprint{});
  CHECK(cut.message_id_text == std::optional<std::string>("<Part.One@sender.example>"));
}

TEST_CASE("a retry with other trace fields matches, a changed body does not") {
  const std::string msg = long_message();
  const std::string retry = "Received: from relay2\r\n\tby mx; x\r\n" + msg;
  const Fingerprints a = spooled("Received: one\r\n", msg, 777);
  const Fingerprints b = spooled("Received: two, longer\r\n", retry, 1000);
  CHECK(a.content == b.content);
  std::string changed = msg;
  changed[changed.size() - 5] ^= 1;
  CHECK(spooled("Received: one\r\n", changed, 777).content != a.content);
}

}  // namespace postern::dedup
