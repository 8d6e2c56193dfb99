// rewrite_spooled: read the original, filter, hash and write the result.
#include "store/spool_rewrite.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace postern::store {
namespace {

constexpr std::size_t kPieceBytes = 64 * 1024;

}  // namespace

Result<SpooledBody> rewrite_spooled(
    const SpooledBody& original, const std::string& spool_dir,
    const std::function<BodyFilter(BodyEmit)>& make_filter) noexcept {
  SpooledBody out;
  Sha256 hash;
  int out_fd = -1;
  std::optional<Error> error;
  std::string pending;
  auto flush = [&]() {
    if (error || pending.empty()) return;
    hash.update(pending);
    out.size += pending.size();
    if (original.in_memory()) {
      out.memory += pending;
    } else {
      std::string_view left = pending;
      while (!left.empty()) {
        ssize_t w = ::write(out_fd, left.data(), left.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          error = core::make_error(errno == ENOSPC ? Errc::full : Errc::io, "partial-write", errno);
          return;
        }
        left.remove_prefix(static_cast<std::size_t>(w));
      }
    }
    pending.clear();
  };
  BodyFilter filter = make_filter([&](std::string_view bytes) {
    pending.append(bytes);
    if (pending.size() >= kPieceBytes) flush();
  });
  if (original.in_memory()) {
    filter.feed(original.memory);
  } else {
    int in_fd = ::open(original.path.c_str(), O_RDONLY | O_CLOEXEC);
    std::string tmpl = spool_dir + "/partial-XXXXXX";
    out_fd = in_fd < 0 ? -1 : ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (in_fd < 0 || out_fd < 0) {
      error = core::make_error(Errc::io, "partial-open", errno);
    } else {
      out.path = tmpl;
      std::string buf(kPieceBytes, '\0');
      while (!error) {
        ssize_t r = ::read(in_fd, buf.data(), buf.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) error = core::make_error(Errc::io, "partial-read", errno);
        if (r <= 0) break;
        filter.feed(std::string_view(buf.data(), static_cast<std::size_t>(r)));
      }
    }
    if (in_fd >= 0) ::close(in_fd);
    ::unlink(original.path.c_str());
  }
  filter.finish();
  flush();
  if (out_fd >= 0 && ::close(out_fd) != 0 && !error) {
    error = core::make_error(Errc::io, "partial-close", errno);
  }
  if (error) {
    if (!out.path.empty()) ::unlink(out.path.c_str());
    return *error;
  }
  out.hash = hash.finish();
  return out;
}

}  // namespace postern::store
