#!/usr/bin/env bash
# tests/fuzz/run_smoke.sh: builds every fuzz target with clang's libFuzzer (+ASan,
# UBSan: the "fuzz" CMake preset, in build/fuzz, through ccache when installed) and
# runs each for a bounded time on its seed corpus and dictionary. The CI smoke; long
# runs are the same command with a larger SECONDS (README "Tests").
#
# Usage: tests/fuzz/run_smoke.sh OUT_DIR [SECONDS [TARGET...]]
#   SECONDS per target (default 12); TARGETs default to all (tests/fuzz/CMakeLists.txt).
#   OUT_DIR keeps each target's log, its growing corpus (OUT_DIR/corpus/<target>, so a
#   second run continues where the first stopped) and any crash input (<target>-crash-*).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run_smoke.sh OUT_DIR [SECONDS [TARGET...]]}
seconds=${2:-12}
shift $(($# < 2 ? $# : 2))
mkdir -p "$out"
out=$(cd "$out" && pwd)
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
  echo "SKIP: clang++ or libFuzzer missing (.ci/deps test installs clang and libclang-rt-14-dev)"
  exit 77
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  # The list in tests/fuzz/CMakeLists.txt: set(POSTERN_FUZZ_TARGETS a b\n c ...)
  read -ra targets <<<"$(sed -n '/^set(POSTERN_FUZZ_TARGETS/,/)/p' "$root/tests/fuzz/CMakeLists.txt" |
    tr '()\n' '   ' | sed 's/^set *POSTERN_FUZZ_TARGETS//')"
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
(cd "$root" && cmake --preset fuzz "${launcher[@]}" >"$out/configure.log" 2>&1) || {
  cat "$out/configure.log"
  exit 1
}
build=$root/build/fuzz
fuzz_targets=()
for target in "${targets[@]}"; do fuzz_targets+=("fuzz_$target"); done
cmake --build "$build" -j2 --target "${fuzz_targets[@]}" >"$out/build.log" 2>&1 || {
  tail -50 "$out/build.log"
  exit 1
}

failed=0
for target in "${targets[@]}"; do
  dir=$root/tests/fuzz/$target
  work=$out/corpus/$target
  mkdir -p "$work"
  cp -n "$dir"/corpus/* "$work"/ 2>/dev/null || true
  log=$out/$target.log
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$dir/$target.dict" -artifact_prefix="$out/$target-" \
    "$work" >"$log" 2>&1; then
    # The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E rss: R".
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed 's/ *lim: [0-9]*//')
    echo "fuzz $target ${seconds}s: ${last:-no status line} ok"
  else
    echo "fuzz $target: FAILED (see $log and $out/$target-*)"
    tail -40 "$log"
    failed=1
  fi
done
exit $failed
