#!/usr/bin/env bash
# run_comparison.sh: the issue 16 comparison in one command: postern with the host board's
# shipped defaults against private Postfix and Dovecot anchors, in the same run.
#
# Usage: run_comparison.sh POSTERN_BINARY [--quick] [--tools DIR]
#   Runs, one after the other, the drivers beside it (each starts its own postern and anchor,
#   takes the median of 3 runs and alternates postern and the anchor run by run):
#     run_login_bench.sh                       POP3 login first/cached, TLS handshakes and CPU
#     run_pop3_bench.sh --clients 1 and 10     POP3 100 KB x 30 per session, MB/s
#     run_smtp_bench.sh --source --size 1024 --connections 10    SMTP 1 KB with smtp-source
#     run_smtp_bench.sh --size 102400 --connections "1 10 50" --messages 1000    SMTP 100 KB
#   then prints one table of the medians with the ratio postern/anchor and the CPU seconds per
#   1 000 messages (utime + stime from /proc) of postern and Postfix. Each driver's own table
#   and log go to stdout first. Settings the drivers change from the shipped defaults: ports
#   (0: the kernel picks) and max_connections / max_connections_per_ip (1000, for the
#   50-connection run); pbkdf2_iterations, the credential cache and TLS are as shipped.
#   --quick   each driver's smoke mode (fewer messages, one login run): checks it all runs
# Exit: 0 when every driver passed, 1 otherwise, 77 (skipped) without root or the anchors.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
postern=$(readlink -f "$1")
shift
args=("$@")
out=$(mktemp -d /tmp/postern-comparison-XXXXXX)
trap 'rm -rf "$out"' EXIT

failed=0 skipped=0
# drive NAME DRIVER ARGS...: runs one driver, its output to stdout and $out/NAME.
drive() {
  local name=$1 driver=$2 status=0
  shift 2
  echo "=== $name: $driver $*"
  "$here/$driver" "$postern" "${args[@]}" "$@" 2>&1 | tee "$out/$name" || status=$?
  [ "${PIPESTATUS[0]}" = 0 ] || status=${PIPESTATUS[0]}
  if [ "$status" = 77 ]; then skipped=1; elif [ "$status" != 0 ]; then failed=1; fi
}
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
drive login run_login_bench.sh
drive pop3_1 run_pop3_bench.sh --clients 1
drive pop3_10 run_pop3_bench.sh --clients 10
drive smtp_1k run_smtp_bench.sh --source --size 1024 --connections 10
drive smtp_100k run_smtp_bench.sh --size 102400 --connections "1 10 50" --messages 1000
end_load=$(cut -d' ' -f1-3 /proc/loadavg)

# field KEY < line: the value of KEY=value.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b}'; }
row() { printf '%-52s | %10s | %10s | %6s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
login_row() {  # login_row LABEL: postern and Dovecot columns of run_login_bench.sh's row LABEL
  local line
  line=$(grep -F "$1 " "$out/login" 2>/dev/null | head -1)
  row "$1" "$(awk -F'|' '{gsub(/ /, "", $2); print $2}' <<<"$line")" \
    "$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$line")"
}
smtp() {  # smtp FILE C KEY: KEY of the bench=smtp_summary line at C connections
  grep "^bench=smtp_summary .* connections=$2 " "$out/$1" 2>/dev/null | head -1 | sed 's/^/ /' | field "$3"
}
pop3() { grep '^bench=pop3_summary' "$out/$1" 2>/dev/null | head -1 | sed 's/^/ /' | field "$2"; }

echo
echo "postern (host board, shipped defaults) vs Postfix / Dovecot, same run, median of 3" \
  "(--quick: fewer runs); load average at the end $end_load on $(nproc) CPUs"
printf '%-52s | %10s | %10s | %6s\n' "" postern anchor ratio
echo "CPU seconds per 1 000 messages (utime+stime; steadier than wall clock on a shared machine)"
row "  SMTP 1 KB, smtp-source, 10 sessions" "$(smtp smtp_1k 10 postern_cpu_s_per_1000)" \
  "$(smtp smtp_1k 10 postfix_cpu_s_per_1000)"
