// uv_signal handles for stop and reload.
#include "app/signals.h"

#include <csignal>

namespace postern::app {

Signals::Signals(uv_loop_t* loop, std::function<void(int)> on_signal)
    : on_signal_(std::move(on_signal)) {
  const int numbers[3] = {SIGTERM, SIGINT, SIGHUP};
  for (int i = 0; i < 3; ++i) {
    handles_[i] = new uv_signal_t;
    uv_signal_init(loop, handles_[i]);
    handles_[i]->data = this;
    uv_signal_start(handles_[i], &Signals::on_uv_signal, numbers[i]);
  }
}

Signals::~Signals() {
  for (uv_signal_t* handle : handles_) {
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
  }
}

void Signals::on_uv_signal(uv_signal_t* handle, int signum) noexcept {
  auto* self = static_cast<Signals*>(handle->data);
  if (self != nullptr) self->on_signal_(signum);
}

}  // namespace postern::app
