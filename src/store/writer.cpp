// Group commit over nested LMDB transactions, one batch in flight at a time.
#include "store/writer.h"

#include <unistd.h>

#include "core/log.h"

namespace postern::store {

struct Writer::Batch {
  std::vector<Job> jobs;
  std::optional<Error> error;  // set when the whole batch failed
  bool committed = false;
  bool outcome_unknown = false;  // the outer commit failed for a reason other than full
};

Writer::Writer(Env& env, core::Executor& executor, Committer committer)
    : env_(env), executor_(executor), committer_(std::move(committer)) {
  if (!committer_) committer_ = [](WriteTxn& txn) { return txn.commit(); };
}

Writer::~Writer() {
  assert(!in_flight_);
}

void Writer::deliver(DeliveryRequest request, std::function<void(Result<DeliveryOutcome>)> done) {
  auto req = std::make_shared<DeliveryRequest>(std::move(request));
  if (failed()) {
    // Still drop the spool file: nothing will ever read it.
    std::string path = req->body.path;
    executor_.submit(
        [path] {
          if (!path.empty()) ::unlink(path.c_str());
        },
        [] {});
    done(Result<DeliveryOutcome>(*fatal_));
    return;
  }
  // Staging errors reach the delivery job through here (jobs run in order).
  auto staging_error = std::make_shared<std::optional<Error>>();
  const std::uint32_t chunks = chunk_count_for(req->body.size);
  if (chunks > kStageChunks) {
    for (std::uint32_t first = 0; first < chunks; first += kStageChunks) {
      Job stage;
      stage.solo = true;
      stage.weight = std::uint64_t{kStageChunks} * kChunkBytes;
      stage.apply = [req, staging_error, first](WriteTxn& txn) {
        if (*staging_error) return false;
        auto r = stage_chunks(txn, req->body, first, kStageChunks);
        if (!r) *staging_error = r.error();
        return r.has_value();
      };
      stage.done = [](const Error*) {};  // the delivery's own done reports
      enqueue(std::move(stage));
    }
  }
  Job job;
  auto slot = std::make_shared<std::optional<Result<DeliveryOutcome>>>();
  job.weight = req->body.size;
  job.apply = [req, slot, staging_error](WriteTxn& txn) {
    if (*staging_error) {
      slot->emplace(**staging_error);
    } else {
      slot->emplace(store::deliver(txn, *req));
    }
    return (*slot)->has_value();
  };
  job.done = [done = std::move(done), slot](const Error* batch_error) {
    if (batch_error != nullptr) {
      done(Result<DeliveryOutcome>(*batch_error));
    } else {
      done(std::move(**slot));
    }
  };
  job.after_batch = [req] {
    if (!req->body.path.empty()) ::unlink(req->body.path.c_str());
  };
  enqueue(std::move(job));
}

void Writer::enqueue(Job job) {
  if (failed()) {
    job.done(&*fatal_);
    return;
  }
  queue_.push_back(std::move(job));
  if (!in_flight_) start_batch();
}

void Writer::start_batch() {
  auto batch = std::make_shared<Batch>();
  std::uint64_t weight = 0;
  while (!queue_.empty()) {
    Job& next = queue_.front();
    if (!batch->jobs.empty() && (next.solo || weight + next.weight > kBatchBytes)) break;
    weight += next.weight;
    const bool solo = next.solo;
    batch->jobs.push_back(std::move(next));
    queue_.pop_front();
    if (solo) break;
  }
  in_flight_ = true;
  ++batches_;
  Env& env = env_;
  const Committer& committer = committer_;
  executor_.submit([&env, &committer, batch] { run_batch(env, committer, *batch); },
                   [this, batch] { finish_batch(*batch); });
}

void Writer::run_batch(Env& env, const Committer& committer, Batch& batch) noexcept {
  auto txn = env.begin_write();
  if (!txn) {
    batch.error = txn.error();
  } else {
    for (Job& job : batch.jobs) {
      auto child = txn->nested();
      if (!child) {
        // Cannot isolate this job (e.g. ENOMEM): fail the whole batch; the outer
        // txn is then aborted, so nothing landed and the outcome is known.
        batch.error = child.error();
        break;
      }
      if (job.apply(*child)) {
        if (auto r = child->commit(); !r) {
          // A failed merge may leave the parent half-updated: drop the batch.
          batch.error = r.error();
          break;
        }
      } else {
        child->abort();
      }
    }
    if (!batch.error) {
      if (auto r = committer(*txn); r) {
        batch.committed = true;
      } else {
        batch.error = r.error();
        batch.outcome_unknown = r.error().code != Errc::full;
      }
    }
  }
  if (batch.error && batch.error->code == Errc::full) {
    // Probe: if the failure left LMDB in its fatal state, the next begin says so.
    if (auto probe = env.begin_read(); !probe) batch.error = probe.error();
  }
  for (Job& job : batch.jobs) {
    if (job.after_batch) job.after_batch();
  }
}

void Writer::finish_batch(Batch& batch) {
  if (batch.committed) ++commits_;
  if (batch.error) {
    Error e = *batch.error;
    if (e.code == Errc::fatal || batch.outcome_unknown) {
      // Unknown outcome or MDB_PANIC: latch, never retry blindly (DESIGN.md).
      e.code = Errc::fatal;
      if (!fatal_) {
        fatal_ = e;
        POSTERN_LOG_ERROR("store event=writer-fatal where=%s sys=%d jobs=%zu", e.where, e.sys,
                          batch.jobs.size());
      }
    }
    for (Job& job : batch.jobs) job.done(&e);
  } else {
    for (Job& job : batch.jobs) job.done(nullptr);
  }
  in_flight_ = false;
  if (failed()) {
    std::deque<Job> late;
    late.swap(queue_);
    for (Job& job : late) job.done(&*fatal_);
  } else if (!queue_.empty()) {
    start_batch();
  }
}

}  // namespace postern::store
