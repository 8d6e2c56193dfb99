#!/usr/bin/env bash
# firmware/image/power-cut-test.sh: pulls the plug (SIGKILL of qemu) on postern images, again and again on one disk.
#
# Usage: firmware/image/power-cut-test.sh [--no-build] [--keep] [--kills N] [--seed S] TARGET...
#   TARGET      aarch64, armhf, mipsel, or all (the three, one after another)
#   --kills N   power cuts per target on its one data disk (default 10)
#   --seed S    seed of the kill moments and messages (default: random, printed)
#   --no-build  boot build/firmware/<target>/ as it is
#   --keep      keep the console logs and the data disk (kept anyway on failure)
# Every target: boot, verify the mail and the store, send SMTP mail, SIGKILL
# qemu at a random moment; N times, then a last boot verifies and powers off
# (firmware/image/power_cut_test.py). Waits are scaled by
# POSTERN_TEST_TIMEOUT_MULTIPLIER. Exits non-zero if any target failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"

usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }

build=1
extra=()
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --keep) extra+=(--keep) ;;
    --kills | --seed)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      extra+=("$1" "$2")
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "power-cut-test.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    all) targets+=(aarch64 armhf mipsel) ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || { usage >&2; exit 2; }

failed=()
for target in "${targets[@]}"; do
  postern_target "$target"
  command -v "$qemu" >/dev/null || {
    echo "power-cut-test.sh: $qemu not found: run firmware/image/deps.sh $target (as root)" >&2
    exit 1
  }
  image=$root/build/firmware/$target
  if [ "$build" = 1 ]; then "$here/build.sh" "$target"; fi
  started=$(date +%s)
  if ! python3 "$here/power_cut_test.py" --target "$target" --image "$image" --qemu "$qemu" \
    --board "$board" --machine "$qemu_machine" --mem "$mem_mb" --console "$console" \
    --http-port "$http_port" "${extra[@]}"; then
    failed+=("$target")
  fi
  echo "figure power_cut_${target}_wall_s=$(($(date +%s) - started))"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "power-cut-test.sh: FAILED on ${failed[*]}" >&2
  exit 1
fi
echo "power-cut-test.sh: passed on ${targets[*]}"
