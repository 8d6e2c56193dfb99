// Work off the loop thread: the seam between pure code and libuv's thread pool.
//
// Typical call sequence: submit(work, done); `work` runs on some worker thread,
// then `done` runs on the loop thread. The production implementation is
// net::UvExecutor (uv_queue_work); tests use InlineExecutor or HeldExecutor so
// that group commit and completion ordering are deterministic (leveldb's Env).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <utility>

namespace postern::core {

struct Executor {
  virtual ~Executor() = default;
  // REQUIRES: called on the loop thread. `work` must not touch loop-thread state;
  // `done` runs on the loop thread after `work` returned.
  virtual void submit(std::function<void()> work, std::function<void()> done) = 0;
};

// Runs work and completion immediately, in the caller's stack.
class InlineExecutor final : public Executor {
 public:
  void submit(std::function<void()> work, std::function<void()> done) override {
    work();
    done();
  }
};

// Holds submitted jobs until the test releases them, so batches can form.
class HeldExecutor final : public Executor {
 public:
  void submit(std::function<void()> work, std::function<void()> done) override {
    jobs_.emplace_back(std::move(work), std::move(done));
  }
  std::size_t pending() const { return jobs_.size(); }
  // Runs the oldest job (work then done). Returns false when none is held.
  bool run_one() {
    if (jobs_.empty()) return false;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    job.first();
    job.second();
    return true;
  }
  void run_all() {
    while (run_one()) {
    }
  }

 private:
  std::deque<std::pair<std::function<void()>, std::function<void()>>> jobs_;
};

}  // namespace postern::core
