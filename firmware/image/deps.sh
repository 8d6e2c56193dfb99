#!/usr/bin/env bash
# firmware/image/deps.sh: installs the Debian packages that building and booting the qemu images need (idempotent).
#
# Usage: firmware/image/deps.sh [aarch64|armhf|mipsel ...]   (no target: all three)
# Runs .ci/deps cross-<arch> for the cross build, then adds, only if missing:
# the full-system emulators (qemu-system-arm also provides qemu-system-aarch64),
# kmod (depmod, to write the unpacked kernel's modules.dep), cpio, and python3
# (the boot test's SMTP and POP3 clients). Kernel and busybox-static .debs are
# not installed: build.sh downloads and unpacks them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64 armhf mipsel)

wanted=(kmod cpio python3)
for target in "${targets[@]}"; do
  postern_target "$target"
  "$root/.ci/deps" "cross-$debarch"
  case "$qemu" in
    qemu-system-aarch64 | qemu-system-arm) wanted+=(qemu-system-arm) ;;
    qemu-system-mipsel) wanted+=(qemu-system-mips) ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg -s "$pkg" 2>/dev/null || true)
  [[ "$status" == *$'\nStatus: install ok installed\n'* ]] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps.sh: all image packages are installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: installing ${missing[*]} needs root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -q -y -o DPkg::Lock::Timeout=600 install "${missing[@]}"
