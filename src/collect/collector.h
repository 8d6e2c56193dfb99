// collect::Collector: the scheduler. Every tick it reads the accounts from the
// store (so `postern collect add` in another process is picked up), starts a
// Run for each account that is due, and records each run's status.
//
// Due: never run, or last run + interval; after a failure the retry backs off
// (1, 2, 4, ... minutes, never longer than the interval). One run per account
// at a time, across processes too: a run holds flock(<data>/collect-<id>.lock),
// so `postern collect now` beside the server never collects the same mailbox twice
// at once. Loop thread only.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "collect/run.h"
#include "store/sealed.h"

namespace postern::collect {

// The delay before the next run after `status` (interval or backoff), in seconds.
std::int64_t next_delay_seconds(const store::CollectAccount& account,
                                const store::CollectStatus& status);

class Collector {
 public:
  using ReportFn = std::function<void(const store::CollectAccount&, const RunReport&)>;
  // Borrows `context`; it outlives the Collector.
  Collector(RunContext& context, store::SealKey key);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Ticks every `tick` (and once at once).
  void start(std::chrono::milliseconds tick);
  // Stops the ticks and aborts every run (nothing is deleted on a server).
  void stop();
  // Starts `account` now unless it is running or locked elsewhere: false then.
  // `report` (may be empty) is called after the run and its status are recorded.
  bool run_now(const store::CollectAccount& account, ReportFn report = {});
  // Ends `id`'s run here, if any, as stop() does (nothing deleted on the server):
  // the account was removed. Not from inside that run's own callbacks.
  void cancel(std::uint64_t id);
  std::size_t active() const { return runs_.size(); }
  bool running(std::uint64_t id) const { return runs_.count(id) != 0; }

 private:
  struct Active;
  void tick();
  void on_done(std::uint64_t id, const RunReport& report);

  RunContext& context_;
  store::SealKey key_;
  uv_timer_t* timer_ = nullptr;  // freed in its close callback
  std::map<std::uint64_t, std::unique_ptr<Active>> runs_;
  std::vector<std::unique_ptr<Active>> finished_;  // freed on the next tick
};

}  // namespace postern::collect
