// Whether AES runs in hardware here: it decides between AES-GCM and ChaCha20-Poly1305 first.
#pragma once

namespace postern::tls {

struct HardwareAes {
  bool cpu = false;      // the CPU has AES instructions (AES-NI + PCLMULQDQ, ARMv8 AES)
  bool library = false;  // and this mbedTLS build uses them for AES-GCM
};

// x86-64: mbedtls_aesni_has_support() (AES-NI and PCLMULQDQ, which GCM's GHASH needs).
// ARM: AT_HWCAP (aarch64) or AT_HWCAP2 (arm) from getauxval(3) report the AES instructions,
// but mbedTLS 2.28 has no ARMv8 Crypto Extension code (MBEDTLS_AESCE_C arrived in 3.5), so
// its AES stays table-driven C there: `library` is false. MIPS: neither.
HardwareAes detect_hardware_aes() noexcept;

}  // namespace postern::tls
