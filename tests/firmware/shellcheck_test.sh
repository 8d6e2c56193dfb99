#!/bin/sh
# tests/firmware/shellcheck_test.sh: shellcheck over every firmware script: the OpenWrt init and the image's guest scripts as POSIX sh, the host scripts as bash.
#
# Exits 77 (ctest SKIP_RETURN_CODE) when shellcheck is not installed
# (apt-get install shellcheck), 1 on any finding, 0 when all are clean.
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v shellcheck >/dev/null || { echo "shellcheck not installed: skipped"; exit 77; }

status=0
# Run by busybox ash (OpenWrt's /bin/sh, the image's PID 1): POSIX sh.
for script in firmware/openwrt/files/postern.init firmware/image/init firmware/image/testctl.sh \
  firmware/image/udhcpc.script firmware/image/targets.sh tests/firmware/openwrt_init_test.sh \
  tests/firmware/shellcheck_test.sh; do
  if shellcheck -s sh "$root/$script"; then echo "PASS: $script"; else echo "FAIL: $script"; status=1; fi
done
# Host scripts, bash; -x follows their `. targets.sh`.
for script in firmware/image/build.sh firmware/image/boot-test.sh firmware/image/deps.sh \
  firmware/image/power-cut-test.sh; do
  if shellcheck -x "$root/$script"; then echo "PASS: $script"; else echo "FAIL: $script"; status=1; fi
done
exit "$status"
