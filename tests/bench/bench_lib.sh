# bench_lib.sh: the scaffolding the bench drivers (run_*_bench.sh) share: their command line,
# the work dir and its clean-up, and the final verdict.
# shellcheck shell=bash
# Sourced after anchors/lib.sh (postern_stop), not run. The drivers run under set -euo pipefail.
# It sets the drivers' globals (postern, quick, keep, tools, load, work), hence:
# shellcheck disable=SC2034

bench_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_usage: the driver's header comment, from line 2 to the first line that is not one.
bench_usage() { sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; }

# bench_args TOOL [FLAG...] -- ARGS...: parses ARGS, which are
#   POSTERN_BINARY [--quick] [--keep] [--tools DIR] and the driver's own FLAGs (e.g. --tls),
# into postern (absolute), quick, keep and one 0/1 variable per FLAG (tls for --tls); tools
# defaults to tests/bench next to POSTERN_BINARY, and load is TOOL there. Bad usage, or no
# POSTERN_BINARY or TOOL to run, exits 2.
bench_args() {
  local tool=$1 flag own=()
  shift
  while [ "$1" != -- ]; do
    own+=("$1")
    shift
  done
  shift
  [ $# -ge 1 ] || { bench_usage >&2; exit 2; }
  postern=$(readlink -f "$1")
  shift
  quick=0 keep=0 tools=
  for flag in "${own[@]}"; do printf -v "${flag#--}" 0; done
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) quick=1 ;;
      --keep) keep=1 ;;
      --tools) tools=$2; shift ;;
      *)
        for flag in "${own[@]}" ''; do [ "$flag" = "$1" ] && break; done
        [ -n "$flag" ] || { bench_usage >&2; exit 2; }
        printf -v "${flag#--}" 1
        ;;
    esac
    shift
  done
  tools=${tools:-$(dirname "$postern")/tests/bench}
  load=$tools/$tool
  [ -x "$postern" ] || { echo "no postern binary at $postern" >&2; exit 2; }
  [ -x "$load" ] || { echo "no $tool at $load (build the $tool target)" >&2; exit 2; }
}

# bench_workdir NAME ANCHOR: a fresh work=/tmp/postern-NAME-bench-XXXXXX, and an EXIT trap that
# stops postern and the anchor (anchors/ANCHOR.sh stop $work/ANCHOR), then removes $work
# unless --keep. Mode 755: the anchors' unprivileged processes (uid nobody: Postfix's virtual
# agent, Dovecot's mail processes) deliver or read below it.
bench_workdir() {
  work=$(mktemp -d "/tmp/postern-$1-bench-XXXXXX")
  chmod 755 "$work"
  bench_anchor=$2
  trap bench_cleanup EXIT
}

# shellcheck disable=SC2317  # run by the EXIT trap
bench_cleanup() {
  pss_sampler_stop || true
  postern_stop || true
  "$bench_lib_dir/anchors/$bench_anchor.sh" stop "$work/$bench_anchor" || true
  if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}

# bench_finish: stops postern (an exit other than 0 on SIGTERM fails the run), fails on a
# sanitizer report in $work/postern/postern.log, prints the verdict and exits with $failed.
bench_finish() {
  postern_stop || { echo "FAIL: postern did not exit 0 on SIGTERM" >&2; failed=1; }
  if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$work/postern/postern.log"; then
    echo "FAIL: sanitizer report in postern's log" >&2
    failed=1
  fi
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine skews figures)"
  if [ "$failed" = 0 ]; then echo "PASS: zero errors"; else echo "FAIL: see the lines above"; fi
  exit "$failed"
}

# cpu_ticks PID: utime + stime of one process (fields 14 and 15 of /proc/PID/stat), in clock
# ticks. cpu_ticks_tree PID: the same for PID and its direct children, with the time of
# children they already reaped (cutime + cstime), for multi-process anchors (Postfix's master
# and its smtpd, cleanup, qmgr, virtual; Dovecot's master and its pop3 processes).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_ticks_tree() {
  # One pass over /proc (cat skips a process that ends meanwhile). The names of these
  # processes hold no spaces, so the fields of stat keep their places.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } |
    awk -v root="$1" '$1 == root || $4 == root {t += $14 + $15 + $16 + $17} END {print t + 0}'
}
# loop_sched PID: the loop thread's (PID's main thread) scheduler figures from
# /proc/PID/task/PID/schedstat: "<ns on a CPU> <ns runnable but waiting for a CPU> <slices>".
# loop_sched_report BEFORE AFTER SECONDS: what those grew by over a window, for telling the
# loop's own work from CPU starvation by other processes: a uv timer fires late either because
# a callback ran (on-CPU time) or because the runnable loop thread waited for a CPU (run-queue
# wait); the worst single wait is not visible here, the total and its share are.
loop_sched() { cat "/proc/$1/task/$1/schedstat" 2>/dev/null || echo "0 0 0"; }
loop_sched_report() {
  awk -v b="$1" -v a="$2" -v s="$3" 'BEGIN {
    split(b, x, " "); split(a, y, " ");
    cpu = (y[1] - x[1]) / 1e9; wait = (y[2] - x[2]) / 1e9; n = y[3] - x[3];
    printf "loop_thread_cpu_s=%.2f loop_thread_runqueue_wait_s=%.2f loop_thread_slices=%d", cpu, wait, n;
    mean = n > 0 ? wait / n * 1000 : 0;
    printf " loop_thread_mean_wait_ms=%.3f window_s=%.1f\n", mean, s }'
}
# cpu_per_1000 TICKS MESSAGES: CPU seconds per 1 000 messages.
cpu_per_1000() {
  awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {if (n + 0 == 0) print "n/a"; else printf "%.2f\n", t / hz / n * 1000}'
}

