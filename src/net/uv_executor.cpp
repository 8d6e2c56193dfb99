// uv_queue_work jobs that own themselves.
#include "net/uv_executor.h"

#include <cstdlib>
#include <utility>

#include "core/log.h"

namespace postern::net {
namespace {

struct Job {
  uv_work_t request;
  std::function<void()> work;
  std::function<void()> done;
};

void run_work(uv_work_t* request) noexcept {
  auto* job = static_cast<Job*>(request->data);
  job->work();
}

void run_done(uv_work_t* request, int status) noexcept {
  auto* job = static_cast<Job*>(request->data);
  // UV_ECANCELED only follows uv_cancel(), which nothing here calls: `work`
  // always ran, so `done` always runs, and a waiting session is always answered.
  if (status != 0) POSTERN_LOG_ERROR("net executor event=job-status status=%d", status);
  job->done();
  delete job;
}

}  // namespace

void UvExecutor::submit(std::function<void()> work, std::function<void()> done) {
  auto* job = new Job{{}, std::move(work), std::move(done)};
  job->request.data = job;
  int rc = uv_queue_work(loop_, &job->request, &run_work, &run_done);
  if (rc != 0) {  // only for invalid arguments: a programming error
    POSTERN_LOG_ERROR("net executor event=queue-failed error=%s", uv_err_name(rc));
    std::abort();
  }
}

}  // namespace postern::net
