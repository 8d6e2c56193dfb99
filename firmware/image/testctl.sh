#!/bin/sh
# firmware/image/testctl.sh: the boot test's control handler, one command per connection (only with postern.testctl=PORT).
#
# busybox nc runs this with the TCP connection as stdin and stdout; every
# answer is one "key=value ..." line, echoed to the console as well so the
# console log tells the whole story. Commands:
#   mem       postern's VmRSS, VmHWM, RssAnon, RssFile and RssShmem (from
#             /proc/<pid>/status; the initramfs is tmpfs, so the binary's and
#             libraries' pages count as RssShmem here) and the guest's
#             MemTotal / MemAvailable / MemFree (from /proc/meminfo), in KiB,
#             and MemAvailable as the init read it just before postern's
#             first start (memavailable_before_kb)
#   check     `postern status --check` (a deep store consistency check, read
#             only, beside the running postern): its exit status and counts
#   events    the newest events (`postern events --limit 10`), one line, "|" between
#   kill      SIGKILL postern, as a crash would; the supervisor restarts it
#   poweroff  stop postern with SIGTERM (it exits cleanly), unmount the data
#             disk and power the machine off

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

answer() {
  echo "$*"
  echo "postern testctl $*" >/dev/console
}

field() { # FILE KEY: the number after "KEY:" in a /proc status-style file
  sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "$1"
}

pid=$(cat /run/postern.pid 2>/dev/null)
read -r command || command=
case "$command" in
  mem)
    rss=none hwm=none anon=none file=none shmem=none
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
      rss=$(field "/proc/$pid/status" VmRSS)
      hwm=$(field "/proc/$pid/status" VmHWM)
      anon=$(field "/proc/$pid/status" RssAnon)
      file=$(field "/proc/$pid/status" RssFile)
      shmem=$(field "/proc/$pid/status" RssShmem)
    fi
    answer "mem pid=${pid:-none} vmrss_kb=$rss vmhwm_kb=$hwm rssanon_kb=$anon rssfile_kb=$file rssshmem_kb=$shmem" \
      "memtotal_kb=$(field /proc/meminfo MemTotal)" \
      "memavailable_kb=$(field /proc/meminfo MemAvailable)" \
      "memfree_kb=$(field /proc/meminfo MemFree)" \
      "memavailable_before_kb=$(cat /run/memavailable-before 2>/dev/null || echo none)"
    ;;
  check)
    board=host
    # shellcheck source=/dev/null
    . /etc/postern/image.conf
    out=$(postern status --check --board "$board" --data /data/postern 2>&1)
    status=$?
    answer "check status=$status $(echo "$out" | sed -n 's/^\(messages\|bodies\|check\) *\([0-9a-z]*\).*/\1=\2/p' | tr '\n' ' ')" \
      "output=$(echo "$out" | tr ' \n' '_|')"
    ;;
  events)
    board=host
    # shellcheck source=/dev/null
    . /etc/postern/image.conf
    answer "events $(postern events --limit 10 --board "$board" --data /data/postern 2>&1 | tr '\n' '|')"
    ;;
  kill)
    if [ -n "$pid" ] && kill -KILL "$pid"; then answer "killed pid=$pid"; else answer "kill failed pid=${pid:-none}"; fi
    ;;
  poweroff)
    touch /run/postern.stop
    [ -n "$pid" ] && kill -TERM "$pid"
    n=0
    # The supervisor removes the pid file once postern has exited.
    while [ -e /run/postern.pid ] && [ "$n" -lt 60 ]; do
      sleep 1
      n=$((n + 1))
    done
    sync
    umount /data 2>/dev/null
    answer "powering off postern_stopped_after=${n}s"
    poweroff -f
    ;;
  *)
    answer "unknown command=$command"
    ;;
esac
