// Spool: loop-thread buffering; pool-thread body key (and pwrite once the body
// is too large for memory), one job in flight.
#include "store/spool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <optional>
#include <vector>

#include "core/fd.h"
#include "store/body_key.h"
#include "store/stored_form.h"

namespace postern::store {
namespace {

std::atomic<std::uint64_t> g_memory_in_use{0};

// A share of the memory budget; given back when the last holder drops it.
struct MemoryLease {
  std::uint64_t bytes = 0;
  ~MemoryLease() { g_memory_in_use.fetch_sub(bytes, std::memory_order_relaxed); }
  // Adds n octets if the budget has room.
  bool grow(std::uint64_t n) {
    std::uint64_t used = g_memory_in_use.load(std::memory_order_relaxed);
    do {
      if (used + n > Spool::kMemoryBudgetBytes) return false;
    } while (!g_memory_in_use.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    bytes += n;
    return true;
  }
};

}  // namespace

// Shared with in-flight jobs so a destroyed Spool never leaves them dangling.
// Loop-thread fields and pool-thread fields are disjoint; the executor's
// submit -> work -> done chain orders every hand-over between them.
struct Spool::State {
  core::Executor* executor = nullptr;
  std::string dir;
  std::uint64_t memory_limit = 0;
  // Loop thread.
  std::string filling;
  std::deque<std::string> full;
  std::vector<std::string> kept;  // hashed buffers of an in-memory body, in order
  std::shared_ptr<MemoryLease> lease = std::make_shared<MemoryLease>();
  bool in_memory = true;  // no file yet: the body is `kept` + `filling`
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // bytes handed to jobs so far
  LineEnds lines;            // the stored form: CRLF line ends, the last line complete
  std::string converted;     // scratch for one append, reused
  bool in_flight = false;
  bool file_started = false;
  bool finishing = false;
  bool final_submitted = false;
  bool abandoned = false;
  bool handed_over = false;
  std::function<void()> on_writable;
  std::function<void(Result<SpooledBody>)> done;
  // Pool thread (read by the loop only in a completion).
  std::string path;
  int fd = -1;
  BodyKeyHasher hasher;
  std::optional<Error> error;
  BodyKeys keys{};

  // Loop thread: a write failed (disk full...). Later bytes are dropped, not buffered, and
  // input never pauses: finish() reports the error (before this, buffers piled up while
  // the input waited for a write that never came, and the client hung until its timeout).
  bool failed = false;

  bool wants_more() const { return failed || (in_flight ? 1u : 0u) + full.size() < 2; }

  // Loop thread: may `n` more octets stay in memory? Takes them from the budget if so.
  bool keep_in_memory(std::uint64_t n) {
    return in_memory && offset + n <= memory_limit && lease->grow(n);
  }

  // Pool thread: create (first time) and write one buffer at `at`.
  void write(const std::string& buf, std::uint64_t at) noexcept {
    if (error) return;
    if (fd < 0) {
      std::string tmpl = dir + "/body-XXXXXX";
      fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
      if (fd < 0) {
        error = core::make_error(errno == ENOSPC ? Errc::full : Errc::io, "spool-create", errno);
        return;
      }
      path = tmpl;
    }
    if (auto r = core::pwrite_all(fd, buf, at, "spool-write"); !r) error = r.error();
  }

  // Pool thread: the buffers kept in memory so far (hashed already) go to the file first.
  void spill(const std::vector<std::string>& pieces) noexcept {
    std::uint64_t at = 0;
    for (const std::string& piece : pieces) {
      write(piece, at);
      at += piece.size();
    }
  }

  // Loop thread, once no job is in flight: remove the file of an abandoned spool.
  static void cleanup(const std::shared_ptr<State>& st) {
    if (st->handed_over || !st->file_started) return;
    auto keep = st;
    st->executor->submit([keep] { keep->discard(); }, [] {});
  }

