// Offering a connection's buffered input to a sans-I/O session: the loop every
// service runs on on_input, resume and completion.
#pragma once

#include <cstddef>
#include <string_view>

#include "net/connection.h"

namespace postern::net {

// Calls `feed(bytes) -> consumed` while `may_feed()` holds and input remains,
// consuming what each call took; stops at an incomplete line (nothing consumed).
// Then pauses reading while `may_feed()` is false and resumes it otherwise: one
// gate gives both reply ordering (RFC 2920, RFC 2449 §6.6) and backpressure, as
// h2o pauses reads while it responds. Loop thread only; `conn` must be open.
template <class Feed, class Gate>
void offer_input(Connection& conn, Feed&& feed, Gate&& may_feed) {
  while (may_feed()) {
    std::string_view input = conn.input();
    if (input.empty()) break;
    std::size_t used = feed(input);
    conn.consume(used);
    if (used == 0) break;  // an incomplete line: wait for more bytes
  }
  if (may_feed()) {
    conn.resume_reading();
  } else {
    conn.pause_reading();
  }
}

}  // namespace postern::net
