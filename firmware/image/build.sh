#!/usr/bin/env bash
# firmware/image/build.sh: builds a bootable qemu image (Debian kernel + busybox initramfs + postern) for one target.
#
# Usage: firmware/image/build.sh [--no-cmake] [--deps] aarch64|armhf|mipsel
#   --no-cmake  use build/<preset>/postern as it is (or $POSTERN_BIN) instead
#               of running `cmake --preset <p> && cmake --build --preset <p>`
#   --deps      install what is missing first (firmware/image/deps.sh; root)
#
# Output in build/firmware/<target>/: vmlinuz, initramfs.cpio.gz and
# manifest.txt (every file in the initramfs with its size). Nothing is
# installed into the host for the target: the kernel and busybox .debs are
# fetched with `apt-get download` into build/firmware/cache/ and unpacked with
# dpkg-deb -x into a work folder. Only Debian packages are downloaded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }

run_cmake=1
deps=0
target=
for arg in "$@"; do
  case "$arg" in
    --no-cmake) run_cmake=0 ;;
    --deps) deps=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "build.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    *) target=$arg ;;
  esac
done
[ -n "$target" ] || { usage >&2; exit 2; }
postern_target "$target"

[ "$deps" = 0 ] || "$here/deps.sh" "$target"

for tool in "$triple-strip" "$triple-readelf" dpkg-deb apt-get apt-cache depmod cpio gzip; do
  command -v "$tool" >/dev/null || {
    echo "build.sh: $tool not found: run firmware/image/deps.sh $target (as root)" >&2
    exit 1
  }
done

out=$root/build/firmware/$target
cache=$root/build/firmware/cache/$debarch
work=$out/work
mkdir -p "$out" "$cache"
rm -rf "$work"
mkdir -p "$work"

# --- postern from the cross build -------------------------------------------
if [ -n "${POSTERN_BIN:-}" ]; then
  postern=$POSTERN_BIN
