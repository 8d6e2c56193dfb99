#!/usr/bin/env bash
# run_smtp_bench.sh: postern's SMTP acceptance rate and latency against a private Postfix, same load.
#
# Usage: run_smtp_bench.sh POSTERN_BINARY [--quick] [--tools DIR] [--keep] [--size BYTES]
#                          [--connections "C..."] [--messages N] [--source]
#   For each C of --connections (default "10 50"), 3 runs each, alternating postern then Postfix:
#   smtp_load sends N messages of --size bytes (default 4096) to bob@example.org (N = 2000;
#   --quick: 200) and reports accepted msg/s and the "." -> 250 latency. Prints the medians, MB/s,
#   the ratio postern/Postfix, each server's CPU seconds per 1 000 messages (utime + stime from
#   /proc: postern's process; Postfix's master and its children, measured after its queue has
#   drained, so its delivery into the Maildir is included), postern's PSS idle and peak (sampled
#   every 0.2 s) and the loop-lag probe's maxima during the runs (/api/status: timer delay,
#   iteration wall time outside the poll, iteration CPU time; bench_lib.sh loop_load) with
#   the loop thread's CPU time and run-queue wait over the same window (loop_sched_report); then
#   checks every accepted message was stored (postern's user list, Postfix's Maildir files).
#   --source      drive the load with Postfix's own smtp-source (-s C -m N -l SIZE) instead of
#                 smtp_load: msg/s from the wall clock, no latency figures
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

size=4096 conns="10 50" messages='' rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size=$2; shift ;;
    --connections) conns=$2; shift ;;
    --messages) messages=$2; shift ;;
    *) rest+=("$1") ;;
  esac
  shift
done
declare source  # 0, or 1 with --source: set by bench_args
bench_args smtp_load --source -- "${rest[@]}"
anchors_available postfix

runs=3
limit=120
[ -n "$messages" ] || messages=2000
[ "$quick" = 1 ] && messages=200 limit=30
if [ "$source" = 1 ]; then
  smtp_source=$(command -v smtp-source || echo /usr/sbin/smtp-source)
  [ -x "$smtp_source" ] || { echo "no smtp-source (package postfix)" >&2; exit 77; }
fi

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
postfix_master=$(tr -d ' \n' <"$work/postfix/queue/pid/master.pid")
http_port=$(ready_port http)
cookie=$(postern_admin_cookie "$http_port" "$work/postern/postern.log")

failed=0
sent_postern=0 sent_postfix=0
# run NAME PORT C N: one load run; appends its machine line (with cpu_ticks=) to $work/results.
run() {
  local name=$1 port=$2 c=$3 n=$4 line status=0 t0 t1 start end
  if [ "$name" = postern ]; then t0=$(cpu_ticks "$POSTERN_PID"); else t0=$(cpu_ticks_tree "$postfix_master"); fi
  if [ "$source" = 1 ]; then
    start=$(date +%s.%N)
    timeout "$limit" "$smtp_source" -s "$c" -m "$n" -l "$size" -f bench@example.net \
      -t bob@example.org "127.0.0.1:$port" >"$work/source.out" 2>&1 || status=$?
    end=$(date +%s.%N)
    line=$(awk -v n="$n" -v c="$c" -v s="$start" -v e="$end" -v st="$status" -v size="$size" \
      'BEGIN {printf "bench=smtp_source connections=%d messages=%d size=%d accepted=%d errors=%d elapsed_s=%.3f accepted_msgs_per_s=%.1f p50_ms=nan p99_ms=nan\n", c, n, size, st == 0 ? n : 0, st != 0, e - s, st == 0 ? n / (e - s) : 0}')
  else
    line=$("$load" --host 127.0.0.1 --port "$port" --connections "$c" --messages "$n" \
      --size "$size" --rcpt bob@example.org --time-limit "$limit" | sed -n 1p) || status=$?
  fi
  local accepted
  accepted=$(field accepted <<<" $line")
  if [ "$name" = postern ]; then
    t1=$(cpu_ticks "$POSTERN_PID")
    sent_postern=$((sent_postern + ${accepted:-0}))
  else
    sent_postfix=$((sent_postfix + ${accepted:-0}))
    # Postfix delivers after its 250: let the queue drain so it does not load postern's next run.
    "$here/anchors/postfix.sh" idle "$work/postfix" 120 || failed=1
    t1=$(cpu_ticks_tree "$postfix_master")
  fi
  echo "server=$name $line cpu_ticks=$((t1 - t0))" >>"$work/results"
  if [ "$status" != 0 ] || [ "$(field errors <<<" $line")" != 0 ]; then
    echo "FAIL: $name C=$c: $line" >&2
    failed=1
  fi
}

