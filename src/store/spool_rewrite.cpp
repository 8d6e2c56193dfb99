// rewrite_spooled: read the original, filter, hash and write the result.
#include "store/spool_rewrite.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "core/fd.h"
#include "store/body_key.h"

namespace postern::store {
namespace {

constexpr std::size_t kPieceBytes = 64 * 1024;

}  // namespace

Result<SpooledBody> rewrite_spooled(
    const SpooledBody& original, const std::string& spool_dir,
    const std::function<BodyFilter(BodyEmit)>& make_filter) noexcept {
  SpooledBody out;
  BodyKeyHasher hash;
  core::Fd out_fd;
  std::optional<Error> error;
  std::string pending;
  auto flush = [&]() {
    if (error || pending.empty()) return;
    hash.update(pending);
    out.size += pending.size();
    if (original.in_memory()) {
      out.memory += pending;
    } else {
      if (auto w = core::write_all(out_fd.get(), pending, "partial-write"); !w) {
        error = w.error();
        return;
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
    core::Fd in_fd(::open(original.path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string tmpl = spool_dir + "/partial-XXXXXX";
    if (in_fd) out_fd.reset(::mkostemp(tmpl.data(), O_CLOEXEC));
    if (!in_fd || !out_fd) {
      error = core::make_error(Errc::io, "partial-open", errno);
    } else {
      out.path = tmpl;
      std::string buf(kPieceBytes, '\0');
      while (!error) {
        auto got = core::read_full(in_fd.get(), buf.data(), buf.size(), "partial-read");
        if (!got) error = got.error();
        if (!got || *got == 0) break;
        filter.feed(std::string_view(buf.data(), *got));
        if (*got < buf.size()) break;  // end of file
      }
    }
    in_fd.reset();
    ::unlink(original.path.c_str());
  }
  filter.finish();
  flush();
  if (out_fd) {
    if (auto closed = out_fd.close("partial-close"); !closed && !error) error = closed.error();
  }
  if (error) {
    if (!out.path.empty()) ::unlink(out.path.c_str());
    return *error;
  }
  const BodyKeys keys = hash.finish();
  out.hash = keys.key;
  out.rest_digest = keys.rest_digest;
  return out;
}

}  // namespace postern::store
