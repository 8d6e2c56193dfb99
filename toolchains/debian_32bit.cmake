# Compile flags shared by the 32-bit Debian targets (armhf, mipsel): 64-bit file offsets, 32-bit time_t.
#
# _FILE_OFFSET_BITS=64 is an ABI requirement, not a nicety: Debian builds libuv
# with large-file support (its armhf and mipsel libuv.so.1 import pread64,
# open64, stat64), and uv_fs_t holds an off_t. Compiled without it, our uv_fs_t
# has off_t at 4 bytes and every later field (uid, gid) 4 bytes early, so the
# sizes still match but uv_fs_chown() and friends read the wrong words. On
# OpenWrt (musl) off_t is always 64-bit, so this also makes the qemu tests
# behave like the device.
#
# _TIME_BITS=64 is deliberately NOT set: Debian 12's 32-bit libraries
# (mbedTLS 2.28 above all, whose x509 times go through time_t) are built with a
# 32-bit time_t, and mixing the two breaks their ABI. Revisit with Debian 13,
# which moved armhf to 64-bit time_t; mipsel has no Debian 13 port.
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
set(CMAKE_CXX_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
