// Events in words: one sentence per event kind for the owner (`postern events`
// and the status page), and the raw form as stable JSON lines for scripts
// (`postern events --json`).
//
// An event is a kind and "key=value" text (store/events.h). Writers of new
// events use event_field() so a value with spaces survives; readers use
// event_fields(). Unknown kinds still read as "<kind>: <text>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/events.h"

namespace postern::app {

// The "key=value" pairs of an event's text, in order. A value in double
// quotes may hold spaces, with \" and \\ escaped (event_field() writes them).
std::vector<std::pair<std::string, std::string>> event_fields(std::string_view text);

// "key=value", the value quoted when it is empty or holds a space, '"' or '\'.
std::string event_field(std::string_view key, std::string_view value);

// A moment in the appliance's local time zone (TZ): "2026-12-03 19:05 CET".
std::string local_time_text(std::int64_t unix_seconds);

// One sentence an owner understands, ending in '.'; moments in local time.
std::string event_sentence(std::string_view kind, std::string_view text);

// One JSON object on one line (no newline), for scripts. Its keys, in this
// order, are stable: "time" (unix seconds), "seq", "kind", "fields" (the
// key=value pairs as strings) and "text" (the raw text). Bytes that are not
// UTF-8 become U+FFFD.
std::string event_json(const store::Event& event);

}  // namespace postern::app
