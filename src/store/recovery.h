// Open-time recovery, for the one process that delivers (the server): work
// that a crash or kill left half done is removed before the first delivery.
//
// Typical call sequence (app, before any Writer or Spool exists):
//   auto env = Env::open(options);
//   auto report = recover(**env);
// The CLI does not call it, so `postern user add` beside a running server
// never touches a delivery in progress.
#pragma once

#include <cstdint>

#include "store/env.h"

namespace postern::store {

struct RecoveryReport {
  std::uint64_t staged_chunks_dropped = 0;
};

// Drops chunks staged by deliveries that never committed (one write txn),
// then empties spool/: no committed row refers to a spool file.
// REQUIRES: no delivery is staging or spooling (no Writer or Spool yet).
Result<RecoveryReport> recover(Env& env);

// Removes chunks whose body row does not exist; returns how many went.
// REQUIRES: as recover().
Result<std::uint64_t> drop_staged_chunks(WriteTxn& txn);

}  // namespace postern::store
