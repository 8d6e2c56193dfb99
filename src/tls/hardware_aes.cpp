// CPU feature detection for the ciphersuite order.
#include "tls/hardware_aes.h"

#include <mbedtls/aesni.h>

#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif

namespace postern::tls {

HardwareAes detect_hardware_aes() noexcept {
  HardwareAes found;
#if defined(MBEDTLS_AESNI_C) && defined(MBEDTLS_HAVE_X86_64)
  found.cpu = mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) != 0 &&
              mbedtls_aesni_has_support(MBEDTLS_AESNI_CLMUL) != 0;
  found.library = found.cpu;
#elif defined(__aarch64__)
  constexpr unsigned long kHwcapAes = 1ul << 3;  // HWCAP_AES, <asm/hwcap.h> (arm64)
  found.cpu = (getauxval(AT_HWCAP) & kHwcapAes) != 0;
#elif defined(__arm__)
  constexpr unsigned long kHwcap2Aes = 1ul << 0;  // HWCAP2_AES, <asm/hwcap.h> (arm)
  found.cpu = (getauxval(AT_HWCAP2) & kHwcap2Aes) != 0;
#endif
#if defined(MBEDTLS_AESCE_C) && (defined(__aarch64__) || defined(__arm__))
  found.library = found.cpu;  // mbedTLS 3.5+: AES with the ARMv8 Crypto Extension
#endif
  return found;
}

}  // namespace postern::tls
