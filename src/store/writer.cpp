// Group commit over nested LMDB transactions, one batch in flight at a time.
#include "store/writer.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include "core/log.h"

namespace postern::store {

struct Writer::Batch {
  std::vector<Job> jobs;
  std::optional<Error> error;  // set when the whole batch failed
  std::optional<Error> full;   // a job or the batch failed for lack of space
  bool committed = false;
  bool outcome_unknown = false;  // the outer commit failed and may have landed
  bool delivered = false;        // a job that stores mail (weight > 0) kept its changes
};

namespace {

// A counter bumped by the small commit that releases freed pages while the store is full.
constexpr const char* kStatReleaseCommits = "stat:page-release-commits";

// LMDB turns a short write(2) of data pages (what a filling disk gives) into EIO, so an
// EIO or other failed commit on a data folder with almost no space left is a full disk.
bool disk_nearly_full(const std::string& dir, std::uint64_t batch_bytes) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return false;
  const std::uint64_t free = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  return free < batch_bytes + (1u << 20);
}

}  // namespace

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
  // Staging errors reach the delivery job through here (it runs after the last stage).
  auto staging_error = std::make_shared<std::optional<Error>>();
  const std::uint32_t chunks = chunk_count_for(req->body.size);
  const bool staged = chunks > kStageChunks;
  auto held = std::make_shared<Job>();  // the delivery job, once staging is done
  if (staged) {
    for (std::uint32_t first = 0; first < chunks; first += kStageChunks) {
      Job stage;
      stage.weight = std::uint64_t{kStageChunks} * kChunkBytes;
      stage.apply = [req, staging_error, first](WriteTxn& txn) -> Result<void> {
        if (*staging_error) return **staging_error;
        auto r = stage_chunks(txn, req->body, first, kStageChunks);
        if (r) r = txn.env().check_reserve(txn);
        if (!r) {
          *staging_error = r.error();
          return r.error();
        }
        return {};
      };
      // The delivery's own done reports; after the last stage, the delivery is queued. A
      // stage whose batch failed leaves its chunks to the delivery job (put_chunks).
      if (first + kStageChunks >= chunks) {
        stage.done = [this, held](const Error*) { enqueue(std::move(*held)); };
      } else {
        stage.done = [](const Error*) {};
      }
      enqueue_stage(std::move(stage));
    }
  }
  Job job;
  auto slot = std::make_shared<std::optional<Result<DeliveryOutcome>>>();
  job.weight = req->body.size;
  job.apply = [req, slot, staging_error](WriteTxn& txn) -> Result<void> {
    if (*staging_error) {
      slot->emplace(**staging_error);
    } else {
      slot->emplace(store::deliver(txn, *req));
      if ((*slot)->has_value()) {
        // Mail may not eat the map's reserve: deletions need it to make room.
        if (auto room = txn.env().check_reserve(txn); !room) slot->emplace(room.error());
      }
    }
    if (!(*slot)->has_value()) return (*slot)->error();
    return {};
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
  if (staged) {
    job.weight = 4096;  // its chunks are in already: it writes rows, about a page
    *held = std::move(job);
  } else {
    enqueue(std::move(job));
  }
}

void Writer::enqueue(Job job) {
  if (failed()) {
    job.done(&*fatal_);
    return;
  }
  queue_.push_back(std::move(job));
  if (!in_flight_) start_batch();
}

void Writer::enqueue_stage(Job job) {
  if (failed()) {
    job.done(&*fatal_);
    return;
  }
  staging_.push_back(std::move(job));
  if (!in_flight_) start_batch();
}