for c in 1 10 50; do
  row "  SMTP 100 KB, $c connections" "$(smtp smtp_100k "$c" postern_cpu_s_per_1000)" \
    "$(smtp smtp_100k "$c" postfix_cpu_s_per_1000)"
done
echo "POP3 (anchor: Dovecot)"
login_row "login p50 ms, 1 client, cached"
login_row "login p50 ms, 10 clients at once, cached"
login_row "login p50 ms, 1 client, first (PBKDF2)"
row "POP3 100 KB x 30 per session, 1 client, MB/s" "$(pop3 pop3_1 postern_mb_per_s)" \
  "$(pop3 pop3_1 dovecot_mb_per_s)"
row "POP3 100 KB x 30 per session, 10 clients, MB/s" "$(pop3 pop3_10 postern_mb_per_s)" \
  "$(pop3 pop3_10 dovecot_mb_per_s)"
login_row "TLS handshakes/s, full (4 clients)"
login_row "TLS handshakes/s, resumed (4 clients)"
login_row "server CPU ms per handshake, full"
login_row "server CPU ms per handshake, resumed"
echo "SMTP (anchor: Postfix; both fsync before the 250)"
row "SMTP 1 KB, smtp-source, 10 sessions, msg/s" "$(smtp smtp_1k 10 postern_msgs_per_s)" \
  "$(smtp smtp_1k 10 postfix_msgs_per_s)"
for c in 1 10 50; do
  row "SMTP 100 KB, $c connections, msg/s" "$(smtp smtp_100k "$c" postern_msgs_per_s)" \
    "$(smtp smtp_100k "$c" postfix_msgs_per_s)"
  row "SMTP 100 KB, $c connections, MB/s" "$(smtp smtp_100k "$c" postern_mb_per_s)" \
    "$(smtp smtp_100k "$c" postfix_mb_per_s)"
  row "SMTP 100 KB, $c connections, \".\" -> 250 p50 ms" "$(smtp smtp_100k "$c" postern_p50_ms)" \
    "$(smtp smtp_100k "$c" postfix_p50_ms)"
  row "SMTP 100 KB, $c connections, \".\" -> 250 p99 ms" "$(smtp smtp_100k "$c" postern_p99_ms)" \
    "$(smtp smtp_100k "$c" postfix_p99_ms)"
done
# loop_figures FILE LINE: the loop-lag probe's maxima (and, for SMTP, the loop thread's run-queue
# wait) from the driver's bench=LINE line in FILE.
loop_figures() {
  local l
  l=$(grep "^bench=$2 " "$out/$1" 2>/dev/null | head -1 | sed 's/^/ /')
  printf '%s' "timer delay $(field loop_lag_max_ms <<<"$l") ms, longest iteration" \
    " $(field loop_iteration_max_ms <<<"$l") ms wall / $(field loop_iteration_cpu_max_ms <<<"$l") ms CPU"
  if [ -n "$(field loop_thread_cpu_s <<<"$l")" ]; then
    printf '%s' "; loop thread waited $(field loop_thread_runqueue_wait_s <<<"$l") s for a CPU," \
      " ran $(field loop_thread_cpu_s <<<"$l") s"
  fi
  echo
}
pl=$(grep '^bench=smtp_postern' "$out/smtp_100k" 2>/dev/null | head -1 | sed 's/^/ /')
echo "postern during the SMTP 100 KB runs: PSS idle $(field pss_idle_kb <<<"$pl") kB," \
  "peak $(field pss_peak_kb <<<"$pl") kB"
echo "loop, POP3 login and TLS runs:       $(loop_figures login login_postern)"
echo "loop, POP3 100 KB, 1 client:         $(loop_figures pop3_1 pop3_postern)"
echo "loop, POP3 100 KB, 10 clients:       $(loop_figures pop3_10 pop3_postern)"
echo "loop, SMTP 1 KB (smtp-source) runs:  $(loop_figures smtp_1k smtp_postern)"
echo "loop, SMTP 100 KB runs:              $(loop_figures smtp_100k smtp_postern)"
if [ "$failed" = 1 ]; then
  echo "FAIL: a driver failed (see its output above)"
  exit 1
fi
[ "$skipped" = 1 ] && { echo "SKIP: a driver was skipped (anchors need root and packages)"; exit 77; }
echo "PASS: every driver ran with zero errors"
