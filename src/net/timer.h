// net::Timer: one uv timer on the heap, owned by one object: STYLE's RAII trap 1 (handle
// memory is freed only in the close callback) written once for every service.
//
// Typical use (loop thread):
//   net::Timer timer(loop);
//   timer.start(std::chrono::seconds(2), {}, [this] { answer(); });   // once
//   timer.start(kEvery, kEvery, [this] { sweep(); });                 // repeating
//   timer.stop();            // nothing fires until the next start()
//   ~Timer()                 // stops; the handle is freed later, in its close callback
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>

namespace postern::net {

// Loop thread only; non-copyable, non-movable. The handle outlives the Timer until libuv
// has closed it, so the owner may be destroyed at any time, even from inside `fn`; `fn`
// never runs after the destructor.
class Timer {
 public:
  // REQUIRES: `loop` is run at least once more after the destructor (to free the handle).
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Calls `fn` after `timeout`, then every `repeat` (zero: once). Replaces an earlier start.
  void start(std::chrono::milliseconds timeout, std::chrono::milliseconds repeat,
             std::function<void()> fn);
  void stop();
  bool active() const;
  // The timer alone does not keep the loop running (uv_unref): background upkeep that
  // must not hold a stopping loop open.
  void unref();

 private:
  static void on_timer(uv_timer_t* handle) noexcept;

  uv_timer_t* handle_;
  std::function<void()> fn_;
};

}  // namespace postern::net