// A batch: at most one staging step (kStageChunks chunks of one large body), then the
// queued jobs while their body bytes fit in kBatchBytes (the first always goes). So a
// small delivery queued behind a large body waits for one staging step, not for all of them.
void Writer::start_batch() {
  auto batch = std::make_shared<Batch>();
  std::uint64_t weight = 0;
  if (!staging_.empty()) {
    weight += staging_.front().weight;
    batch->jobs.push_back(std::move(staging_.front()));
    staging_.pop_front();
  }
  while (!queue_.empty()) {
    Job& next = queue_.front();
    if (!batch->jobs.empty() && weight + next.weight > kBatchBytes) break;
    weight += next.weight;
    batch->jobs.push_back(std::move(next));
    queue_.pop_front();
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
  std::uint64_t weight = 0;
  if (!txn) {
    batch.error = txn.error();
  } else {
    const std::size_t txn_id = mdb_txn_id(txn->handle());
    for (Job& job : batch.jobs) {
      auto child = txn->nested();
      if (!child) {
        // Cannot isolate this job (e.g. ENOMEM): fail the whole batch; the outer
        // txn is then aborted, so nothing landed and the outcome is known.
        batch.error = child.error();
        break;
      }
      weight += job.weight;
      if (auto kept = job.apply(*child); kept) {
        if (auto r = child->commit(); !r) {
          // A failed merge may leave the parent half-updated: drop the batch.
          batch.error = r.error();
          break;
        }
        if (job.weight > 0) batch.delivered = true;
      } else {
        // A mailbox over its quota (sys 0) is that mailbox's problem, not a full store.
        if (kept.error().code == Errc::full && kept.error().sys != 0) batch.full = kept.error();
        child->abort();
      }
    }
    if (!batch.error) {
      if (auto r = committer(*txn); r) {
        batch.committed = true;
      } else {
        batch.error = r.error();
        // Did it land? LMDB writes the meta page last, and a failed meta write marks the
        // env fatal (MDB_PANIC on every later begin). With the env intact and the last
        // committed txn still older than ours, the old meta stands: nothing of the batch
        // landed, so it is a resource or I/O error, not fatal (DESIGN.md: fatal is an
        // unknown outcome).
        auto probe = env.begin_read();
        if (!probe) {
          batch.error = probe.error();
          batch.outcome_unknown = true;
        } else if (mdb_txn_id(probe->handle()) >= txn_id) {
          batch.outcome_unknown = true;  // it landed, or another process wrote meanwhile
        } else if (batch.error->code != Errc::full &&
                   disk_nearly_full(env.options().data_dir, weight)) {
          batch.error->code = Errc::full;
        }
      }
    }
  }
  if (batch.error && batch.error->code == Errc::full) {
    // Probe: if the failure left LMDB in its fatal state, the next begin says so.
    if (auto probe = env.begin_read(); !probe) batch.error = probe.error();
  }
  if (batch.error && batch.error->code == Errc::full) batch.full = batch.error;
  for (Job& job : batch.jobs) {
    if (job.after_batch) job.after_batch();
  }
}

void Writer::finish_batch(Batch& batch) {
  if (batch.committed) ++commits_;
  if (batch.full) {
    if (!full_) {
      POSTERN_LOG_WARN("store event=full where=%s sys=%d reason=%s", batch.full->where,
                       batch.full->sys, batch.full->sys == MDB_MAP_FULL ? "map-full" : "disk-full");
    }
    full_ = batch.full;
  } else if (batch.committed && batch.delivered && full_) {
    POSTERN_LOG_INFO("store event=space-available");
    full_.reset();
  }
  if (batch.committed && full_ && !release_queued_) {
    // Pages freed by txn T (mail deleted to make room) are reused only from txn T + 2
    // on (no reader can still see them): while full, follow a commit with a small one.
    release_queued_ = true;
    Job tick;
    tick.apply = [](WriteTxn& txn) -> Result<void> {
      auto n = next_sequence(txn, kStatReleaseCommits);
      if (!n) return n.error();
      return {};
    };
    tick.done = [this](const Error*) { release_queued_ = false; };
    queue_.push_back(std::move(tick));
  }
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
    late.swap(staging_);  // a last stage's done queues its delivery, which fails at once
    for (Job& job : late) job.done(&*fatal_);
    late.clear();
    late.swap(queue_);
    for (Job& job : late) job.done(&*fatal_);
  } else if (!queue_.empty() || !staging_.empty()) {
    start_batch();
  }
}

}  // namespace postern::store