else
  if [ "$run_cmake" = 1 ]; then
    (cd "$root" && cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" --target postern)
  fi
  postern=$root/build/$preset/postern
fi
[ -x "$postern" ] || { echo "build.sh: no postern binary at $postern" >&2; exit 1; }

# --- Debian packages, downloaded (never installed) ----------------------------
# The metapackage (linux-image-arm64, ...) only depends on the versioned kernel
# package; read that name from the local package lists, so a cached .deb is
# reused without touching the network.
deb_of() { # NAME: path of the cached .deb of NAME:<debarch>, downloading it if missing
  local name=$1 version file
  version=$(apt-cache show --no-all-versions "$name:$debarch" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
  [ -n "$version" ] || {
    echo "build.sh: $name:$debarch is unknown to apt: dpkg --add-architecture $debarch && apt-get update" >&2
    return 1
  }
  # apt-get download names the file NAME_VERSION_ARCH.deb with ':' escaped as %3a.
  file=$cache/${name}_${version//:/%3a}_$debarch.deb
  if [ ! -s "$file" ]; then
    (cd "$cache" && apt-get download -q "$name:$debarch" >&2)
  fi
  [ -s "$file" ] || { echo "build.sh: download of $name:$debarch gave no $file" >&2; return 1; }
  echo "$file"
}

kernel_dep=$(apt-cache show --no-all-versions "$kernel_pkg:$debarch" | sed -n 's/^Depends: //p' | head -n1)
kernel_real=$(echo "$kernel_dep" | tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p' | head -n1)
[ -n "$kernel_real" ] || { echo "build.sh: cannot resolve $kernel_pkg:$debarch" >&2; exit 1; }
dpkg-deb -x "$(deb_of "$kernel_real")" "$work/kernel"
dpkg-deb -x "$(deb_of busybox-static)" "$work/busybox"
# e2fsprogs' mke2fs and e2fsck (busybox has neither an ext4 mke2fs nor any
# fsck), and the libraries they need that the host's :<debarch> packages may
# not have: find_lib looks in this unpacked tree after the host's folders.
for pkg in e2fsprogs libext2fs2 libcom-err2 libblkid1 libuuid1; do
  dpkg-deb -x "$(deb_of "$pkg")" "$work/e2fsprogs"
done

kver=${kernel_real#linux-image-}
kdir=$work/kernel/lib/modules/$kver
[ -d "$kdir" ] || { echo "build.sh: $kernel_real has no lib/modules/$kver" >&2; exit 1; }
# The .deb ships no modules.dep (the postinst runs depmod); make it here.
depmod -b "$work/kernel" -F "$work/kernel/boot/System.map-$kver" "$kver"

rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc/postern,proc,sys,dev,run,tmp,data,root}
chmod 1777 "$rootfs/tmp"

# --- kernel modules: the board's drivers and their dependencies, in load order
# modules.dep lines read "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko", where the
# dependencies are listed so that the last one must be loaded first (modprobe
# loads them in reverse). Names compare with '-' and '_' as one.
norm() { echo "$1" | tr '-' '_'; }
declare -A loaded=()
load_order=()
add_module() { # PATH relative to $kdir
  local path=$1 line deps i
  [ -n "${loaded[$path]:-}" ] && return 0
  loaded[$path]=1
  line=$(grep -m1 "^$path:" "$kdir/modules.dep")
  read -r -a deps <<<"${line#*:}"
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do add_module "${deps[$i]}"; done
  load_order+=("$path")
}
# First file in LIST (modules.dep or modules.builtin) whose module name is $1.
module_path() {
  awk -F: -v want="$(norm "$1")" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n)
    if (n == want) { print $1; exit } }' "$2"
}
builtin=()
for name in $modules; do
  path=$(module_path "$name" "$kdir/modules.dep")
  if [ -n "$path" ]; then
    add_module "$path"
  elif [ -n "$(module_path "$name" "$kdir/modules.builtin")" ]; then
    builtin+=("$name")
  else
    echo "build.sh: module $name is neither in modules.dep nor built into $kver" >&2
    exit 1
  fi
done
: >"$rootfs/etc/postern/modules"
for path in "${load_order[@]}"; do
  mkdir -p "$rootfs/lib/modules/$(dirname "$path")"
  cp "$kdir/$path" "$rootfs/lib/modules/$path"
  echo "/lib/modules/$path" >>"$rootfs/etc/postern/modules"
done

# --- busybox, postern and exactly the shared libraries postern needs ---------
cp "$work/busybox/bin/busybox" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
"$triple-strip" -o "$rootfs/usr/bin/postern" "$postern"
# In /usr/sbin, ahead of busybox's applets of the same name on the init's PATH.
for tool in mke2fs e2fsck; do
  src=$(find "$work/e2fsprogs" -name "$tool" -type f | head -n1)
  [ -n "$src" ] || { echo "build.sh: e2fsprogs:$debarch has no $tool" >&2; exit 1; }
  "$triple-strip" -o "$rootfs/usr/sbin/$tool" "$src"
done
cp "$work/e2fsprogs/etc/mke2fs.conf" "$rootfs/etc/mke2fs.conf"

find_lib() { # SONAME: first match in the target's multiarch folders, then the cross libc's
  local dir
  for dir in "/usr/lib/$triple" "/lib/$triple" "/usr/$triple/lib" "$work/e2fsprogs/usr/lib/$triple" \
    "$work/e2fsprogs/lib/$triple"; do
    [ -e "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  echo "build.sh: shared library $1 for $triple not found (apt-get install the :$debarch package)" >&2
  return 1
}
needed() { "$triple-readelf" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
declare -A have=()
added=()
copy_needed() { # ELF...: copies the libraries they need, recursively; names them in added
  local queue=("$@") elf soname src
  added=()
  while [ ${#queue[@]} -gt 0 ]; do
    elf=${queue[0]}
    queue=("${queue[@]:1}")
    for soname in $(needed "$elf"); do
      [ -n "${have[$soname]:-}" ] && continue
      have[$soname]=1
      src=$(find_lib "$soname")
      mkdir -p "$rootfs/lib/$triple"
      cp -L "$src" "$rootfs/lib/$triple/$soname"
      queue+=("$rootfs/lib/$triple/$soname")
      added+=("$soname")
    done
  done
}
copy_needed "$rootfs/usr/bin/postern"
copy_needed "$rootfs/usr/sbin/mke2fs" "$rootfs/usr/sbin/e2fsck"
# Needed only until the data disk is mounted: the init deletes these from the
# initramfs (RAM) then, which gives their pages back to the device.
{
  echo /usr/sbin/mke2fs
  echo /usr/sbin/e2fsck
  for soname in "${added[@]}"; do echo "/lib/$triple/$soname"; done
} >"$rootfs/etc/postern/boot-only"
# The dynamic loader goes where PT_INTERP names it; glibc's ld.so searches
# /lib/<triple> by itself (Debian's multiarch default), so no ld.so.cache.
interp=$("$triple-readelf" -l "$rootfs/usr/bin/postern" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[ -n "$interp" ] || { echo "build.sh: postern has no PT_INTERP" >&2; exit 1; }
mkdir -p "$rootfs$(dirname "$interp")"
if [ -e "$rootfs/lib/$triple/$(basename "$interp")" ]; then
  # libc.so.6 already brought the loader in as NEEDED: link, do not copy twice.
  ln -sfn "/lib/$triple/$(basename "$interp")" "$rootfs$interp"
else
  cp -L "$(find_lib "$(basename "$interp")")" "$rootfs$interp"
fi

# --- init, its helpers and the little /etc a glibc program expects ------------
install -m 755 "$here/init" "$rootfs/init"
install -m 755 "$here/udhcpc.script" "$rootfs/etc/postern/udhcpc.script"
install -m 755 "$here/testctl.sh" "$rootfs/etc/postern/testctl.sh"
cat >"$rootfs/etc/postern/image.conf" <<EOF
# What the init needs to know about this device (written by firmware/image/build.sh).
board=$board
target=$target
kernel=$kver
EOF
# run_as_user defaults to nobody: postern drops to it after binding.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$rootfs/etc/hosts"
# e2fsck and mke2fs ask whether the disk is mounted through /etc/mtab.
ln -s /proc/self/mounts "$rootfs/etc/mtab"

# --- pack: cpio newc, gzip (the kernels have CONFIG_RD_GZIP=y) -----------------
# Owned by root whoever builds it; sorted and -n so the same inputs give the
# same bytes. /dev/console is not a node here (that needs mknod): the init
# reopens its stdio on the console once devtmpfs is mounted.
(cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$out/initramfs.cpio.gz"
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz"

size_of() { stat -c %s "$1"; }
{
  echo "target=$target board=$board kernel=$kver"
  echo "modules_builtin=${builtin[*]:-none}"
  echo "vmlinuz_bytes=$(size_of "$out/vmlinuz")"
  echo "initramfs_bytes=$(size_of "$out/initramfs.cpio.gz")"
  echo "image_bytes=$(($(size_of "$out/vmlinuz") + $(size_of "$out/initramfs.cpio.gz")))"
  echo "rootfs_bytes=$(du -sb "$rootfs" | cut -f1)"
  echo "postern_unstripped_bytes=$(size_of "$postern")"
  echo "postern_stripped_bytes=$(size_of "$rootfs/usr/bin/postern")"
  echo "# initramfs contents"
  (cd "$rootfs" && find . -type f -printf '%s %p\n' | LC_ALL=C sort -k2)
} >"$out/manifest.txt"
# The unpacked kernel is some 300 MB of modules; work/rootfs stays for inspection.
rm -rf "$work/kernel" "$work/busybox" "$work/e2fsprogs"
sed -n '1,8p' "$out/manifest.txt"
echo "build.sh: image in $out"
