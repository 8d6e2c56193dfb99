// core::Executor over libuv's thread pool (uv_queue_work): the production
// executor for group commit, PBKDF2 checks and exports.
#pragma once

#include <functional>

#include <uv.h>

#include "core/executor.h"

namespace postern::net {

// Each submit() heap-allocates one job that owns its uv_work_t and frees itself
// in the after-work callback, so the executor may be destroyed while jobs are in
// flight; the loop stays alive (uv_run does not return) until they are done.
// Typical use: UvExecutor ex(loop); store::Writer writer(ex, ...); uv_run(loop, ...).
class UvExecutor final : public core::Executor {
 public:
  // REQUIRES: `loop` outlives every job submitted.
  explicit UvExecutor(uv_loop_t* loop) : loop_(loop) {}

  // REQUIRES: loop thread. `work` runs on a uv pool thread, `done` afterwards on
  // the loop thread. Both must not throw (they run under noexcept callbacks).
  void submit(std::function<void()> work, std::function<void()> done) override;

 private:
  uv_loop_t* loop_;
};

}  // namespace postern::net
