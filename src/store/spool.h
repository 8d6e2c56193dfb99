// Streams one incoming message body to a spool file without holding it in
// memory, hashing it (SHA-256) on the way, for Writer::deliver.
//
// Typical call sequence (loop thread):
//   Spool spool(env.options(), executor);
//   spool.set_on_writable([&] { resume_input(); });
//   while (input) { spool.append(bytes); if (!spool.wants_more()) pause_input(); }
//   spool.finish([&](Result<SpooledBody> body) { writer.deliver({*body, ...}, ...); });
// Bytes are copied into a 64 KiB buffer; a full buffer is written by the
// Executor (pool thread: pwrite + hash), one write at a time, in order. At most
// two buffers exist while the caller honours wants_more(): one being written,
// one filling. A body that never fills the first buffer stays in memory and no
// file is made. The file is created in <data>/spool/ (emptied by store/recovery.h).
// The body is kept in the stored form (store/stored_form.h): a bare LF is
// written as CRLF, and finish() completes a last line that lacks its CRLF, so
// size() and the hash are those of the bytes POP3 RETR will send.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/executor.h"
#include "store/bodies.h"
#include "store/env.h"

namespace postern::store {

class Spool {
 public:
  static constexpr std::size_t kBufferBytes = 64 * 1024;

  // Borrows `executor`, which must outlive every job this Spool submits
  // (including the cleanup a destructor may queue). Loop thread only.
  Spool(const Options& options, core::Executor& executor);
  // An unfinished spool (or one whose body was never taken) removes its file
  // on the pool; a pending finish callback is then never called.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // REQUIRES: finish() not yet called. Never fails: a write error is kept
  // and reported by finish(). Bare LFs become CRLF on the way in.
  void append(std::string_view bytes);
  // False while two buffers are in flight or queued: pause the input.
  bool wants_more() const;
  // Called (loop thread) when wants_more() turns true again.
  void set_on_writable(std::function<void()> on_writable);
  std::uint64_t size() const;  // stored-form octets so far

  // Completes the last line (CRLF; only LF after a final CR; nothing for an
  // empty body or one ending in LF), flushes, closes the file and reports the body; `done` runs on
  // the loop thread via the executor. The caller then owns the file (SpooledBody::path).
  void finish(std::function<void(Result<SpooledBody>)> done);

 private:
  struct State;
  void buffer(std::string_view bytes);  // into the 64 KiB buffers, no pump
  void pump();
  std::shared_ptr<State> state_;
};

}  // namespace postern::store
