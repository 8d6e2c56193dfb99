#!/usr/bin/env bash
# tests/fuzz/run_smoke.sh: builds every fuzz target with clang's libFuzzer (+ASan,
# UBSan) and runs each for a short, bounded time on its corpus. The CI smoke; long
# runs are the same command with a larger SECONDS argument.
#
# Usage: tests/fuzz/run_smoke.sh OUT_DIR [SECONDS]   (default 20 s per target)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: run_smoke.sh OUT_DIR [SECONDS]}
seconds=${2:-20}
mkdir -p "$out"
if ! command -v clang++ >/dev/null; then
  echo "SKIP: clang++ not installed (.ci/deps test installs clang and libclang-rt-14-dev)"
  exit 77
fi

flags=(-std=c++20 -g -O1 "-fsanitize=fuzzer,address,undefined" -I "$root/src")
core=("$root"/src/core/*.cpp)
declare -A sources=(
  [smtp_session]="$(ls "$root"/src/smtp/{commands,data_reader,replies,session,syntax,trace}.cpp)"
  [pop3_session]="$(ls "$root"/src/pop3/{args,commands,dot_stuffer,maildrop,replies,sasl_plain,session,session_auth,session_transaction}.cpp)"
  [http_request]="$(ls "$root"/src/http/{request_parser,message}.cpp)"
  [address]="$(ls "$root"/src/address/*.cpp)"
)
declare -A libs=([smtp_session]="" [pop3_session]="" [http_request]="-lhttp_parser"
  [address]="-lidn2 -lunistring")

failed=0
for target in smtp_session pop3_session http_request address; do
  dir=$root/tests/fuzz/$target
  # shellcheck disable=SC2086  # word lists on purpose
  clang++ "${flags[@]}" "$dir/driver.cpp" ${sources[$target]} "${core[@]}" ${libs[$target]} \
    -o "$out/$target"
  work=$(mktemp -d)
  cp "$dir"/corpus/* "$work"/
  if "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -dict="$dir/$target.dict" -artifact_prefix="$out/$target-" "$work" >"$out/$target.log" 2>&1; then
    echo "fuzz $target: $(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$out/$target.log" || tail -1 "$out/$target.log") ok"
  else
    echo "fuzz $target: FAILED (see $out/$target.log and $out/$target-*)"
    tail -30 "$out/$target.log"
    failed=1
  fi
  rm -rf "$work"
done
exit $failed
