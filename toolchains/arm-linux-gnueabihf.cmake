# CMake toolchain for 32-bit ARM hard-float (armhf, ARMv7) with Debian's cross compiler; tests run under qemu-arm.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(POSTERN_TRIPLE arm-linux-gnueabihf)
set(POSTERN_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian_32bit.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/debian_multiarch.cmake)
