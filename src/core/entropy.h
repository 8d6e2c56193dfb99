// Kernel randomness for salts, keys and tokens: getrandom(2), retried on EINTR.
#pragma once

#include <cstddef>

#include "core/result.h"

namespace postern::core {

// Fills out[0, size) from the kernel's CSPRNG, blocking until it is seeded (only
// early in boot). Retries EINTR and short returns. Errc::io when the kernel has no
// getrandom(2) (before 3.17); the caller decides whether it can go on without.
Result<void> fill_random(void* out, std::size_t size, const char* where) noexcept;

}  // namespace postern::core
