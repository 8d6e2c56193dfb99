#!/usr/bin/env bash
# firmware/image/boot-test.sh: builds the image of one target and boots it under qemu, driving SMTP and POP3 from the host.
#
# Usage: firmware/image/boot-test.sh [--no-build] [--keep] aarch64|armhf|mipsel
#   --no-build  boot build/firmware/<target>/ as it is
#   --keep      keep the console log and data disk (the path is printed)
# Waits are scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER. Prints the figures
# (image and binary size, boot time, postern RSS idle and after mail) and ends
# with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"

usage() { sed -n '2,9s/^# \{0,1\}//p' "$0"; }

build=1
keep=()
target=
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --keep) keep=(--keep) ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "boot-test.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    *) target=$arg ;;
  esac
done
[ -n "$target" ] || { usage >&2; exit 2; }
postern_target "$target"

command -v "$qemu" >/dev/null || {
  echo "boot-test.sh: $qemu not found: run firmware/image/deps.sh $target (as root)" >&2
  exit 1
}

image=$root/build/firmware/$target
started=$(date +%s)
if [ "$build" = 1 ]; then
  "$here/build.sh" "$target"
fi
echo "figure build_s=$(($(date +%s) - started))"
sed -n 's/^\(image_bytes\|initramfs_bytes\|vmlinuz_bytes\|rootfs_bytes\|postern_stripped_bytes\)=/figure \1=/p' \
  "$image/manifest.txt"

exec python3 "$here/boot_test.py" --target "$target" --image "$image" --qemu "$qemu" \
  --board "$board" --machine "$qemu_machine" --mem "$mem_mb" --console "$console" --http-port "$http_port" "${keep[@]}"
