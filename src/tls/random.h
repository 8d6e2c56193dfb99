// A seeded CTR-DRBG over the platform entropy source: the randomness every TLS context uses.
#pragma once

#include <memory>
#include <string_view>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "core/result.h"

namespace postern::tls {

// Non-copyable and non-movable: mbedTLS contexts (configs, key generation)
// keep a pointer to the DRBG. Owners must keep it alive longer than every such
// user. mbedtls_ctr_drbg_random locks the DRBG's mutex (MBEDTLS_THREADING_C in
// Debian's build), so one instance may serve the loop and worker threads.
class Random {
 public:
  // Seeds from the platform entropy source; `personalization` separates streams.
  static core::Result<std::unique_ptr<Random>> create(std::string_view personalization);
  ~Random();
  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;

  // The f_rng / p_rng pair mbedTLS functions take.
  static int generate(void* drbg, unsigned char* out, std::size_t length) noexcept;
  void* context() noexcept { return &drbg_; }

 private:
  Random();
  // Dependency order: the DRBG draws on the entropy context.
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

}  // namespace postern::tls
