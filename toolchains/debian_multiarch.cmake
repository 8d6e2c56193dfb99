# Shared part of the Debian cross toolchains: included by each <triple>.cmake after it sets POSTERN_TRIPLE, POSTERN_QEMU and CMAKE_SYSTEM_PROCESSOR.
#
# Debian cross builds use multiarch (https://wiki.debian.org/Multiarch/HOWTO),
# not a sysroot: the cross libc and libstdc++ live in /usr/<triple>, the target's
# libraries (libuv1-dev:<arch>, ...) in /usr/lib/<triple>, and the headers in the
# shared /usr/include. The Debian cross compilers already search all three, so no
# CMAKE_SYSROOT is set; this file only teaches CMake's find_* and pkg-config the
# same layout, and never lets them fall back to the build machine's libraries.
if(NOT POSTERN_TRIPLE OR NOT POSTERN_QEMU)
  message(FATAL_ERROR "include debian_multiarch.cmake from a toolchains/<triple>.cmake")
endif()

set(CMAKE_SYSTEM_NAME Linux)

set(CMAKE_C_COMPILER ${POSTERN_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${POSTERN_TRIPLE}-g++)
# Check early and plainly: a missing cross compiler otherwise surfaces as a
# puzzling "No CMAKE_CXX_COMPILER could be found".
find_program(POSTERN_CROSS_CXX ${CMAKE_CXX_COMPILER} NO_CACHE)
if(NOT POSTERN_CROSS_CXX)
  message(FATAL_ERROR "${CMAKE_CXX_COMPILER} not found: run `.ci/deps cross-<arch>` "
                      "(or apt-get install g++-${POSTERN_TRIPLE})")
endif()

# find_library() appends CMAKE_LIBRARY_ARCHITECTURE to each prefix's lib/, which
# is how it reaches /usr/lib/<triple> (libuv1-dev:<arch>, libhttp-parser2.9:<arch>,
# ...). Both roots are needed: /usr/<triple> holds the cross libc and libstdc++,
# and "/" lets ONLY mode reach the multiarch directories at all (with the first
# root alone every target library is NOTFOUND, and pkg_check_modules' imported
# targets silently drop them). The build machine's libraries sit in
# /usr/lib/x86_64-linux-gnu, which is never searched; Debian keeps none in
# plain /usr/lib.
set(CMAKE_LIBRARY_ARCHITECTURE ${POSTERN_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${POSTERN_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # build tools run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)   # never link a host library
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)   # /usr/include is shared by all arches
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config sees only the target's .pc files (plus arch-independent ones), so a
# missing :<arch> package fails at configure time instead of linking host code.
# The .pc files already carry absolute multiarch paths: no sysroot prefix.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${POSTERN_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest (and try_run) run target binaries through qemu-user; -L points the
# emulated dynamic loader at the cross libc. binfmt_misc is not assumed: scripts
# that spawn target binaries take this list from CMake (CMAKE_CROSSCOMPILING_EMULATOR).
#
# LD_LIBRARY_PATH is not optional. -L alone gives the loader of the cross libc
# (libc6-<arch>-cross, 2.36-8), but that loader consults the build machine's
# /etc/ld.so.cache, which lists /lib/<triple> from libc6:<arch> (2.36-9+deb12uN,
# pulled in by libuv1:<arch> and friends), so it pairs itself with a libc.so.6
# of another build. glibc's loader and libc share private ABI: the mix starts,
# then hangs (aarch64) or crashes (armhf, mipsel) at the first pthread_create.
# Searching the cross libc's own directory first keeps the pair matched; the
# target's other libraries still come from /usr/lib/<triple> via the cache.
find_program(POSTERN_QEMU_PATH ${POSTERN_QEMU} NO_CACHE)
if(NOT POSTERN_QEMU_PATH)
  message(FATAL_ERROR "${POSTERN_QEMU} not found: apt-get install qemu-user")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR
    "${POSTERN_QEMU_PATH};-L;/usr/${POSTERN_TRIPLE};-E;LD_LIBRARY_PATH=/usr/${POSTERN_TRIPLE}/lib")
