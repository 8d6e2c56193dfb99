// Delivery health from the event log: dedup and partial counters and the POP3
// sessions that ended without QUIT, grouped per user and client and explained
// in plain language. Pure: events in, a summary out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/backend.h"

namespace postern::http {

// Event kinds counted here (written by pop3/conversation.cpp and the dedup path).
inline constexpr std::string_view kEventAbnormalEnd = "pop3-abnormal-end";
inline constexpr std::string_view kEventDuplicate = "duplicate-suppressed";
inline constexpr std::string_view kEventPartialDiscarded = "partial-discarded";
inline constexpr std::string_view kEventPartialKept = "partial-kept";
inline constexpr std::string_view kEventPartialSuperseded = "partial-superseded";
// Written by app's link service after a broken session (diag::auto_trace_event_text).
inline constexpr std::string_view kEventAutoTrace = "auto-trace";

// One auto-trace toward a peer whose session broke off, from its event text.
struct AutoTraceView {
  std::int64_t time = 0;
  std::string peer;
  std::uint64_t hops = 0;
  bool reached = false;
  std::string loss;    // percent at the last hop, as recorded
  std::string rtt_ms;  // the last hop's average, "-" when it did not answer
  std::string path;    // "a,*,b": each hop's first responder
};

struct AbnormalEnds {
  std::string user;
  std::string client;
  std::uint64_t count = 0;
  std::int64_t last_time = 0;
  std::string last_reason;  // "disconnect", "timeout", ...
  // The newest session's own facts, which say what happens next: "keep" (downloaded, no
  // DELE), "delete" (DELE sent, lost with the missing QUIT) or "none".
  std::string last_mode;
  std::uint64_t last_retrieved = 0;
  std::uint64_t last_marked_deleted = 0;
  // Messages retrieved in those sessions but not removed (no UPDATE without
  // QUIT, RFC 1939 §6): they will be downloaded again.
  std::uint64_t retrieved_not_removed = 0;
  std::string explanation;
  // The newest auto-trace toward this client, if one was recorded.
  std::optional<AutoTraceView> trace;
};

struct Health {
  std::uint64_t duplicates_suppressed = 0;
  std::uint64_t partials_discarded = 0, partials_kept = 0, partials_superseded = 0;
  std::vector<AbnormalEnds> abnormal_ends;  // most recent first
  std::vector<AutoTraceView> auto_traces;   // most recent first, at most kMaxAutoTraces
};

inline constexpr std::size_t kMaxAutoTraces = 10;

// The value of `key` in "k1=v1 k2=v2" text; empty when absent.
std::string field_of(std::string_view text, std::string_view key);

// What one abnormal end recorded (the pop3-abnormal-end event's fields).
struct AbnormalEndFacts {
  std::string reason;  // "disconnect", "timeout", "error-limit", "update-failed", ...
  std::string mode;    // "keep", "delete", "none"; empty in events older than the field
  std::uint64_t retrieved = 0;
  std::uint64_t marked_deleted = 0;
};
AbnormalEndFacts abnormal_end_facts(std::string_view event_text);

// Plain language for the owner: what happened, what will happen next (with the counts,
// in correct singular or plural), and what to check.
std::string explain_abnormal_end(const AbnormalEndFacts& facts);

// REQUIRES: `events` newest first, as Backend::events() returns them.
Health summarize(const std::vector<EventView>& events);

}  // namespace postern::http
