// The loop's read budget, renewed by a prepare handle (run once per iteration, just
// before the poll in which the reads happen).
#include "net/read_budget.h"

#include <cassert>

namespace postern::net {
namespace {

thread_local ReadBudget* g_current = nullptr;

}  // namespace

ReadBudget::ReadBudget(uv_loop_t* loop) : prepare_(new uv_prepare_t) {
  assert(g_current == nullptr);
  g_current = this;
  uv_prepare_init(loop, prepare_);
  prepare_->data = this;
  uv_prepare_start(prepare_, &ReadBudget::on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));  // never keeps a stopping loop alive
}

ReadBudget::~ReadBudget() {
  if (g_current == this) g_current = nullptr;
  prepare_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(prepare_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
}

ReadBudget* ReadBudget::current() noexcept {
  return g_current;
}

void ReadBudget::on_prepare(uv_prepare_t* handle) noexcept {
  auto* self = static_cast<ReadBudget*>(handle->data);
  if (self == nullptr || self->spent_ == 0) return;
  self->spent_ = 0;
  ++self->renewals_;
}

}  // namespace postern::net
