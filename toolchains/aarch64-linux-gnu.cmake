# CMake toolchain for 64-bit ARM (arm64) with Debian's cross compiler; tests run under qemu-aarch64.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(POSTERN_TRIPLE aarch64-linux-gnu)
set(POSTERN_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian_multiarch.cmake)
