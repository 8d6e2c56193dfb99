// SIGTERM/SIGINT/SIGHUP as loop events (uv_signal), never async-signal handlers.
#pragma once

#include <uv.h>

#include <functional>

namespace postern::app {

// Loop thread only. Handles are freed in their close callbacks (STYLE RAII trap 1).
class Signals {
 public:
  Signals(uv_loop_t* loop, std::function<void(int signum)> on_signal);
  ~Signals();  // closes the handles
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;

 private:
  static void on_uv_signal(uv_signal_t* handle, int signum) noexcept;
  std::function<void(int)> on_signal_;
  uv_signal_t* handles_[3] = {};
};

}  // namespace postern::app
