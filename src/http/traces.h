// http::TraceBoard: the status page's traces, running and recently finished, with their
// hops so far, so the page can poll GET /api/trace/<id>. Bounded: at most `max_running`
// at once (the API answers 429 beyond), `max_kept` records in all, each kept `keep` after
// it finished, and at most `max_hops` hops per trace. Pure: time is an argument. Also the
// link chart's downsampling.
//
// Typical call sequence (Api, loop thread):
//   board.prune(now); if (board.full()) -> 429
//   board.add(id, target, now); run = diagnostics.start_trace(...); board.attach(id, run)
//   ... board.add_hop(id, hop) ...  board.finish(id, end, now)   (from the run's callbacks)
//   board.find(id) -> the poll's answer
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "http/diagnostics.h"

namespace postern::http {

struct TraceBoardOptions {
  std::size_t max_running = 2;  // probes are light, but a router's CPU is not
  std::size_t max_kept = 8;     // running + finished records
  core::Seconds keep{300};      // a finished result is kept this long
  std::size_t max_hops = 64;
};

struct TraceRecord {
  std::string id;
  std::string target;  // as the owner typed it (validated by the backend)
  core::TimePoint started;
  core::TimePoint finished;
  bool done = false;
  std::vector<HopView> hops;  // in TTL order
  TraceEnd end;               // valid when done
};

class TraceBoard {
 public:
  explicit TraceBoard(TraceBoardOptions options = {}) : options_(options) {}

  // Forgets finished records older than `keep` and releases runs retired by finish().
  void prune(core::TimePoint now);
  bool full() const { return running() >= options_.max_running; }
  std::size_t running() const;
  std::size_t size() const { return records_.size(); }

  // A new running record; the oldest finished ones go when max_kept would be passed.
  // REQUIRES: !full(), `id` unused.
  void add(std::string id, std::string target, core::TimePoint now);
  // Keeps the run alive while its record is running. Ignored for an unknown id.
  void attach(const std::string& id, std::unique_ptr<TraceRun> run);
  void add_hop(const std::string& id, HopView hop);
  // Marks the record done. The run is kept until the next prune(): finish() is called
  // from inside the run's own callback, which must not destroy it.
  void finish(const std::string& id, TraceEnd end, core::TimePoint now);
  // Drops a record (a trace that did not start) and its run.
  void remove(const std::string& id);
  const TraceRecord* find(const std::string& id) const;

 private:
  struct Entry {
    TraceRecord record;
    std::unique_ptr<TraceRun> run;
  };
  Entry* entry(const std::string& id);

  TraceBoardOptions options_;
  std::vector<Entry> records_;  // in start order
  std::vector<std::unique_ptr<TraceRun>> retired_;
};

// At most `max` points (0: all): consecutive samples merged into buckets, sent and lost
// summed, RTT averaged over the answered probes, so a day of samples stays a small answer.
std::vector<LinkPoint> downsample(const std::vector<LinkPoint>& points, std::size_t max);

}  // namespace postern::http
