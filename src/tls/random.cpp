// Entropy + CTR-DRBG setup.
#include "tls/random.h"

#include "tls/error.h"

namespace postern::tls {

Random::Random() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
}

Random::~Random() {
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

core::Result<std::unique_ptr<Random>> Random::create(std::string_view personalization) {
  std::unique_ptr<Random> random(new Random());
  int rc = mbedtls_ctr_drbg_seed(&random->drbg_, mbedtls_entropy_func, &random->entropy_,
                                 reinterpret_cast<const unsigned char*>(personalization.data()),
                                 personalization.size());
  if (rc != 0) return tls_error("ctr_drbg_seed", rc);
  return random;
}

int Random::generate(void* drbg, unsigned char* out, std::size_t length) noexcept {
  return mbedtls_ctr_drbg_random(drbg, out, length);
}

}  // namespace postern::tls
