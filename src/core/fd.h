// File descriptors: one owner that closes, and whole-buffer I/O that retries EINTR.
//
// Every blocking read/write in postern goes through these loops (pool threads and
// start-up only; the loop thread uses net/). A short read or write is continued, EINTR
// is retried, and a failure comes back as a core::Error naming the caller's operation.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace postern::core {

// The Error for a failed system call: ENOSPC and EDQUOT are Errc::full (retry
// later), anything else Errc::io.
Error io_error(const char* where, int sys) noexcept;

// Sole owner of a file descriptor. Move-only; the destructor closes a valid one and
// ignores close(2)'s error: call close() where that error matters (after writing).
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  // Gives up ownership without closing.
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1) noexcept;
  // Closes now and reports close(2)'s error (a deferred write error on NFS or a
  // full disk). The descriptor is gone either way; close(2) is not retried on
  // EINTR because Linux has released it already.
  Result<void> close(const char* where) noexcept;

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added, retried on EINTR. Errors: Errc::not_found (ENOENT),
// Errc::full (ENOSPC, EDQUOT), Errc::io.
Result<Fd> open_fd(const std::string& path, int flags, const char* where, mode_t mode = 0);

// Writes all of `data` at the file offset / at `offset`.
Result<void> write_all(int fd, std::string_view data, const char* where);
Result<void> pwrite_all(int fd, std::string_view data, std::uint64_t offset, const char* where);

// Reads until `size` bytes are in `buf` or the file ends; returns the count, which is
// below `size` only at end of file.
Result<std::size_t> read_full(int fd, char* buf, std::size_t size, const char* where);
Result<std::size_t> pread_full(int fd, char* buf, std::size_t size, std::uint64_t offset,
                               const char* where);

// Reads from the file offset to end of file. Errc::invalid when the file holds more
// than `max_bytes`: a bound on what a corrupt or hostile file costs in memory.
Result<std::string> read_to_end(int fd, std::size_t max_bytes, const char* where);

// fsync(2) of a descriptor, and of a directory after a rename or create in it.
Result<void> sync_fd(int fd, const char* where);
Result<void> sync_dir(const std::string& dir, const char* where);

}  // namespace postern::core
