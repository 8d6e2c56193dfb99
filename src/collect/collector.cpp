// The collection scheduler: due accounts, cross-process locks, status rows.
#include "collect/collector.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>

#include "core/log.h"

namespace postern::collect {

struct Collector::Active {
  store::CollectAccount account;
  std::unique_ptr<Run> run;
  int lock_fd = -1;
  ReportFn report;
  ~Active() {
    run.reset();
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }
};

std::int64_t next_delay_seconds(const store::CollectAccount& account,
                                const store::CollectStatus& status) {
  const std::int64_t interval = std::max<std::int64_t>(account.interval_seconds, 60);
  if (status.failures_in_row == 0) return interval;
  const std::uint32_t shift = std::min<std::uint32_t>(status.failures_in_row - 1, 16);
  return std::min<std::int64_t>(interval, std::int64_t{60} << shift);
}

Collector::Collector(RunContext& context, store::SealKey key) : context_(context), key_(key) {}

Collector::~Collector() {
  stop();
}

void Collector::start(std::chrono::milliseconds tick) {
  if (timer_ != nullptr) return;
  timer_ = new uv_timer_t;
  uv_timer_init(context_.loop, timer_);
  timer_->data = this;
  const auto ms = static_cast<std::uint64_t>(tick.count());
  uv_timer_start(
      timer_,
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<Collector*>(t->data)->tick();
      },
      0, ms);
}

void Collector::stop() {
  if (timer_ != nullptr) {
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  runs_.clear();  // ~Run detaches its connection: the server deletes nothing without QUIT
  finished_.clear();
}

void Collector::cancel(std::uint64_t id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  POSTERN_LOG_INFO("collect %llu event=run-cancelled", static_cast<unsigned long long>(id));
  finished_.push_back(std::move(it->second));  // freed on the next tick, as a finished run
  runs_.erase(it);
  finished_.back()->run.reset();  // detaches its connection; no report
}

void Collector::tick() {
  finished_.clear();
  const std::int64_t now = core::unix_seconds(context_.clock.now());
  std::vector<store::CollectAccount> due;
  {
    auto txn = context_.env.begin_read();  // short: ends before any run starts
    if (!txn) return;
    auto accounts = store::list_collect_accounts(*txn);
    if (!accounts) return;
    for (auto& a : *accounts) {
      if (runs_.count(a.id)) continue;
      auto status = store::collect_status(*txn, a.id);
      if (!status) continue;
      if (status->last_run == 0 || status->last_run + next_delay_seconds(a, *status) <= now)
        due.push_back(std::move(a));
    }
  }
  for (const auto& a : due) run_now(a);
}

bool Collector::run_now(const store::CollectAccount& account, ReportFn report) {
  if (runs_.count(account.id)) return false;
  const std::string lock_path =
      context_.env.options().data_dir + "/collect-" + std::to_string(account.id) + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    POSTERN_LOG_INFO("collect %llu event=run-skipped reason=locked",
                     static_cast<unsigned long long>(account.id));
    return false;
  }
  auto active = std::make_unique<Active>();
  active->account = account;
  active->lock_fd = fd;
  active->report = std::move(report);
  auto password = store::unseal(key_, account.sealed_password);
  const std::uint64_t id = account.id;
  if (!password) {
    RunReport r;
    r.outcome.failure = Failure::auth;
    r.sentence = "the stored password cannot be decrypted (collect.key changed?) — set it again";
    runs_[id] = std::move(active);
    on_done(id, r);
    return true;
  }
  active->run = std::make_unique<Run>(context_, account, std::move(*password),
                                      [this, id](const RunReport& r) { on_done(id, r); });
  Run* run = active->run.get();
  runs_[id] = std::move(active);
  run->start();
  return true;
}

void Collector::on_done(std::uint64_t id, const RunReport& report) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  std::unique_ptr<Active> active = std::move(it->second);
  runs_.erase(it);
  const std::int64_t now = core::unix_seconds(context_.clock.now());
  const Outcome& o = report.outcome;
  const std::string sentence =
      o.ok() && report.skipped_too_big == 0 ? std::string() : report.sentence;
  ReportFn done = active->report;
  store::CollectAccount account = active->account;
  const std::uint64_t bytes = o.bytes;
  // Keep the Run (whose callback this is) until the next tick; release the lock now.
  if (active->lock_fd >= 0) {
    ::close(active->lock_fd);
    active->lock_fd = -1;
  }
  finished_.push_back(std::move(active));
  context_.writer.submit<bool>(
      [id, now, o, sentence, bytes](store::WriteTxn& txn) -> core::Result<bool> {
        auto status = store::collect_status(txn, id);
        if (!status) return status.error();
        store::CollectStatus s = *status;
        s.last_run = now;
        if (o.ok()) {
          s.last_success = now;
          s.failures_in_row = 0;
        } else {
          ++s.failures_in_row;
        }
        s.mails += o.fetched;
        s.bytes += bytes;
        s.uid_from_headers = o.uid_from_headers;
        s.error = sentence;
        if (auto r = store::put_collect_status(txn, id, s); !r) return r.error();
        return true;
      },
      [done, account, report](core::Result<bool>) {
        if (done) done(account, report);
      });
}

}  // namespace postern::collect
