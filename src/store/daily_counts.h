// Counters for one day (the page's "mail today"): meta key -> {day start
// (unix s, local midnight), count}; a count for another day reads as zero and
// the first add of a new day restarts it.
#pragma once

#include <cstdint>

#include "store/env.h"

namespace postern::store {

inline constexpr const char* kStatRetrievedToday = "stat:retrieved-today";
inline constexpr const char* kStatReceivedToday = "stat:received-today";

Result<void> add_daily_count(WriteTxn& txn, const char* key, std::int64_t day_start,
                             std::uint64_t n);
Result<std::uint64_t> daily_count(Txn& txn, const char* key, std::int64_t day_start);

}  // namespace postern::store
