# anchors/lib.sh: helpers the bench drivers source: a private postern, free ports, medians.
# shellcheck shell=bash
# Sourced, not run. Every wait is bounded; nothing sleeps to synchronise beyond polling a condition.

# A free TCP port on 127.0.0.1 (the kernel picks; closed again, so a small race remains, which a
# failing anchor start reports plainly).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# postern_setup BINARY DATA: a fresh data dir with every port 0 (the kernel picks) and
# connection limits above the bench's 50 loopback connections (the default per-IP cap is 20).
# Everything else, pbkdf2_iterations included, is the host board's shipped default: the
# benches measure what a user runs (issue 16).
postern_setup() {
  local bin=$1 data=$2 key value
  for key in smtp_port=0 pop3_port=0 pop3s_port=0 http_port=0 https_port=0 \
    max_connections=1000 max_connections_per_ip=1000; do
    value=${key#*=}
    key=${key%%=*}
    postern_cli "$bin" "$data" set "$key" "$value"
  done
}

# postern_cli BINARY DATA ARGS... [< stdin]: one CLI command; its output is shown only on failure.
postern_cli() {
  local bin=$1 data=$2 out
  shift 2
  if ! out=$("$bin" "$@" --data "$data" 2>&1); then
    echo "postern $* failed: $out" >&2
    return 1
  fi
}

# postern_start BINARY DATA LOGDIR: runs `postern serve`, waits (bounded) for its one ready line.
# Sets POSTERN_PID and POSTERN_READY (the line).
postern_start() {
  local bin=$1 data=$2 logdir=$3
  "$bin" serve --data "$data" >"$logdir/postern.ready" 2>"$logdir/postern.log" &
  POSTERN_PID=$!
  for _ in $(seq 600); do
    if grep -q '^postern ready' "$logdir/postern.ready" 2>/dev/null; then
      POSTERN_READY=$(head -1 "$logdir/postern.ready")
      return 0
    fi
    kill -0 "$POSTERN_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -20 "$logdir/postern.log" >&2
  echo "postern did not print its ready line within 30 s" >&2
  return 1
}

# ready_port NAME: the port NAME=P from the ready line, empty when the service is absent.
ready_port() {
  sed -n "s/.* $1=\([0-9][0-9]*\).*/\1/p" <<<"$POSTERN_READY"
}

# postern_stop: SIGTERM, then a bounded wait for the exit; returns the exit status.
postern_stop() {
  [ -n "${POSTERN_PID:-}" ] || return 0
  kill -TERM "$POSTERN_PID" 2>/dev/null || true
  local status=0
  for _ in $(seq 600); do
    kill -0 "$POSTERN_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$POSTERN_PID" 2>/dev/null; then
    kill -KILL "$POSTERN_PID" 2>/dev/null || true
    status=124
  fi
  wait "$POSTERN_PID" 2>/dev/null || status=$?
  POSTERN_PID=
  return "$status"
}

# vm_hwm PID: peak resident set size in kB (VmHWM of /proc/PID/status).
vm_hwm() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

# rss_split PID: the current RSS split, since VmHWM counts LMDB's mapped file pages (RssFile)
# as well as the heap (RssAnon): "anon=N kB file=N kB".
rss_split() {
  awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {printf "anon=%s kB file=%s kB\n", a, f}' \
    "/proc/$1/status"
}

# field KEY < line: the value of KEY=value in a bench=... line.
field() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

# median < numbers (one per line).
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "nan"}'
}

# ratio A B: A/B to two places, "n/a" when B is zero.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 == 0) print "n/a"; else printf "%.2f\n", a / b}'
}

# anchors_available PACKAGE...: exit 77 (ctest: skipped) without root or a package.
anchors_available() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the anchors (private Postfix/Dovecot) need root" >&2
    exit 77
  fi
  local pkg
  for pkg in "$@"; do
    if [[ "$(dpkg -s "$pkg" 2>/dev/null)" != *$'\nStatus: install ok installed\n'* ]]; then
      echo "SKIP: package $pkg is not installed (run .ci/deps test)" >&2
      exit 77
    fi
  done
}
