#!/usr/bin/env bash
# collect_bench.sh: collecting an external POP3 mailbox, postern's collector against fetchmail.
#
# Usage: collect_bench.sh POSTERN_BINARY [--quick] [--keep]
#   A private Dovecot (anchors/dovecot.sh; root, dovecot-core and dovecot-pop3d) serves two
#   identical mailboxes of 1000 mails of 50 KB (make_maildirs.py; --quick: 100) on 127.0.0.1
#   over plain POP3. In the same run:
#     postern: `postern collect now` collects bench1@ into local1@ (its own loop and Writer,
#              the path the server's scheduler takes), each mail with its UIDL in the
#              delivering transaction;
#     fetchmail: fetchmail 6 (uidl, keep) collects bench2@ and forwards each mail over SMTP
#              to the running `postern serve` for local2@ (fetchmail's smtphost forwarding).
#   Prints, for each, the wall time and the CPU seconds (user+system) of every postern and
#   fetchmail process involved (Dovecot's share is the same for both and left out), and
#   checks that each local mailbox holds exactly the 1000 mails.
#   --keep leaves the work dir in /tmp for a look at the logs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=anchors/lib.sh
. "$here/anchors/lib.sh"
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"

[ $# -ge 1 ] || { bench_usage >&2; exit 2; }
postern=$(readlink -f "$1")
shift
quick=0 keep=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    *) bench_usage >&2; exit 2 ;;
  esac
done
[ -x "$postern" ] || { echo "no postern binary at $postern" >&2; exit 2; }
command -v fetchmail >/dev/null || { echo "SKIP: the fetchmail package is not installed"; exit 77; }
if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null || [ ! -e /usr/lib/dovecot/pop3 ]; then
  echo "SKIP: needs root and the dovecot-core, dovecot-pop3d packages"
  exit 77
fi

mails=1000
[ "$quick" = 1 ] && mails=100
size=51200
password=bench-remote-password
failed=0

bench_workdir collect dovecot
mkdir -p "$work/postern"
data=$work/postern/data
python3 "$here/anchors/make_maildirs.py" "$work/maildirs" 2 "$mails" "$size" example.net
pop3_port=$(free_port)
"$here/anchors/dovecot.sh" start "$work/dovecot" "$pop3_port" "$work/maildirs" "$password"

postern_setup "$postern" "$data"
postern_cli "$postern" "$data" domain add example.org
for n in 1 2; do
  postern_cli "$postern" "$data" user add "local$n@example.org" <<<"local-password-$n"
done
postern_cli "$postern" "$data" collect add local1@example.org --host 127.0.0.1 --tls plain \
  --allow-plain --port "$pop3_port" --user bench1@example.net --interval 604800 <<<"$password"

# cpu_of PID: user+system CPU seconds of a live process (/proc/PID/stat fields 14 and 15).
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# count_of ADDRESS: messages in the local mailbox (`postern user list`).
count_of() {
  "$postern" user list --data "$data" | awk -v a="$1" '$1 == a { print $2 }'
}

echo "collecting $mails mails of $((size / 1024)) KB from a private Dovecot on 127.0.0.1:$pop3_port"

# 1. postern's collector: `postern collect now` (no server running, so no scheduler races it).
/usr/bin/time -f '%e %U %S' -o "$work/postern.time" \
  "$postern" collect now --data "$data" >"$work/postern/collect.out" 2>"$work/postern/collect.err" ||
  { cat "$work/postern/collect.out" "$work/postern/collect.err" >&2; failed=1; }
read -r p_wall p_user p_sys <"$work/postern.time"
p_cpu=$(awk -v u="$p_user" -v s="$p_sys" 'BEGIN { printf "%.2f", u + s }')
got=$(count_of local1@example.org)
[ "$got" = "$mails" ] || { echo "FAIL: postern stored ${got:-0} of $mails mails" >&2; failed=1; }

# 2. fetchmail forwarding over SMTP into the running postern.
postern_start "$postern" "$data" "$work/postern"
smtp_port=$(ready_port smtp)
rc=$work/fetchmailrc
cat >"$rc" <<RC
set no bouncemail
set no syslog
poll 127.0.0.1 service $pop3_port protocol pop3 uidl auth password
  user "bench2@example.net" there with password "$password" is "local2@example.org" here
  options keep fetchall no sslcertck sslproto ''
  smtphost 127.0.0.1/$smtp_port smtpname local2@example.org
RC
chmod 600 "$rc"
serve_before=$(cpu_of "$POSTERN_PID")
/usr/bin/time -f '%e %U %S' -o "$work/fetchmail.time" \
  fetchmail -f "$rc" --idfile "$work/fetchids" --nodetach --silent --pidfile "$work/fetchmail.pid" \
  >"$work/fetchmail.out" 2>&1 || { tail -5 "$work/fetchmail.out" >&2; failed=1; }
read -r f_wall f_user f_sys <"$work/fetchmail.time"
serve_after=$(cpu_of "$POSTERN_PID")
f_cpu=$(awk -v u="$f_user" -v s="$f_sys" 'BEGIN { printf "%.2f", u + s }')
s_cpu=$(awk -v a="$serve_before" -v b="$serve_after" 'BEGIN { printf "%.2f", b - a }')
t_cpu=$(awk -v a="$f_cpu" -v b="$s_cpu" 'BEGIN { printf "%.2f", a + b }')
got=$(count_of local2@example.org)
[ "$got" = "$mails" ] || { echo "FAIL: fetchmail delivered ${got:-0} of $mails mails" >&2; failed=1; }

printf '%-38s %8s %10s\n' "" "wall s" "CPU s"
printf '%-38s %8s %10s\n' "postern collect now" "$p_wall" "$p_cpu"
printf '%-38s %8s %10s\n' "fetchmail -> SMTP -> postern serve" "$f_wall" "$t_cpu"
printf '%-38s %8s %10s\n' "  of which fetchmail" "" "$f_cpu"
printf '%-38s %8s %10s\n' "  of which postern serve (SMTP)" "" "$s_cpu"
bench_finish
