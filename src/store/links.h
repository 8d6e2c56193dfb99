// The links table: a bounded time series of link-monitor samples per target (the gateway,
// the DNS server, peers whose sessions broke off), for the status page and `postern trace`.
//
// Writes run in a write transaction like every other store write (the server's Writer
// batch, or run_write in tests); reads take any Txn. No uv, no sockets: diag produces the
// samples, app hands them to the store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/env.h"

namespace postern::store {

// Samples kept per target unless the caller says otherwise: a day at one per minute.
inline constexpr std::uint64_t kLinkSamplesPerTarget = 1440;

struct LinkSample {
  std::int64_t time_ms = 0;  // unix milliseconds
  std::uint32_t rtt_us = 0;  // mean round trip of the answered probes; 0 when all were lost
  std::uint8_t sent = 0;     // probes in this sample
  std::uint8_t lost = 0;     // of which unanswered
};

// Appends one sample for `target` (1..255 bytes, e.g. "192.168.1.1") and, in the same txn,
// deletes that target's oldest samples beyond `keep` (0 = kLinkSamplesPerTarget). A second
// sample for the same target in the same millisecond replaces the first.
// Errors: Errc::invalid ("link-target", "link-sample": lost > sent or sent = 0), LMDB errors.
Result<void> append_link_sample(WriteTxn& txn, std::string_view target, std::int64_t time_ms,
                                std::uint32_t rtt_us, std::uint8_t lost, std::uint8_t sent = 1,
                                std::uint64_t keep = 0);

// Newest first: at most `limit` samples of `target` with time_ms >= since_ms.
Result<std::vector<LinkSample>> query_link_samples(Txn& txn, std::string_view target,
                                                   std::int64_t since_ms, std::size_t limit);

// Every target with at least one sample, in key order.
Result<std::vector<std::string>> link_targets(Txn& txn);

}  // namespace postern::store
