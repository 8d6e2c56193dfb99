// File descriptors: one owner that closes, and whole-buffer I/O that retries EINTR.
#include "core/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace postern::core {

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
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(where, errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> pwrite_all(int fd, std::string_view data, std::uint64_t offset, const char* where) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(where, errno);
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<std::size_t> read_full(int fd, char* buf, std::size_t size, const char* where) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, where, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

Result<std::size_t> pread_full(int fd, char* buf, std::size_t size, std::uint64_t offset,
                               const char* where) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, where, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
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