# pss_kb PID: proportional set size in kB (/proc/PID/smaps_rollup): shared pages (libraries,
# LMDB's map) counted by share. pss_sampler_start PID FILE / pss_sampler_stop: the largest
# PSS seen, sampled every 0.2 s in the background into FILE while load runs.
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
pss_sampler_start() {
  local pid=$1 file=$2
  echo 0 >"$file"
  (
    peak=0
    while kill -0 "$pid" 2>/dev/null; do
      now=$(pss_kb "$pid")
      if [ "${now:-0}" -gt "$peak" ]; then peak=$now; echo "$peak" >"$file"; fi
      sleep 0.2
    done
  ) &
  pss_sampler_pid=$!
}
pss_sampler_stop() {
  [ -n "${pss_sampler_pid:-}" ] || return 0
  kill "$pss_sampler_pid" 2>/dev/null || true
  wait "$pss_sampler_pid" 2>/dev/null || true
  pss_sampler_pid=
}

# postern_admin_cookie HTTP_PORT LOGFILE: completes the first-visit set-up (the one-time token
# postern printed on stderr) with curl and prints the session cookie for /api/* reads.
postern_admin_cookie() {
  local port=$1 log=$2 token
  token=$(sed -n 's|.*/setup#\([0-9a-f]*\).*|\1|p' "$log" | tail -1)
  [ -n "$token" ] || { echo "no set-up token in $log" >&2; return 1; }
  curl -sS -m 30 -o /dev/null -D - -H 'Content-Type: application/json' \
    -H "Origin: http://127.0.0.1:$port" -H 'Sec-Fetch-Site: same-origin' \
    --data "{\"token\":\"$token\",\"password\":\"bench-admin-password\"}" \
    "http://127.0.0.1:$port/api/setup" | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1
}
# loop_load_signal PID LOG: the same three figures through SIGUSR1, for drivers without a page
# session: postern logs "event=loop-lag interval_max_ms=... interval_busy_max_ms=...
# interval_cpu_max_ms=..." (the maxima since the previous SIGUSR1 or start) to LOG; waits up to
# 5 s for that line.
loop_load_signal() {
  local pid=$1 log=$2 before
  before=$(grep -c 'event=loop-lag interval_max_ms=' "$log" 2>/dev/null || true)
  kill -USR1 "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    [ "$(grep -c 'event=loop-lag interval_max_ms=' "$log")" -gt "${before:-0}" ] && break
    sleep 0.05
  done
  grep 'event=loop-lag interval_max_ms=' "$log" | tail -1 | sed -n 's/.*interval_max_ms=\([^ ]*\) interval_busy_max_ms=\([^ ]*\) interval_cpu_max_ms=\([^ ]*\).*/loop_lag_max_ms=\1 loop_iteration_max_ms=\2 loop_iteration_cpu_max_ms=\3/p'
}
# loop_load_max: the largest of each figure over loop_load lines on stdin (one line out).
loop_load_max() {
  awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); if (!(kv[1] in m) || kv[2] + 0 > m[kv[1]] + 0) m[kv[1]] = kv[2]; if (!(kv[1] in seen)) {seen[kv[1]] = 1; order[++n] = kv[1]}}}
       END {for (i = 1; i <= n; i++) printf "%s%s=%s", (i > 1 ? " " : ""), order[i], m[order[i]]; print ""}'
}
# loop_load HTTP_PORT COOKIE: the loop-lag probe's maxima since the previous read (read once
# to start a window), as "loop_lag_max_ms=X loop_iteration_max_ms=Y loop_iteration_cpu_max_ms=Z":
# the largest uv timer delay, loop iteration wall time outside the poll, and loop thread CPU
# time in one iteration (src/app/loop_lag.h; lag or wall >> CPU: the thread waited for a CPU).
loop_load() {
  curl -sS -m 30 -H "Cookie: $2" "http://127.0.0.1:$1/api/status" |
    python3 -c 'import json, sys
o = json.load(sys.stdin)["overview"]
print(" ".join("%s=%s" % (k, o[k]) for k in
               ("loop_lag_max_ms", "loop_iteration_max_ms", "loop_iteration_cpu_max_ms")))'
}
