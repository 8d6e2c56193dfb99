# firmware/image/targets.sh: the emulated board of each image target, sourced by build.sh and boot-test.sh.
#
# One table, so the kernel, the board profile and the qemu machine of a target
# cannot drift apart between the script that builds the image and the one that
# boots it. Sets, for target $1:
#   preset     CMake preset of the cross build (build/<preset>/postern)
#   debarch    Debian architecture (dpkg --add-architecture, apt-get download)
#   triple     GNU triple (<triple>-strip, <triple>-readelf, /usr/lib/<triple>)
#   kernel_pkg Debian's kernel metapackage for that board
#   board      postern board profile the device runs (board/<name>/board.conf)
#   mem_mb     guest RAM: what the device class has (board/README.md)
#   qemu       full-system emulator; qemu_machine its -M/-cpu arguments
#   console    the board's serial console device, for console= on the cmdline
#   http_port  the board's status-page port inside the guest (board.conf)
#   modules    drivers the board needs for its network, disk and data
#              filesystem; build.sh adds their dependencies from modules.dep
#              and drops any that the kernel has built in
# shellcheck shell=sh disable=SC2034  # the variables are read by the sourcing script

postern_target() {
  case "$1" in
    aarch64)
      preset=aarch64 debarch=arm64 triple=aarch64-linux-gnu
      kernel_pkg=linux-image-arm64 board=nas-arm128 mem_mb=128
      qemu=qemu-system-aarch64 qemu_machine="-M virt -cpu cortex-a53"
      console=ttyAMA0 http_port=80
      ;;
    armhf)
      # highmem=off: the non-LPAE armmp kernel cannot reach the PCIe window
      # that virt places above 4 GiB by default.
      preset=armhf debarch=armhf triple=arm-linux-gnueabihf
      kernel_pkg=linux-image-armmp board=nas-arm128 mem_mb=128
      qemu=qemu-system-arm qemu_machine="-M virt,highmem=off -cpu cortex-a15"
      console=ttyAMA0 http_port=80
      ;;
    mipsel)
      # router-mips64 moves the page to 8080: on OpenWrt uhttpd (LuCI) holds 80.
      preset=mipsel debarch=mipsel triple=mipsel-linux-gnu
      kernel_pkg=linux-image-4kc-malta board=router-mips64 mem_mb=64
      qemu=qemu-system-mipsel qemu_machine="-M malta"
      console=ttyS0 http_port=8080
      ;;
    *)
      echo "unknown target '$1' (aarch64, armhf, mipsel)" >&2
      return 2
      ;;
  esac
  # All three boards get their network and data disk as virtio PCI devices
  # (virt has a generic PCIe host, malta a GT-64120 PCI bus), so one driver set
  # serves every target; ext4 (with jbd2, mbcache and crc16 from modules.dep)
  # mounts the journalled data disk, and an ext2 one an older image made.
  # ext4 asks the crypto API for "crc32c" at every mount, even of ext2, through
  # request_module(), which the initramfs cannot serve (no modprobe database):
  # crc32c_generic is loaded up front.
  modules="virtio_pci virtio_net virtio_blk crc32c_generic ext4"
}
