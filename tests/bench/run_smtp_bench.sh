#!/usr/bin/env bash
# run_smtp_bench.sh: postern's SMTP acceptance rate and latency against a private Postfix, same load.
#
# Usage: run_smtp_bench.sh POSTERN_BINARY [--quick] [--tools DIR] [--keep]
#   For C in 10 and 50 concurrent connections, 3 runs each, alternating postern then Postfix:
#   smtp_load sends N messages of 4 KB to bob@example.org (N = 2000; --quick: 200) and reports
#   accepted msg/s and the "." -> 250 latency. Prints the medians, the ratio postern/Postfix and
#   postern's peak RSS (VmHWM) after all runs; then checks every accepted message was stored
#   (postern's user list, Postfix's delivered Maildir files).
#   --tools DIR   where smtp_load is (default: tests/bench next to POSTERN_BINARY)
#   --keep        keep the temporary directory (logs, stores) for inspection
# Exit: 0 with zero errors everywhere, 1 on any error, 77 (skipped) without root or Postfix.
# Both servers fsync before their 250: postern its LMDB commit, Postfix its queue file.
# Loopback only; every run is bounded by its message count and smtp_load's --time-limit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=anchors/lib.sh
. "$here/anchors/lib.sh"
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"

bench_args smtp_load -- "$@"
anchors_available postfix

size=4096
runs=3
messages=2000
limit=120
[ "$quick" = 1 ] && messages=200 limit=30

bench_workdir smtp postfix

mkdir -p "$work/postern"
postern_setup "$postern" "$work/postern/data"
postern_cli "$postern" "$work/postern/data" domain add example.org
echo "bench-password" | postern_cli "$postern" "$work/postern/data" user add bob@example.org
postern_start "$postern" "$work/postern/data" "$work/postern"
postern_port=$(ready_port smtp)
[ -n "$postern_port" ] || { echo "postern's ready line has no smtp=: $POSTERN_READY" >&2; exit 1; }
postfix_port=$(free_port)
"$here/anchors/postfix.sh" start "$work/postfix" "$postfix_port"

failed=0
sent_postern=0 sent_postfix=0
# run NAME PORT C N: one smtp_load run; appends its machine line to $work/results.
run() {
  local name=$1 port=$2 c=$3 n=$4 line status=0
  line=$("$load" --host 127.0.0.1 --port "$port" --connections "$c" --messages "$n" \
    --size "$size" --rcpt bob@example.org --time-limit "$limit" | sed -n 1p) || status=$?
  echo "server=$name $line" >>"$work/results"
  if [ "$status" != 0 ] || [ "$(field errors <<<" $line")" != 0 ]; then
    echo "FAIL: $name C=$c: $line" >&2
    failed=1
  fi
  local accepted
  accepted=$(field accepted <<<" $line")
  if [ "$name" = postern ]; then sent_postern=$((sent_postern + ${accepted:-0})); fi
  if [ "$name" = postfix ]; then
    sent_postfix=$((sent_postfix + ${accepted:-0}))
    # Postfix delivers after its 250: let the queue drain so it does not load postern's next run.
    "$here/anchors/postfix.sh" idle "$work/postfix" 120 || failed=1
  fi
}

: >"$work/results"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "warm-up: 100 messages to each server (not counted)"
run postern "$postern_port" 10 100
run postfix "$postfix_port" 10 100
: >"$work/results"

for c in 10 50; do
  for r in $(seq "$runs"); do
    run postern "$postern_port" "$c" "$messages"
    run postfix "$postfix_port" "$c" "$messages"
    echo "  C=$c run $r: $(tail -2 "$work/results" | field accepted_msgs_per_s | paste -sd/) msg/s (postern/postfix)"
  done
done
hwm=$(vm_hwm "$POSTERN_PID")
split=$(rss_split "$POSTERN_PID")

median_of() {  # median_of SERVER C KEY: the median of KEY over that server's runs at C connections
  grep "^server=$1 .* connections=$2 " "$work/results" | field "$3" | median
}
echo
echo "SMTP: $messages messages of $size bytes per run, median of $runs runs, loopback"
printf '%-4s | %-28s | %-28s | %s\n' "C" "postern msg/s  p50 ms  p99 ms" \
  "Postfix msg/s  p50 ms  p99 ms" "ratio msg/s"
summary=
for c in 10 50; do
  pr=$(median_of postern "$c" accepted_msgs_per_s) fr=$(median_of postfix "$c" accepted_msgs_per_s)
  printf '%-4s | %13s %7s %7s | %13s %7s %7s | %s\n' "$c" \
    "$pr" "$(median_of postern "$c" p50_ms)" "$(median_of postern "$c" p99_ms)" \
    "$fr" "$(median_of postfix "$c" p50_ms)" "$(median_of postfix "$c" p99_ms)" "$(ratio "$pr" "$fr")"
  summary+="bench=smtp_summary connections=$c postern_msgs_per_s=$pr postfix_msgs_per_s=$fr"
  summary+=" ratio=$(ratio "$pr" "$fr")"$'\n'

done
printf '%s' "$summary"
echo "postern peak RSS (VmHWM) after all runs: $hwm kB (RSS now: $split)"

# Every 250 must have meant a stored message (warm-up included).
stored=$("$postern" user list --data "$work/postern/data" | awk '$1 == "bob@example.org" {print $2}')
delivered=$("$here/anchors/postfix.sh" count "$work/postfix")
echo "stored: postern $stored of $sent_postern accepted, Postfix delivered $delivered of $sent_postfix"
[ "$stored" = "$sent_postern" ] || { echo "FAIL: postern stored $stored, accepted $sent_postern" >&2; failed=1; }
[ "$delivered" = "$sent_postfix" ] || { echo "FAIL: Postfix delivered $delivered, accepted $sent_postfix" >&2; failed=1; }
bench_finish
