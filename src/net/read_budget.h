// The loop's read budget: how many bytes all connections together take from their
// sockets in one loop iteration (issue 16: no iteration over 10 ms).
//
// libuv reads a readable stream up to 32 times per wake-up, so fifty clients each
// sending a 100 KB mail could make one iteration scan megabytes before any timer or
// reply gets its turn. Past the budget a connection stops reading and resumes on the
// next iteration (through its idle handle); the budget is renewed just before each poll.
//
// Typical call sequence (loop thread):
//   net::ReadBudget budget(loop);   // from now on every Connection of this thread honours it
//   uv_run(loop, UV_RUN_DEFAULT);
// Without one (unit tests on a bare loop) connections read without a bound.
#pragma once

#include <uv.h>

#include <cstddef>

namespace postern::net {

class ReadBudget {
 public:
  // ~0.7 ms of DATA handling here (2.7 ns an octet), a few ms on a router core; the
  // per-iteration overhead this adds (one poll per 256 KiB) is a few microseconds.
  static constexpr std::size_t kBytesPerIteration = 256 * 1024;

  // Becomes this thread's budget until destroyed. REQUIRES: none installed yet.
  explicit ReadBudget(uv_loop_t* loop);
  ~ReadBudget();
  ReadBudget(const ReadBudget&) = delete;
  ReadBudget& operator=(const ReadBudget&) = delete;

  // This thread's budget, or null.
  static ReadBudget* current() noexcept;

  // Counts n octets read; false once this iteration's budget is spent.
  bool spend(std::size_t n) noexcept {
    spent_ += n;
    return spent_ < kBytesPerIteration;
  }
  std::size_t spent() const noexcept { return spent_; }
  std::size_t renewals() const noexcept { return renewals_; }

 private:
  static void on_prepare(uv_prepare_t* handle) noexcept;

  uv_prepare_t* prepare_;
  std::size_t spent_ = 0;
  std::size_t renewals_ = 0;  // iterations that had spent something
};

}  // namespace postern::net
