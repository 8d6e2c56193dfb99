// The events table: a bounded log of notable happenings ("kind" + key=value
// text) for `postern events` and the status page, newest kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/env.h"

namespace postern::store {

struct Event {
  std::int64_t time = 0;  // unix seconds
  std::uint64_t seq = 0;  // global, increasing: orders events within a second
  std::string kind;       // at most 255 bytes
  std::string text;       // key=value pairs; callers pass peer text through printable()
};

// Appends one event and, in the same txn, trims the oldest so at most
// `keep` remain (keep = 0 means Options::max_events).
Result<void> append_event(WriteTxn& txn, std::string_view kind, std::string_view text,
                          std::int64_t time, std::uint64_t keep = 0);

// Newest first: at most `limit` events with time >= since.
Result<std::vector<Event>> query_events(Txn& txn, std::size_t limit, std::int64_t since = 0);

}  // namespace postern::store
