#!/usr/bin/env bash
# anchors/dovecot.sh: a private Dovecot POP3 server on 127.0.0.1:PORT, the POP3 bench's anchor.
#
# Usage: dovecot.sh start DIR PORT MAILDIRS PASSWORD [TLS_PORT]
#            DIR (fresh) gets dovecot.conf, users (passwd-file), run/, state/ and the log;
#            MAILDIRS holds one Maildir per user named by address (make_maildirs.py), used
#            in place and handed to uid nobody; every user gets PASSWORD. With TLS_PORT, POP3S
#            (implicit TLS) listens there too, with a fresh self-signed P-256 certificate, the
#            key type postern generates, so both servers run the same ECDSA cipher suite
#        dovecot.sh stop DIR
#
# Needs root (dovecot's master binds and drops privileges) and the Debian packages
# dovecot-core and dovecot-pop3d, whose system instance stays stopped (.ci/deps test). The
# only listeners are 127.0.0.1:PORT and, if asked for, 127.0.0.1:TLS_PORT; plaintext login is
# allowed on PORT, as postern allows it from loopback, so the comparison is like for like.
set -euo pipefail

die() { echo "dovecot.sh: $*" >&2; exit 1; }

start() {
  local dir=$1 port=$2 maildirs=$3 password=$4 tls_port=${5:-0}
  [ ! -e "$dir" ] || die "$dir exists; give a fresh directory"
  [ "$(id -u)" = 0 ] || die "needs root (dovecot's master binds and drops privileges)"
  command -v dovecot >/dev/null || die "the dovecot-core package is not installed"
  [ -e /usr/lib/dovecot/pop3 ] || die "the dovecot-pop3d package is not installed"
  [ -d "$maildirs" ] || die "no Maildir tree at $maildirs"
  maildirs=$(readlink -f "$maildirs")
  local uid gid
  uid=$(id -u nobody)
  gid=$(getent group nogroup | cut -d: -f3)
  mkdir -p "$dir/run" "$dir/state"
  chmod 755 "$dir"
  chown -R "$uid:$gid" "$maildirs"
  local user
  : >"$dir/users"
  for user in "$maildirs"/*@*; do
    user=$(basename "$user")
    echo "$user:{PLAIN}$password:$uid:$gid::$maildirs/$user" >>"$dir/users"
  done
  [ -s "$dir/users" ] || die "no user folders (NAME@DOMAIN) in $maildirs"
  local ssl_settings="ssl = no"
  if [ "$tls_port" != 0 ]; then
    command -v openssl >/dev/null || die "TLS needs the openssl tool"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=dovecot-bench.localdomain -keyout "$dir/key.pem" -out "$dir/cert.pem" \
      >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "openssl req failed"; }
    ssl_settings="ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_min_protocol = TLSv1.2"
  fi
  cat >"$dir/dovecot.conf" <<CF
# Private bench instance; see tests/bench/anchors/dovecot.sh.
base_dir = $dir/run
state_dir = $dir/state
instance_name = dovecot-bench-$port
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = pop3
listen = 127.0.0.1
$ssl_settings
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}
mail_location = maildir:~
first_valid_uid = $uid
pop3_uidl_format = %08Xu%08Xv
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $port
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $tls_port
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
CF
  dovecot -c "$dir/dovecot.conf" >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; die "dovecot did not start"; }

  for _ in $(seq 200); do
    if [ -n "$(ss -Htln "sport = :$port")" ] &&
      { [ "$tls_port" = 0 ] || [ -n "$(ss -Htln "sport = :$tls_port")" ]; }; then
      return 0
    fi
    sleep 0.05
  done
  cat "$dir/dovecot.log" >&2 2>/dev/null || true
  die "dovecot did not listen on 127.0.0.1:$port within 10 s"
}

stop() {
  local dir=$1 pid
  [ -f "$dir/dovecot.conf" ] || return 0
  pid=$(cat "$dir/run/master.pid" 2>/dev/null || true)
  doveadm -c "$dir/dovecot.conf" stop >/dev/null 2>&1 || true
  [ -n "$pid" ] || return 0
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start)
    [ $# = 5 ] || [ $# = 6 ] || die "usage: start DIR PORT MAILDIRS PASSWORD [TLS_PORT]"
    start "$2" "$3" "$4" "$5" "${6:-0}"
    ;;
  stop) [ $# = 2 ] || die "usage: stop DIR"; stop "$2" ;;
  *) sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
