// The dedup policy: which fingerprints are checked and recorded, the window, expiry.
#include "dedup/policy.h"

#include <doctest/doctest.h>

#include "store/catalogue.h"
#include "store/ledger.h"
#include "test_support.h"

namespace postern::dedup {
namespace {

using store::DedupRule;

Fingerprints with_id() {
  FingerprintBuilder b;
  b.feed("Message-ID: <m@x>\r\nSubject: s\r\n\r\nbody\r\n");
  return b.finish();
}

Fingerprints without_id() {
  FingerprintBuilder b;
  b.feed("Subject: s\r\n\r\nbody\r\n");
  return b.finish();
}

std::vector<std::string> rules(const store::Recipient& r) {
  std::vector<std::string> out;
  for (const auto& c : r.check) out.emplace_back(c.rule);
  return out;
}

}  // namespace

TEST_CASE("the content rule checks the content fingerprint only, and records both") {
  Fingerprints f = with_id();
  auto r = plan_complete("a@x.org", DedupRule::content, Settings{}, f);
  CHECK(r.address == "a@x.org");
  REQUIRE(r.check.size() == 1);
  CHECK(r.check[0].fp == f.content);
  CHECK(rules(r) == std::vector<std::string>{"content"});
  CHECK(r.record == std::vector<Fingerprint>{f.content, *f.message_id});
  CHECK(r.supersede_partial == std::optional<Fingerprint>(partial_key("<m@x>")));
  CHECK_FALSE(r.partial_key.has_value());
}

TEST_CASE("the content-or-message-id rule checks both fingerprints") {
  Fingerprints f = with_id();
  auto r = plan_complete("a@x.org", DedupRule::content_or_message_id, Settings{}, f);
  CHECK(rules(r) == std::vector<std::string>{"content", "message-id"});
  CHECK(r.check[1].fp == *f.message_id);
  auto no_id = plan_complete("a@x.org", DedupRule::content_or_message_id, Settings{}, without_id());
  CHECK(rules(no_id) == std::vector<std::string>{"content"});
  CHECK(no_id.record.size() == 1);
  CHECK_FALSE(no_id.supersede_partial.has_value());
}

TEST_CASE("rule off and allow_duplicates check nothing but still record") {
  Fingerprints f = with_id();
  auto off = plan_complete("a@x.org", DedupRule::off, Settings{}, f);
  CHECK(off.check.empty());
  CHECK(off.record.size() == 2);
  Settings allow;
  allow.allow_duplicates = true;
  auto allowed = plan_complete("a@x.org", DedupRule::content_or_message_id, allow, f);
  CHECK(allowed.check.empty());
  CHECK(allowed.record.size() == 2);
  CHECK(allowed.supersede_partial.has_value());
}

TEST_CASE("a partial records only its partial key and never content rows") {
  Fingerprints f = with_id();
  auto p = plan_partial("a@x.org", DedupRule::content, Settings{}, f);
  CHECK(p.record.empty());
  REQUIRE(p.partial_key.has_value());
  CHECK(*p.partial_key == partial_key("<m@x>"));
  CHECK(*p.partial_key != *f.message_id);
  CHECK(p.supersede_partial == p.partial_key);
  CHECK(rules(p) == std::vector<std::string>{"message-id"});
  Settings allow;
  allow.allow_duplicates = true;
  CHECK(plan_partial("a@x.org", DedupRule::content, allow, f).check.empty());
  auto anonymous = plan_partial("a@x.org", DedupRule::content, Settings{}, without_id());
  CHECK(anonymous.check.empty());
  CHECK(anonymous.record.empty());
  CHECK_FALSE(anonymous.partial_key.has_value());
  CHECK_FALSE(anonymous.supersede_partial.has_value());
}

TEST_CASE("the window starts the configured number of hours before the clock") {
  core::ManualClock clock;
  Settings s;
  CHECK(s.window == std::chrono::hours(120));  // RFC 5321 §4.5.4.1: 4-5 days
  const std::int64_t start = core::unix_seconds(clock.now());
  CHECK(window_start(s, clock) == start - 120 * 3600);
  clock.advance(std::chrono::hours(1));
  s.window = std::chrono::hours(48);
  CHECK(window_start(s, clock) == start + 3600 - 48 * 3600);
}

}  // namespace postern::dedup
