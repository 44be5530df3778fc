#!/usr/bin/env bash
# Builds the Debian package, installs it with dpkg -i, starts gslbd the
# way its systemd unit does (the unit's User, AmbientCapabilities,
# WorkingDirectory and ExecStart, through setpriv: CI has no systemd) and
# checks an answer from the default configuration; then removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
deb=$(bash packaging/build-deb.sh "$out")
echo "test-deb: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | sed -n 's/^ *\(Package\|Version\|Architecture\): /  \1: /p'
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	dpkg --purge gslbd >/dev/null 2>&1 || true
	rm -rf /var/lib/gslbd "$out"
}
trap cleanup EXIT
unit=/lib/systemd/system/gslbd.service
val() { sed -n "s/^$1=//p" "$unit" | head -1; }
user=$(val User); group=$(val Group); dir=$(val WorkingDirectory); exec=$(val ExecStart)
caps=$(val AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g; s/^/+/')
getent passwd "$user" >/dev/null || { echo "test-deb: postinst made no user $user"; exit 1; }
[ "$(stat -c %U "$dir/ns.conf")" = "$user" ] || { echo "test-deb: $dir/ns.conf is not $user's"; exit 1; }
echo "test-deb: as $user:$group with $caps in $dir: $exec"
(cd "$dir" && exec setpriv --reuid="$user" --regid="$group" --init-groups --inh-caps="$caps" --ambient-caps="$caps" \
	--no-new-privs -- $exec) > "$out/gslbd.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
	if [ "$(dig +short +tries=1 +time=1 @127.0.0.1 -p 53 gslbd.localhost SOA)" != "" ]; then
		echo "test-deb: answered: $(dig +short @127.0.0.1 -p 53 gslbd.localhost SOA)"
		ps -o user=,cmd= -p "$pid" | sed 's/^/test-deb: running: /'
		exit 0
	fi
	sleep 0.2
done
echo "test-deb: no answer from the installed gslbd"
cat "$out/gslbd.log"
exit 1
