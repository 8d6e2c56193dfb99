#!/usr/bin/env bash
# run_pop3_bench.sh: postern's POP3 retrieval throughput against a private Dovecot, same mailboxes.
#
# Usage: run_pop3_bench.sh POSTERN_BINARY [--quick] [--tls] [--tools DIR] [--keep] [--clients N]
#   10 users bench1..bench10@example.org, 30 messages of 100 KB each, the same Maildir files
#   imported into postern (`postern import --maildir`) and served in place by Dovecot. Each run:
#   pop3_load with N connections (--clients, default 10), one user each, R rounds of USER/PASS, LIST, UIDL, RETR all,
#   QUIT (R = 10; --quick: 2). 3 runs alternating postern then Dovecot; prints median MB/s and
#   msg/s, the ratio postern/Dovecot and postern's peak RSS (VmHWM) after all runs.
#   --tls         POP3S (implicit TLS, a full handshake per session) on both servers instead
#   --tools DIR   where pop3_load is (default: tests/bench next to POSTERN_BINARY)
#   --keep        keep the temporary directory (logs, stores) for inspection
# Exit: 0 with zero errors and every message retrieved, 1 otherwise, 77 (skipped) without root
# or the Dovecot packages. Loopback only; every run is bounded by rounds and --time-limit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=anchors/lib.sh
. "$here/anchors/lib.sh"
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"

clients=10 rest=()
while [ $# -gt 0 ]; do
  if [ "$1" = --clients ]; then clients=$2; shift; else rest+=("$1"); fi
  shift
done
declare tls  # 0, or 1 with --tls: set by bench_args
bench_args pop3_load --tls -- "${rest[@]}"
anchors_available dovecot-core dovecot-pop3d

users=10
per_user=30
size=102400
runs=3
rounds=10
limit=120
[ "$quick" = 1 ] && rounds=2 limit=30
password=bench-password

bench_workdir pop3 dovecot

python3 "$here/anchors/make_maildirs.py" "$work/maildirs" "$users" "$per_user" "$size"
cp -a "$work/maildirs" "$work/dovecot-mail"

mkdir -p "$work/postern"
data=$work/postern/data
postern_setup "$postern" "$data"
postern_cli "$postern" "$data" import --maildir "$work/maildirs"
for n in $(seq "$users"); do
  echo "$password" | postern_cli "$postern" "$data" user passwd "bench$n@example.org"
done
postern_start "$postern" "$data" "$work/postern"
service=pop3 mode=plaintext tls_flag=()
[ "$tls" = 1 ] && service=pop3s mode="implicit TLS" tls_flag=(--tls)
postern_port=$(ready_port "$service")
if [ -z "$postern_port" ]; then
  echo "FAIL: postern's ready line has no $service= (is the POP3 service wired?): $POSTERN_READY" >&2
  exit 1
fi
dovecot_port=$(free_port)
if [ "$tls" = 1 ]; then
  dovecot_tls_port=$(free_port)
  "$here/anchors/dovecot.sh" start "$work/dovecot" "$dovecot_port" "$work/dovecot-mail" \
    "$password" "$dovecot_tls_port"
  dovecot_port=$dovecot_tls_port
else
  "$here/anchors/dovecot.sh" start "$work/dovecot" "$dovecot_port" "$work/dovecot-mail" "$password"
fi

failed=0
# run NAME PORT R: one pop3_load run; appends its machine line to $work/results.
run() {
  local name=$1 port=$2 r=$3 line status=0 want
  line=$("$load" --host 127.0.0.1 --port "$port" --connections "$clients" \
    --user 'bench{n}@example.org' --password "$password" --rounds "$r" \
    --time-limit "$limit" "${tls_flag[@]}" | sed -n 1p) || status=$?
  echo "server=$name $line" >>"$work/results"
  want=$((r * clients * per_user))
  if [ "$status" != 0 ] || [ "$(field errors <<<" $line")" != 0 ] ||
    [ "$(field messages <<<" $line")" != "$want" ]; then
    echo "FAIL: $name (want $want messages, zero errors): $line" >&2
    failed=1
  fi
}

: >"$work/results"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "warm-up: one round on each server (not counted)"
run postern "$postern_port" 1
run dovecot "$dovecot_port" 1
: >"$work/results"
loop_load_signal "$POSTERN_PID" "$work/postern/postern.log" >/dev/null  # starts the window

for r in $(seq "$runs"); do
  run postern "$postern_port" "$rounds"
  run dovecot "$dovecot_port" "$rounds"
  echo "  run $r: $(field mb_per_s <"$work/results" | tail -2 | paste -sd/) MB/s (postern/dovecot)"
done
load=$(loop_load_signal "$POSTERN_PID" "$work/postern/postern.log")
hwm=$(vm_hwm "$POSTERN_PID")
split=$(rss_split "$POSTERN_PID")

median_of() {  # median_of SERVER KEY: the median of KEY over that server's runs
  grep "^server=$1 " "$work/results" | field "$2" | median
}
echo
echo "POP3: $clients connections x $rounds rounds x $per_user messages of $size bytes per run," \
  "median of $runs runs, loopback, $mode"
printf '%-8s | %10s | %10s\n' "" "MB/s" "msg/s"
pm=$(median_of postern mb_per_s) dm=$(median_of dovecot mb_per_s)
pn=$(median_of postern msgs_per_s) dn=$(median_of dovecot msgs_per_s)
printf '%-8s | %10s | %10s\n' postern "$pm" "$pn" Dovecot "$dm" "$dn" ratio "$(ratio "$pm" "$dm")" \
  "$(ratio "$pn" "$dn")"
echo "bench=pop3_summary tls=$tls clients=$clients postern_mb_per_s=$pm dovecot_mb_per_s=$dm ratio=$(ratio "$pm" "$dm")"
echo "postern peak RSS (VmHWM) after all runs: $hwm kB (RSS now: $split)"
echo "bench=pop3_postern $load"

bench_finish
