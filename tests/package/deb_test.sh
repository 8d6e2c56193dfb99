#!/usr/bin/env bash
# deb_test.sh: the Debian package installs, runs, serves mail and purges cleanly in a fresh Debian 12 chroot.
#
# Usage: tests/package/deb_test.sh BUILD_DIR   (as root; exit 77 = skipped)
#   1. cpack -G DEB in BUILD_DIR; lintian with no errors or warnings
#   2. debootstrap --variant=minbase bookworm (tarball cached in BUILD_DIR/package)
#   3. apt-get install ./postern_*.deb systemd in the chroot (apt resolves the libraries)
#   4. the postern user, /var/lib/postern, the unit (systemd-analyze verify), postern(8)
#   5. the unit's ExecStart, as the unit's User with only CAP_NET_BIND_SERVICE, in a
#      network namespace of its own: a mail in over SMTP (port 25) and out over POP3 (110)
#   6. apt-get purge: the user, the data folder and every packaged file are gone
set -euo pipefail

build=$(readlink -f "${1:?usage: deb_test.sh BUILD_DIR}")
here=$(dirname "$(readlink -f "$0")")
if [ "$(id -u)" -ne 0 ]; then echo "deb_test: needs root (chroot, namespaces); skipped"; exit 77; fi
for tool in cpack lintian debootstrap unshare systemd-analyze python3; do
  command -v "$tool" >/dev/null || { echo "deb_test: $tool missing (.ci/deps package); skipped"; exit 77; }
done

work=$build/package
mkdir -p "$work"
root=$work/chroot
cleanup() {
  for m in proc dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
  [ -n "${keep:-}" ] || rm -rf "$root"
}
trap cleanup EXIT
fail() { echo "deb_test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "package"
rm -f "$build"/postern_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/postern_*.deb)
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
# Errors and warnings both fail; informational tags are listed for the reader.
lintian --fail-on error,warning --display-info "$deb" 2>/dev/null || fail "lintian reported errors or warnings"

step "fresh Debian 12 chroot"
tarball=$work/bookworm-minbase.tgz
if [ ! -s "$tarball" ]; then
  debootstrap --variant=minbase --make-tarball="$tarball.tmp" bookworm "$work/tarball-tmp" >/dev/null
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work/tarball-tmp"
fi
rm -rf "$root"
debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" >/dev/null
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

step "apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
in_root apt-get update -qq >/dev/null
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "/tmp/$(basename "$deb")" systemd \
  >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }

step "user, folders, unit, manual"
in_root getent passwd postern | grep -q ':/var/lib/postern:' || fail "no postern system user"
uid=$(in_root id -u postern)
[ "$uid" -lt 1000 ] || fail "postern user is not a system user (uid $uid)"
gid=$(in_root id -g postern)
[ "$(stat -c '%u:%g %a' "$root/var/lib/postern")" = "$uid:$gid 750" ] ||
  fail "/var/lib/postern is $(stat -c '%u:%g %a' "$root/var/lib/postern"), not postern's ($uid:$gid) 750"
systemd-analyze verify --man=no --root="$root" /lib/systemd/system/postern.service ||
  fail "systemd-analyze verify"
unit=$root/lib/systemd/system/postern.service
for want in 'User=postern' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/postern' \
  'NoNewPrivileges=yes' 'AmbientCapabilities=CAP_NET_BIND_SERVICE'; do
  grep -qx "$want" "$unit" || fail "unit lacks $want"
done
[ -L "$root/etc/systemd/system/multi-user.target.wants/postern.service" ] || fail "unit not enabled"
zcat "$root/usr/share/man/man8/postern.8.gz" | grep -q 'user add ADDRESS' || fail "postern(8) lacks the commands"

step "the unit's command line as its user, in a private network namespace"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
as_postern() { in_root setpriv --reuid=postern --regid=postern --init-groups postern "$@" --board nas-arm128 --data /var/lib/postern; }
as_postern domain add example.org >/dev/null
printf '%s\n' deb-test-password | as_postern user add bob@example.org >/dev/null
# unshare -n: loopback only, so the NAS profile's 0.0.0.0:25 reaches nothing outside.
unshare -n python3 "$here/deb_serve_check.py" "$root" "$exec_start" ||
  fail "serving mail as the service user"

step "apt-get purge"
in_root sh -c 'dpkg -L postern' >"$work/files.txt"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq postern >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "apt-get purge"; }
! in_root getent passwd postern >/dev/null || fail "purge left the postern user"
! in_root getent group postern >/dev/null || fail "purge left the postern group"
[ ! -e "$root/var/lib/postern" ] || fail "purge left /var/lib/postern"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/postern.service" ] || fail "purge left the unit enabled"
while read -r path; do
  [ -d "$root$path" ] && continue  # shared folders such as /usr/sbin stay
  [ ! -e "$root$path" ] || fail "purge left $path"
done <"$work/files.txt"
echo "deb_test: ok ($(basename "$deb") installed, served a mail, purged)"
