// dedup::Settings and the policy: which fingerprints the store checks and records.
//
// Pure: the store only executes the lists planned here (store::Recipient), so
// every rule is unit-tested with a ManualClock. Both fingerprints are always
// RECORDED for a complete message, so a rule change also applies to mail
// already seen; the domain rule and the owner's switch decide what is CHECKED.
// A partial records only its partial key, so the complete copy is never
// suppressed by its own partial; the complete copy names that key to
// supersede the partial (the store removes it unless it was retrieved).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "dedup/fingerprint_builder.h"
#include "store/delivery.h"
#include "store/env.h"
#include "store/records.h"

namespace postern::dedup {

enum class PartialPolicy { discard, keep_as_alert };

// The owner's settings (app fills them from app::Settings).
struct Settings {
  bool allow_duplicates = false;  // true: nothing is checked (rows are still recorded)
  // RFC 5321 §4.5.4.1: a sender's give-up time "generally needs to be at least
  // 4-5 days"; Postfix's maximal_queue_lifetime is 5d. A shorter window lets a
  // late retry through.
  std::chrono::hours window{120};
  PartialPolicy partial = PartialPolicy::discard;
};

const char* to_string(store::DedupRule rule) noexcept;  // "content", "content-or-message-id", "off"
// The inverse of to_string(); nullopt for anything else.
std::optional<store::DedupRule> parse_rule(std::string_view text) noexcept;

// H("partial:" + Message-ID): the ledger key of a kept partial.
Fingerprint partial_key(std::string_view normalized_message_id);

// Rows first seen before this (unix seconds) no longer suppress: now - window.
std::int64_t window_start(const Settings& settings, const core::Clock& clock);

// The recipient entry for a complete message to `address` under its domain's rule.
store::Recipient plan_complete(std::string address, store::DedupRule rule, const Settings& settings,
                               const Fingerprints& fingerprints);

// The recipient entry for a partial (keep-as-alert). It checks the Message-ID
// fingerprint (unless dedup is off or duplicates allowed): a broken retry of a
// message already stored whole is not worth an alert. It supersedes an earlier
// partial of the same Message-ID not yet retrieved, and records only its
// partial key. Without a Message-ID it records nothing and cannot be superseded.
store::Recipient plan_partial(std::string address, store::DedupRule rule, const Settings& settings,
                              const Fingerprints& fingerprints);

}  // namespace postern::dedup
