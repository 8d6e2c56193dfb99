// Kernel randomness for salts, keys and tokens: getrandom(2), retried on EINTR.
#include "core/entropy.h"

#include <sys/random.h>

#include <cerrno>

namespace postern::core {

Result<void> fill_random(void* out, std::size_t size, const char* where) noexcept {
  auto* bytes = static_cast<unsigned char*>(out);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::getrandom(bytes + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, where, errno);
    got += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace postern::core
