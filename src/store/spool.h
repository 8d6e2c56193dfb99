// Streams one incoming message body to a spool file without holding it in
// memory, computing its body key (store/body_key.h) on the way, for Writer::deliver.
//
// Typical call sequence (loop thread):
//   Spool spool(env.options(), executor);
//   spool.set_on_writable([&] { resume_input(); });
//   while (input) { spool.append(bytes); if (!spool.wants_more()) pause_input(); }
//   spool.finish([&](Result<SpooledBody> body) { writer.deliver({*body, ...}, ...); });
// Bytes are copied into 64 KiB buffers; each full buffer is hashed (the body
// key's SHA-256 passes) by the Executor (pool thread), one job at a time, in
// order, while the rest arrives, so finish() hashes only the last partial
// buffer (on the pool, or on the loop when it is small: kInlineHashBytes). At most two
// buffers are in flight while the caller honours wants_more(): one in a job,
// one filling. A body stays in memory (written once: by the store, into LMDB)
// while it is at most `memory_limit` octets and the process-wide budget
// (kMemoryBudgetBytes over every spool and every body not yet stored) has
// room; otherwise what was kept is written to a file in <data>/spool/
// (emptied by store/recovery.h) and the rest follows it, one pwrite per buffer.
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
  // The largest body kept in memory: a 100 KB mail with room for encoding.
  static constexpr std::uint64_t kMemoryBodyBytes = 256 * 1024;
  // In-memory bodies of every spool together, from the first byte until the
  // SpooledBody (and its lease) is dropped after the store commit.
  static constexpr std::uint64_t kMemoryBudgetBytes = 8u << 20;
  // An in-memory body's last partial buffer up to this size is hashed by finish()
  // itself, on the loop, which then calls `done` before it returns: a few µs here, well
  // under 1 ms on a 580 MHz MIPS core, against a round trip through the thread pool.
  static constexpr std::size_t kInlineHashBytes = 4 * 1024;

  // Borrows `executor`, which must outlive every job this Spool submits
  // (including the cleanup a destructor may queue). Loop thread only.
  // `memory_limit` 0 sends every body larger than one buffer to a file.
  Spool(const Options& options, core::Executor& executor,
        std::uint64_t memory_limit = kMemoryBodyBytes);
  // An unfinished spool (or one whose body was never taken) removes its file
  // on the pool; a pending finish callback is then never called.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // REQUIRES: finish() not yet called. Never fails: a write error is kept
  // and reported by finish(). Bare LFs become CRLF on the way in. Returns the
  // stored-form bytes appended (what the dedup fingerprint reads): `bytes`
  // itself when nothing changed, else a scratch buffer valid until the next call.
  std::string_view append(std::string_view bytes);
  // False while two buffers are in flight or queued: pause the input.
  bool wants_more() const;
  // Called (loop thread) when wants_more() turns true again.
  void set_on_writable(std::function<void()> on_writable);
  std::uint64_t size() const;  // stored-form octets so far
  // Octets of in-memory bodies counted against kMemoryBudgetBytes, process-wide.
  static std::uint64_t memory_in_use();

  // Completes the last line (CRLF; only LF after a final CR; nothing for an
  // empty body or one ending in LF), flushes, closes the file and reports the body; `done` runs on
  // the loop thread via the executor. The caller then owns the file (SpooledBody::path) or
  // the memory and its lease. `done` may run before finish() returns (kInlineHashBytes).
  void finish(std::function<void(Result<SpooledBody>)> done);

 private:
  struct State;
  void buffer(std::string_view bytes);  // into the 64 KiB buffers, no pump
  void pump();
  // Loop thread: hands the finished body (or the error) to the finish callback.
  static void complete(const std::shared_ptr<State>& st, const std::shared_ptr<std::string>& rest,
                       bool to_file);
  std::shared_ptr<State> state_;
};

}  // namespace postern::store
