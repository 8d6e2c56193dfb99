#!/usr/bin/env bash
# deb_lint.sh: builds the .deb of a cross build folder and requires lintian to find no error or warning.
#
# Usage: tests/package/deb_lint.sh BUILD_DIR DEB_ARCH   (DEB_ARCH: arm64, armhf)
# DEB_HOST_ARCH makes dpkg-shlibdeps read that architecture's libraries, so the
# package depends on e.g. libuv1:arm64's package, not the host's.
set -euo pipefail
build=$(readlink -f "${1:?usage: deb_lint.sh BUILD_DIR DEB_ARCH}")
arch=${2:?usage: deb_lint.sh BUILD_DIR DEB_ARCH}
rm -f "$build"/postern_*.deb
(cd "$build" && DEB_HOST_ARCH=$arch cpack -G DEB >/dev/null)
deb=$(ls "$build"/postern_*_"$arch".deb)
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb -f "$deb" Architecture Depends
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || { echo "deb_lint: wrong Architecture" >&2; exit 1; }
lintian --fail-on error,warning --display-info "$deb"
