#!/usr/bin/env bash
# firmware/image/power-cut-test.sh: pulls the plug (SIGKILL of qemu) on postern images, again and again on one disk.
#
# Usage: firmware/image/power-cut-test.sh [--no-build] [--keep] [--kills N] [--seed S] TARGET...
#   TARGET      aarch64, armhf, mipsel, or all / --all (the three, one after another)
#   --kills N   power cuts per target on its one data disk (default 10)
#   --seed S    seed of the kill moments and messages (default: random, printed)
#   --no-build  boot build/firmware/<target>/ as it is
#   --keep      keep the console logs and the data disk (kept anyway on failure)
# Every target: boot, verify the mail and the store, send SMTP mail, SIGKILL
# qemu at a random moment; N times, then a last boot verifies and powers off
# (firmware/image/power_cut_test.py). Waits are scaled by
# POSTERN_TEST_TIMEOUT_MULTIPLIER. Ends with one table, a row per target:
# messages acknowledged (250) / found / duplicated / lost over all its boots.
# Exits non-zero if any target failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }

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
    all | --all) targets+=(aarch64 armhf mipsel) ;;
    -*) echo "power-cut-test.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || { usage >&2; exit 2; }

failed=()
rows=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One row from the test's last line, "power-cut TARGET: seed=S kills=N acknowledged=A ...".
row_of() {
  local target=$1 result=$2 line key value seed=- kills=- ack=- found=- dup=- lost=-
  line=$(grep -E "^power-cut $target: seed=" "$log" | tail -1 || true)
  for pair in ${line#*: }; do
    key=${pair%%=*} value=${pair#*=}
    case "$key" in
      seed) seed=$value ;;
      kills) kills=$value ;;
      acknowledged) ack=$value ;;
      found) found=$value ;;
      duplicated) dup=$value ;;
      lost) lost=$value ;;
    esac
  done
  printf '%-8s %5s %12s %6s %10s %5s %-6s %s' "$target" "$kills" "$ack" "$found" "$dup" "$lost" "$result" "$seed"
}
for target in "${targets[@]}"; do
  postern_target "$target"
  command -v "$qemu" >/dev/null || {
    echo "power-cut-test.sh: $qemu not found: run firmware/image/deps.sh $target (as root)" >&2
    exit 1
  }
  image=$root/build/firmware/$target
  if [ "$build" = 1 ]; then "$here/build.sh" "$target"; fi
  started=$(date +%s)
  result=passed
  if ! python3 "$here/power_cut_test.py" --target "$target" --image "$image" --qemu "$qemu" \
    --board "$board" --machine "$qemu_machine" --mem "$mem_mb" --console "$console" \
    --http-port "$http_port" "${extra[@]}" | tee "$log"; then
    failed+=("$target")
    result=FAILED
  fi
  echo "figure power_cut_${target}_wall_s=$(($(date +%s) - started))"
  rows+=("$(row_of "$target" "$result") $(($(date +%s) - started))")
done
echo
printf '%-8s %5s %12s %6s %10s %5s %-6s %s %s\n' target kills acknowledged found duplicated lost result seed wall_s
printf '%s\n' "${rows[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "power-cut-test.sh: FAILED on ${failed[*]}" >&2
  exit 1
fi
echo "power-cut-test.sh: passed on ${targets[*]}"
