// uv_queue_work jobs that own themselves.
#include "net/uv_executor.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
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

// Pool threads yield to the loop thread when CPUs are short: a PBKDF2 run or a
// large commit on a one- or two-core router must not delay every session's next
// reply (the loop's iteration budget, issue 16). Linux keeps a nice value per
// thread (setpriority(2) on a thread id), and raising it needs no privilege. The
// pool still gets any CPU the loop leaves free; measured at 1 KB no change, at
// 100 KB x 10 connections perhaps -4 % (within run-to-run noise; README Benchmarks).
constexpr int kPoolNice = 5;

void lower_this_thread_once() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  if (::setpriority(PRIO_PROCESS, tid, kPoolNice) != 0) {
    POSTERN_LOG_WARN("net executor event=pool-nice-failed errno=%d", errno);
  }
}

void run_work(uv_work_t* request) noexcept {
  lower_this_thread_once();
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
