#!/usr/bin/env bash
# anchors/postfix.sh: a private Postfix on 127.0.0.1:PORT, the SMTP bench's durable-acceptance anchor.
#
# Usage: postfix.sh start DIR PORT [NAME=VALUE...]
#                                    write DIR/etc (main.cf, master.cf), DIR/queue, DIR/data,
#                                    DIR/mail and start the instance; DIR must not exist yet.
#                                    NAME=VALUE pairs replace main.cf settings (postconf -e)
#                                    before the start, e.g. to relay instead of deliver
#        postfix.sh idle DIR [SECS]  wait (bounded) until the queue is empty, i.e. delivered
#        postfix.sh count DIR        messages delivered into bob's Maildir
#        postfix.sh stop DIR         stop the instance (leaves DIR for the caller to remove)
#
# Needs root (Postfix's master starts as root and drops to mail_owner) and the Debian package
# postfix, whose system instance stays stopped (.ci/deps test). Nothing listens beyond loopback:
# inet_interfaces is loopback-only and the one smtpd service is bound to 127.0.0.1:PORT. No DNS is
# consulted (the bench machines have no resolver beyond loopback). Postfix answers "250" after
# it has fsynced the queue file (cleanup, fsync_queue_files... default yes): the same promise as
# postern's 250 after its LMDB commit. Mail for example.org goes to DIR/mail/bob/ (Maildir) via
# the virtual(8) agent as uid/gid nobody:nogroup, delivered after the 250, off the timed path.
set -euo pipefail

die() { echo "postfix.sh: $*" >&2; exit 1; }

start() {
  local dir=$1 port=$2
  shift 2
  [ ! -e "$dir" ] || die "$dir exists; give a fresh directory"
  [ "$(id -u)" = 0 ] || die "needs root (postfix master runs as root)"
  command -v postfix >/dev/null || die "the postfix package is not installed"
  local uid gid
  uid=$(id -u nobody)
  gid=$(getent group nogroup | cut -d: -f3)
  mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
  chmod 755 "$dir"
  chown postfix: "$dir/data"
  chown "$uid:$gid" "$dir/mail"
  cat >"$dir/etc/main.cf" <<CF
# Private bench instance; see tests/bench/anchors/postfix.sh.
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
smtpd_client_restrictions = permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_client_connection_count_limit = 0
smtpd_client_event_limit_exceptions = 127.0.0.0/8
message_size_limit = 52428800
virtual_mailbox_limit = 0
virtual_mailbox_domains = example.org
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = inline:{ bob@example.org=bob/ }
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 100
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
command_directory = /usr/sbin
CF
  # One smtpd listener on loopback, enough processes for the 50-connection run; the rest are the
  # stock internal services, unchrooted (the private queue is not set up as a chroot).
  cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$port inet n - n - 120 smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  # The caller's settings last: postconf -e replaces an entry in place (no duplicate keys).
  if [ $# -gt 0 ]; then
    postconf -c "$dir/etc" -e "$@" || die "postconf -e $* failed"
  fi
  # Postfix prints its fatal errors on stderr only when it is a terminal (else to the log it
  # cannot open yet): on failure, rerun under script(1) to show why.
  local verb
  for verb in check start; do
    if ! postfix -c "$dir/etc" "$verb" >"$dir/$verb.log" 2>&1; then
      script -qec "postfix -c $dir/etc $verb" /dev/null >&2 || true
      die "postfix $verb failed"
    fi
  done
  # Ready when the listener accepts: bounded wait, no fixed sleep.
  for _ in $(seq 200); do
    [ -n "$(ss -Htln "sport = :$port")" ] && return 0
    sleep 0.05
  done
  cat "$dir/maillog" >&2 2>/dev/null || true
  die "smtpd did not listen on 127.0.0.1:$port within 10 s"
}

queued() {
  find "$1/queue/maildrop" "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" \
    -type f 2>/dev/null | wc -l
}

idle() {
  local dir=$1 secs=${2:-60}
  for _ in $(seq $((secs * 20))); do
    [ "$(queued "$dir")" = 0 ] && return 0
    sleep 0.05
  done
  die "queue not empty after ${secs}s: $(queued "$dir") files"
}

count() {
  local dir=$1
  find "$dir/mail/bob/new" "$dir/mail/bob/cur" -type f 2>/dev/null | wc -l
}

stop() {
  local dir=$1
  [ -f "$dir/etc/main.cf" ] || return 0
  local pid
  pid=$(tr -d ' \n' <"$dir/queue/pid/master.pid" 2>/dev/null || true)
  postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
  [ -n "$pid" ] || return 0
  # The pid file outlives master: wait (bounded) for the process itself.
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  postfix -c "$dir/etc" abort >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) [ $# -ge 3 ] || die "usage: start DIR PORT [NAME=VALUE...]"; shift; start "$@" ;;
  idle) [ $# -ge 2 ] || die "usage: idle DIR [SECS]"; idle "$2" "${3:-60}" ;;
  count) [ $# = 2 ] || die "usage: count DIR"; count "$2" ;;
  stop) [ $# = 2 ] || die "usage: stop DIR"; stop "$2" ;;
  *) sed -n '2,15s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
