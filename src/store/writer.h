// Group commit: every job queued while a batch is in flight forms the next
// batch, run in ONE write transaction with ONE commit (one fsync).
//
// Typical call sequence (loop thread):
//   Writer writer(env, executor);
//   writer.deliver(request, [](Result<DeliveryOutcome> r) { ... });   // or submit<T>()
//   ... executor runs the batch on a pool thread, then each `done` on the loop,
//   in submission order (a large body's delivery comes after its staging steps).
// Each job runs in a nested txn, so a job that fails (quota, map full) aborts
// only itself; a failed nested begin or merge fails the whole batch (the
// outer txn is aborted, so nothing landed). A batch stops growing at kBatchBytes of bodies, since
// LMDB holds a txn's dirty pages in memory until the commit, and holds at most one staging step
// of a large body, so small deliveries behind it are not held up by all of its steps. If the outer
// commit fails with an unknown outcome, or LMDB reports MDB_PANIC, the Writer latches a sticky
// fatal error (leveldb's bg_error_): that batch's jobs and every later submit get Errc::fatal. A
// failed outer commit whose outcome is known is not fatal: LMDB writes the meta page only after the
// data pages are written and synced, and a failed meta write leaves the env in MDB_PANIC; so with
// the env intact and no newer txn committed, the batch did not land. Its jobs get Errc::full (disk
// or map full: ENOSPC, MDB_MAP_FULL, or LMDB's EIO for a short write on a disk with no space left)
// or Errc::io, and the next batch may succeed: space freed on the disk, or mail deleted from the
// map, lets deliveries through with no restart. While full, each commit is followed by a small one
// so pages freed by deletions are reused.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "core/executor.h"
#include "store/delivery.h"
#include "store/env.h"

namespace postern::store {

class Writer {
 public:
  static constexpr std::uint64_t kBatchBytes = 4u << 20;

  // Commits the outer txn of a batch: WriteTxn::commit in production; tests
  // inject failures here (leveldb's fault-injection Env). Pool thread.
  using Committer = std::function<Result<void>(WriteTxn& txn)>;

  // Borrows both; they must outlive the Writer. Loop thread only.
  Writer(Env& env, core::Executor& executor, Committer committer = {});
  // REQUIRES: idle() (no batch in flight: its completion would touch *this).
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // `apply` runs on a pool thread inside a nested txn (it must not touch
  // loop-thread state); `done` runs on the loop thread. When failed(), `done`
  // is called with Errc::fatal before submit returns.
  template <class T>
  void submit(std::function<Result<T>(WriteTxn&)> apply, std::function<void(Result<T>)> done) {
    auto slot = std::make_shared<std::optional<Result<T>>>();
    Job job;
    job.apply = [apply = std::move(apply), slot](WriteTxn& txn) -> Result<void> {
      slot->emplace(apply(txn));
      if (!(*slot)->has_value()) return (*slot)->error();
      return {};
    };
    job.done = [done = std::move(done), slot](const Error* batch_error) {
      if (batch_error != nullptr) {
        done(Result<T>(*batch_error));
      } else {
        done(std::move(**slot));
      }
    };
    enqueue(std::move(job));
  }

  // store::deliver as a job; the spool file (if any) is unlinked on the pool
  // thread after the batch, whatever its outcome. A body of more than
  // kStageChunks chunks is first staged by jobs of kStageChunks chunks each, one
  // per batch (other deliveries join those batches), so no txn holds the whole
  // body in dirty pages; the delivery itself stays one atomic job, queued once the
  // last step is done (so it may complete after deliveries submitted later).
  void deliver(DeliveryRequest request, std::function<void(Result<DeliveryOutcome>)> done);

  bool failed() const { return fatal_.has_value(); }
  // The last Errc::full a delivery or batch met (sys: MDB_MAP_FULL for the map, else the
  // disk), until a delivery is stored again; null when there is room. Loop thread.
  const Error* full() const { return full_ ? &*full_ : nullptr; }
  // REQUIRES: failed().
  const Error& fatal_error() const { return *fatal_; }
  bool idle() const { return !in_flight_ && queue_.empty() && staging_.empty(); }
  std::uint64_t commits() const { return commits_; }  // successful outer commits
  std::uint64_t batches() const { return batches_; }  // batches run (committed or not)
  std::size_t queued() const { return queue_.size() + staging_.size(); }

 private:
  struct Job {
    std::function<Result<void>(WriteTxn&)> apply;  // pool thread; success = keep changes
    std::function<void(const Error*)> done;        // loop thread
    std::function<void()> after_batch;             // pool thread, may be empty
    std::uint64_t weight = 0;                      // body bytes it may write
  };
  struct Batch;

  void enqueue(Job job);
  void enqueue_stage(Job job);
  void start_batch();
  void finish_batch(Batch& batch);
  static void run_batch(Env& env, const Committer& committer, Batch& batch) noexcept;

  Env& env_;
  core::Executor& executor_;
  Committer committer_;
  std::deque<Job> queue_;
  std::deque<Job> staging_;  // staging steps of large bodies, one per batch
  bool in_flight_ = false;
  std::optional<Error> fatal_;
  std::optional<Error> full_;    // the last lack of space, until mail is stored again
  bool release_queued_ = false;  // a page-release commit is queued or running
  std::uint64_t commits_ = 0;
  std::uint64_t batches_ = 0;
};

}  // namespace postern::store
