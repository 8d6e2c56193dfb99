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
