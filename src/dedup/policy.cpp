// The dedup policy: fingerprint lists per recipient and the window (expiry: store/ledger.h).
#include "dedup/policy.h"

namespace postern::dedup {
namespace {

bool checking(store::DedupRule rule, const Settings& settings) {
  return !settings.allow_duplicates && rule != store::DedupRule::off;
}

}  // namespace

const char* to_string(store::DedupRule rule) noexcept {
  switch (rule) {
    case store::DedupRule::content:
      return "content";
    case store::DedupRule::content_or_message_id:
      return "content-or-message-id";
    case store::DedupRule::off:
      return "off";
  }
  return "?";
}

std::optional<store::DedupRule> parse_rule(std::string_view text) noexcept {
  for (auto rule : {store::DedupRule::content, store::DedupRule::content_or_message_id,
                    store::DedupRule::off}) {
    if (text == to_string(rule)) return rule;
  }
  return std::nullopt;
}

Fingerprint partial_key(std::string_view normalized_message_id) {
  store::Sha256 h;
  h.update("partial:");
  h.update(normalized_message_id);
  return h.finish();
}

std::int64_t window_start(const Settings& settings, const core::Clock& clock) {
  return core::unix_seconds(clock.now() - settings.window);
}

store::Recipient plan_complete(std::string address, store::DedupRule rule, const Settings& settings,
                               const Fingerprints& fingerprints) {
  store::Recipient r;
  r.address = std::move(address);
  if (checking(rule, settings)) {
    r.check.push_back({fingerprints.content, "content"});
    if (rule == store::DedupRule::content_or_message_id && fingerprints.message_id) {
      r.check.push_back({*fingerprints.message_id, "message-id"});
    }
  }
  r.record.push_back(fingerprints.content);
  if (fingerprints.message_id) r.record.push_back(*fingerprints.message_id);
  // Whatever the rule: a kept partial of this message must not stay beside it.
  if (fingerprints.message_id_text)
    r.supersede_partial = partial_key(*fingerprints.message_id_text);
  return r;
}

store::Recipient plan_partial(std::string address, store::DedupRule rule, const Settings& settings,
                              const Fingerprints& fingerprints) {
  store::Recipient r;
  r.address = std::move(address);
  if (!fingerprints.message_id_text) return r;
  if (checking(rule, settings)) r.check.push_back({*fingerprints.message_id, "message-id"});
  r.partial_key = partial_key(*fingerprints.message_id_text);
  r.supersede_partial = r.partial_key;
  return r;
}

}  // namespace postern::dedup