  // Pool thread: close and remove the file.
  void discard() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Spool::Spool(const Options& options, core::Executor& executor, std::uint64_t memory_limit)
    : state_(std::make_shared<State>()) {
  state_->executor = &executor;
  state_->dir = options.data_dir + "/spool";
  state_->memory_limit = memory_limit;
  state_->filling.reserve(kBufferBytes);
}

Spool::~Spool() {
  state_->abandoned = true;
  state_->done = nullptr;
  state_->on_writable = nullptr;
  if (!state_->in_flight) State::cleanup(state_);
}

std::uint64_t Spool::memory_in_use() {
  return g_memory_in_use.load(std::memory_order_relaxed);
}

std::string_view Spool::append(std::string_view bytes) {
  State& st = *state_;
  if (st.finishing) return {};
  const std::string_view stored = st.lines.view(bytes, st.converted);
  buffer(stored);
  pump();
  return stored;
}

void Spool::buffer(std::string_view bytes) {
  State& st = *state_;
  st.size += bytes.size();
  if (st.failed) return;
  while (!bytes.empty()) {
    std::size_t take = std::min(bytes.size(), kBufferBytes - st.filling.size());
    st.filling.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (st.filling.size() == kBufferBytes) {
      st.full.push_back(std::move(st.filling));
      st.filling = std::string();
      st.filling.reserve(kBufferBytes);
    }
  }
}

bool Spool::wants_more() const {
  return state_->wants_more();
}

void Spool::set_on_writable(std::function<void()> on_writable) {
  state_->on_writable = std::move(on_writable);
}

std::uint64_t Spool::size() const {
  return state_->size;
}

void Spool::finish(std::function<void(Result<SpooledBody>)> done) {
  if (!state_->finishing) buffer(state_->lines.finish());
  state_->finishing = true;
  state_->done = std::move(done);
  pump();
}

void Spool::pump() {
  auto st = state_;
  if (st->in_flight || st->abandoned) return;
  if (!st->full.empty() && !st->error) {
    auto buf = std::make_shared<std::string>(std::move(st->full.front()));
    st->full.pop_front();
    const std::uint64_t at = st->offset;
    const bool memory = st->keep_in_memory(buf->size());
    // Too large for memory from here on: what was kept goes to the file first.
    auto spilled = std::make_shared<std::vector<std::string>>();
    if (!memory && st->in_memory) {
      spilled->swap(st->kept);
      st->in_memory = false;
    }
    st->offset += buf->size();
    st->in_flight = true;
    if (!memory) st->file_started = true;
    st->executor->submit(
        [st, buf, at, memory, spilled] {
          st->hasher.update(*buf);
          if (memory) return;
          if (!spilled->empty()) st->spill(*spilled);
          st->write(*buf, at);
        },
        [this, st, buf, memory, spilled] {
          const bool blocked = !st->wants_more();
          st->in_flight = false;
          if (memory) {
            st->kept.push_back(std::move(*buf));
          } else if (!spilled->empty() || st->lease->bytes > 0) {
            st->lease = std::make_shared<MemoryLease>();  // the kept bytes are in the file now
          }
          if (st->abandoned) {
            State::cleanup(st);
            return;
          }
          if (st->error) {  // nothing more will be written
            st->full.clear();
            st->filling.clear();
            st->failed = true;
          }
          pump();
          if (blocked && st->wants_more() && st->on_writable && !st->finishing) {
            st->on_writable();
          }
        });
    return;
  }
  if (!st->finishing || st->final_submitted) return;
  st->final_submitted = true;
  st->in_flight = true;
  auto rest = std::make_shared<std::string>(std::move(st->filling));
  // The last partial buffer stays in memory only with the rest of the body.
  const bool memory = !st->file_started && (st->kept.empty() || st->keep_in_memory(rest->size()));
  auto spilled = std::make_shared<std::vector<std::string>>();
  if (!memory && !st->file_started) spilled->swap(st->kept);
  const bool to_file = !memory;
  if (to_file) st->file_started = true;
  const std::uint64_t at = st->offset;
  if (memory && rest->size() <= kInlineHashBytes) {
    // A small tail (most mail fits whole): hashing it here costs less than the pool round trip,
    // and the delivery can join the commit batch that is forming now.
    st->hasher.update(*rest);
    st->keys = st->hasher.finish();
    st->in_flight = false;
    complete(st, rest, false);
    return;
  }
  st->executor->submit(
      [st, rest, spilled, to_file, at] {
        st->hasher.update(*rest);
        if (to_file) {
          if (!spilled->empty()) st->spill(*spilled);
          if (!rest->empty()) st->write(*rest, at);
          if (st->error) {
            st->discard();
            return;
          }
          if (::close(st->fd) != 0) st->error = core::make_error(Errc::io, "spool-close", errno);
          st->fd = -1;
          if (st->error) ::unlink(st->path.c_str());
        }
        st->keys = st->hasher.finish();
      },
      [st, rest, to_file] {
        st->in_flight = false;
        if (st->abandoned) {
          State::cleanup(st);
          return;
        }
        complete(st, rest, to_file);
      });
}

void Spool::complete(const std::shared_ptr<State>& st, const std::shared_ptr<std::string>& rest,
                     bool to_file) {
  auto done = std::move(st->done);
  if (st->error) {
    if (done) done(*st->error);
    return;
  }
  SpooledBody body;
  body.size = st->size;
  body.hash = st->keys.key;
  body.rest_digest = st->keys.rest_digest;
  if (to_file) {
    body.path = st->path;
    st->lease = std::make_shared<MemoryLease>();  // nothing of it is in memory
  } else if (st->kept.empty()) {
    body.memory = std::move(*rest);
  } else {
    body.memory.reserve(st->size);
    for (const std::string& piece : st->kept) body.memory += piece;
    body.memory += *rest;
    st->kept.clear();
    body.lease = st->lease;
  }
  st->handed_over = true;
  if (done) done(std::move(body));
}

}  // namespace postern::store