: >"$work/results"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "warm-up: 100 messages to each server (not counted)"
run postern "$postern_port" 10 100
run postfix "$postfix_port" 10 100
: >"$work/results"
pss_idle=$(pss_kb "$POSTERN_PID")
loop_load "$http_port" "$cookie" >/dev/null  # starts the window
sched0=$(loop_sched "$POSTERN_PID") window0=$(date +%s.%N)
pss_sampler_start "$POSTERN_PID" "$work/pss.peak"

for c in $conns; do
  for r in $(seq "$runs"); do
    run postern "$postern_port" "$c" "$messages"
    run postfix "$postfix_port" "$c" "$messages"
    echo "  C=$c run $r: $(tail -2 "$work/results" | field accepted_msgs_per_s | paste -sd/) msg/s (postern/postfix)"
  done
done
pss_sampler_stop
load=$(loop_load "$http_port" "$cookie")
sched=$(loop_sched_report "$sched0" "$(loop_sched "$POSTERN_PID")" \
  "$(awk -v a="$window0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')")
pss_peak=$(cat "$work/pss.peak")
hwm=$(vm_hwm "$POSTERN_PID")
split=$(rss_split "$POSTERN_PID")

median_of() {  # median_of SERVER C KEY: the median of KEY over that server's runs at C connections
  grep "^server=$1 .* connections=$2 " "$work/results" | field "$3" | median
}
cpu_of() {  # cpu_of SERVER C: the median CPU seconds per 1 000 messages at C connections
  grep "^server=$1 .* connections=$2 " "$work/results" |
    while read -r line; do cpu_per_1000 "$(field cpu_ticks <<<" $line")" "$(field accepted <<<" $line")"; done |
    median
}
mb() { awk -v r="$1" -v s="$size" 'BEGIN {printf "%.1f\n", r * s / 1e6}'; }
echo
tool=smtp_load
[ "$source" = 1 ] && tool=smtp-source
echo "SMTP ($tool): $messages messages of $size bytes per run, median of $runs runs, loopback"
printf '%-4s | %-42s | %-42s | %s\n' "C" "postern msg/s  MB/s  p50 ms  p99 ms  cpu s/1k" \
  "Postfix msg/s  MB/s  p50 ms  p99 ms  cpu s/1k" "ratio MB/s"
summary=
for c in $conns; do
  pr=$(median_of postern "$c" accepted_msgs_per_s) fr=$(median_of postfix "$c" accepted_msgs_per_s)
  pp50=$(median_of postern "$c" p50_ms) pp99=$(median_of postern "$c" p99_ms)
  fp50=$(median_of postfix "$c" p50_ms) fp99=$(median_of postfix "$c" p99_ms)
  pc=$(cpu_of postern "$c") fc=$(cpu_of postfix "$c")
  printf '%-4s | %13s %5s %7s %7s %9s | %13s %5s %7s %7s %9s | %s\n' "$c" \
    "$pr" "$(mb "$pr")" "$pp50" "$pp99" "$pc" "$fr" "$(mb "$fr")" "$fp50" "$fp99" "$fc" \
    "$(ratio "$pr" "$fr")"
  summary+="bench=smtp_summary tool=$tool size=$size connections=$c postern_msgs_per_s=$pr"
  summary+=" postfix_msgs_per_s=$fr postern_mb_per_s=$(mb "$pr") postfix_mb_per_s=$(mb "$fr")"
  summary+=" postern_p50_ms=$pp50 postern_p99_ms=$pp99 postfix_p50_ms=$fp50 postfix_p99_ms=$fp99"
  summary+=" postern_cpu_s_per_1000=$pc postfix_cpu_s_per_1000=$fc ratio=$(ratio "$pr" "$fr")"$'\n'
done
printf '%s' "$summary"
echo "bench=smtp_postern pss_idle_kb=$pss_idle pss_peak_kb=$pss_peak $load $sched"
echo "postern PSS idle $pss_idle kB, peak $pss_peak kB; $load over the runs;" \
  "peak RSS (VmHWM) $hwm kB (RSS now: $split)"

# Every 250 must have meant a stored message (warm-up included).
stored=$("$postern" user list --data "$work/postern/data" | awk '$1 == "bob@example.org" {print $2}')
delivered=$("$here/anchors/postfix.sh" count "$work/postfix")
echo "stored: postern $stored of $sent_postern accepted, Postfix delivered $delivered of $sent_postfix"
[ "$stored" = "$sent_postern" ] || { echo "FAIL: postern stored $stored, accepted $sent_postern" >&2; failed=1; }
[ "$delivered" = "$sent_postfix" ] || { echo "FAIL: Postfix delivered $delivered, accepted $sent_postfix" >&2; failed=1; }
bench_finish
