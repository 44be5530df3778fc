#!/usr/bin/env bash
# Builds gslbd_<version>_<arch>.deb with Debian's dpkg-deb: the binaries,
# the systemd unit, the default configuration and the docs.
# Usage: bash packaging/build-deb.sh [out-dir]   (default: bin/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin}
arch=$(dpkg --print-architecture)
# A tag v1.2.3 gives 1.2.3; otherwise 0.0.0+git<commit date>.<hash>.
version=$(git describe --tags --exact-match 2>/dev/null | sed 's/^v//') ||
	version="0.0.0+git$(git log -1 --format=%cd.%h --date=format:%Y%m%d)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/gslbd" "$root/usr/share/doc/gslbd"
CGO_ENABLED=1 go build -trimpath -o "$root/usr/bin/gslbd" ./cmd/gslbd
CGO_ENABLED=1 go build -trimpath -o "$root/usr/bin/gslbctl" ./cmd/gslbctl
install -m 0644 packaging/gslbd.service "$root/lib/systemd/system/gslbd.service"
install -m 0644 packaging/ns.conf "$root/usr/share/gslbd/ns.conf"
install -m 0644 README.md docs/*.md "$root/usr/share/doc/gslbd/"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/" packaging/debian/control > "$root/DEBIAN/control"
install -m 0755 packaging/debian/postinst packaging/debian/prerm "$root/DEBIAN/"
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/gslbd_${version}_${arch}.deb" >/dev/null
echo "$out/gslbd_${version}_${arch}.deb"
