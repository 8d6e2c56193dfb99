# CMake toolchain for 32-bit little-endian MIPS (mipsel, MIPS32r2) with Debian's cross compiler; tests run under qemu-mipsel.
set(CMAKE_SYSTEM_PROCESSOR mipsel)
set(POSTERN_TRIPLE mipsel-linux-gnu)
set(POSTERN_QEMU qemu-mipsel)
include(${CMAKE_CURRENT_LIST_DIR}/debian_32bit.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/debian_multiarch.cmake)

# MIPS32 has no 64-bit load-linked/store-conditional, so GCC lowers 64-bit
# std::atomic operations to __atomic_*_8 calls in libatomic (verified: a
# std::atomic<std::uint64_t> counter fails to link without it). --as-needed
# keeps the library off binaries that do not use it; OpenWrt ships it as the
# libatomic package.
set(CMAKE_CXX_STANDARD_LIBRARIES_INIT "-Wl,--push-state,--as-needed,-latomic,--pop-state")
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-Wl,--push-state,--as-needed,-latomic,--pop-state")
