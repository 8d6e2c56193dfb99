// File descriptors: one owner that closes, and whole-buffer I/O that retries EINTR.
#include "core/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace postern::core {
namespace {

// The one loop behind write_all and pwrite_all: `op(data, size, done)` writes from
// `done` bytes in; short writes continue, EINTR is retried.
template <class Op>
Result<void> write_loop(Op op, std::string_view data, const char* where) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = op(data.data() + done, data.size() - done, done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(where, errno);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// The one loop behind read_full and pread_full: stops when `size` bytes are in or at
// end of file (a read of 0).
template <class Op>
Result<std::size_t> read_loop(Op op, char* buf, std::size_t size, const char* where) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = op(buf + got, size - got, got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, where, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

Error io_error(const char* where, int sys) noexcept {
  return make_error(sys == ENOSPC || sys == EDQUOT ? Errc::full : Errc::io, where, sys);
}

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<void> Fd::close(const char* where) noexcept {
  const int fd = release();
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) return io_error(where, errno);
  return {};
}

Result<Fd> open_fd(const std::string& path, int flags, const char* where, mode_t mode) {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return Fd(fd);
    if (errno == EINTR) continue;
    if (errno == ENOENT) return make_error(Errc::not_found, where, errno);
    return io_error(where, errno);
  }
}

Result<void> write_all(int fd, std::string_view data, const char* where) {
  return write_loop([fd](const char* p, std::size_t n, std::size_t) { return ::write(fd, p, n); },
                    data, where);
}

Result<void> pwrite_all(int fd, std::string_view data, std::uint64_t offset, const char* where) {
  return write_loop(
      [fd, offset](const char* p, std::size_t n, std::size_t done) {
        return ::pwrite(fd, p, n, static_cast<off_t>(offset + done));
      },
      data, where);
}

Result<std::size_t> read_full(int fd, char* buf, std::size_t size, const char* where) {
  return read_loop([fd](char* p, std::size_t n, std::size_t) { return ::read(fd, p, n); }, buf,
                   size, where);
}

Result<std::size_t> pread_full(int fd, char* buf, std::size_t size, std::uint64_t offset,
                               const char* where) {
  return read_loop(
      [fd, offset](char* p, std::size_t n, std::size_t done) {
        return ::pread(fd, p, n, static_cast<off_t>(offset + done));
      },
      buf, size, where);
}

Result<std::string> read_to_end(int fd, std::size_t max_bytes, const char* where) {
  std::string data;
  char chunk[4096];
  for (;;) {
    auto n = read_full(fd, chunk, sizeof chunk, where);
    if (!n) return n.error();
    data.append(chunk, *n);
    if (data.size() > max_bytes) return make_error(Errc::invalid, where);
    if (*n < sizeof chunk) return data;
  }
}

Result<void> sync_fd(int fd, const char* where) {
  for (;;) {
    if (::fsync(fd) == 0) return {};
    if (errno != EINTR) return io_error(where, errno);
  }
}

Result<void> sync_dir(const std::string& dir, const char* where) {
  auto fd = open_fd(dir, O_RDONLY | O_DIRECTORY, where);
  if (!fd) return fd.error();
  return sync_fd(fd->get(), where);
}

}  // namespace postern::core
