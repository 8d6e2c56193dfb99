// A real thread-pool Executor for tests and benchmarks: work runs on worker
// threads, completions queue up until the "loop" (the test thread) runs them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/executor.h"

namespace postern::test {

class PoolExecutor final : public core::Executor {
 public:
  explicit PoolExecutor(int threads) {
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  }
  // REQUIRES: called on the loop thread; queued work and completions are dropped.
  ~PoolExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  PoolExecutor(const PoolExecutor&) = delete;
  PoolExecutor& operator=(const PoolExecutor&) = delete;

  void submit(std::function<void()> work, std::function<void()> done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      work_.emplace_back(std::move(work), std::move(done));
    }
    work_cv_.notify_one();
  }

  // Loop thread: runs completions until pred() holds or the timeout passes.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      std::function<void()> done;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!done_cv_.wait_until(lock, deadline, [this] { return !done_.empty(); })) return pred();
        done = std::move(done_.front());
        done_.pop_front();
      }
      done();
    }
    return true;
  }

 private:
  void work_loop() {
    for (;;) {
      std::pair<std::function<void()>, std::function<void()>> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return stopping_ || !work_.empty(); });
        if (stopping_) return;
        job = std::move(work_.front());
        work_.pop_front();
      }
      job.first();
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(std::move(job.second));
      }
      done_cv_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::pair<std::function<void()>, std::function<void()>>> work_;
  std::deque<std::function<void()>> done_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace postern::test
