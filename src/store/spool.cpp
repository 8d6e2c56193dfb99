// Spool: loop-thread buffering, pool-thread pwrite + SHA-256, one write in flight.
#include "store/spool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <optional>

#include "store/sha256.h"
#include "store/stored_form.h"

namespace postern::store {

// Shared with in-flight jobs so a destroyed Spool never leaves them dangling.
// Loop-thread fields and pool-thread fields are disjoint; the executor's
// submit -> work -> done chain orders every hand-over between them.
struct Spool::State {
  core::Executor* executor = nullptr;
  std::string dir;
  // Loop thread.
  std::string filling;
  std::deque<std::string> full;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // bytes handed to write jobs so far
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
  Sha256 hasher;
  std::optional<Error> error;
  Digest digest{};

  // Loop thread: a write failed (disk full...). Later bytes are dropped, not buffered, and
  // input never pauses: finish() reports the error (before this, buffers piled up while
  // the input waited for a write that never came, and the client hung until its timeout).
  bool failed = false;

  bool wants_more() const { return failed || (in_flight ? 1u : 0u) + full.size() < 2; }

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
    hasher.update(buf);
    std::size_t done_bytes = 0;
    while (done_bytes < buf.size()) {
      ssize_t w = ::pwrite(fd, buf.data() + done_bytes, buf.size() - done_bytes,
                           static_cast<off_t>(at + done_bytes));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int e = errno;
        error =
            core::make_error(e == ENOSPC || e == EDQUOT ? Errc::full : Errc::io, "spool-write", e);
        return;
      }
      done_bytes += static_cast<std::size_t>(w);
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

Spool::Spool(const Options& options, core::Executor& executor) : state_(std::make_shared<State>()) {
  state_->executor = &executor;
  state_->dir = options.data_dir + "/spool";
  state_->filling.reserve(kBufferBytes);
}

Spool::~Spool() {
  state_->abandoned = true;
  state_->done = nullptr;
  state_->on_writable = nullptr;
  if (!state_->in_flight) State::cleanup(state_);
}

void Spool::append(std::string_view bytes) {
  State& st = *state_;
  if (st.finishing) return;
  st.converted.clear();
  st.lines.convert(bytes, st.converted);
  buffer(st.converted);
  pump();
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
    st->offset += buf->size();
    st->in_flight = true;
    st->file_started = true;
    st->executor->submit([st, buf, at] { st->write(*buf, at); },
                         [this, st] {
                           const bool blocked = !st->wants_more();
                           st->in_flight = false;
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
  const bool to_file = st->file_started;
  const std::uint64_t at = st->offset;
  st->executor->submit(
      [st, rest, to_file, at] {
        if (to_file) {
          if (!rest->empty()) st->write(*rest, at);
          if (st->error) {
            st->discard();
            return;
          }
          if (::close(st->fd) != 0) st->error = core::make_error(Errc::io, "spool-close", errno);
          st->fd = -1;
          if (st->error) ::unlink(st->path.c_str());
        } else {
          st->hasher.update(*rest);
        }
        st->digest = st->hasher.finish();
      },
      [st, rest, to_file] {
        st->in_flight = false;
        if (st->abandoned) {
          State::cleanup(st);
          return;
        }
        auto done = std::move(st->done);
        if (st->error) {
          if (done) done(*st->error);
          return;
        }
        SpooledBody body;
        body.size = st->size;
        body.hash = st->digest;
        if (to_file) {
          body.path = st->path;
        } else {
          body.memory = std::move(*rest);
        }
        st->handed_over = true;
        if (done) done(std::move(body));
      });
}

}  // namespace postern::store
