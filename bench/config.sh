#!/usr/bin/env bash
# Configuration scale: appliance-shaped files of 10k, 100k and 1M lines
# (bench/confgen: mostly lb, cs, ssl and system sections kept verbatim, 2%
# GSLB) checked with `gslbd check` (wall time and peak RSS, best of 3),
# then served by a real gslbd: time until the first DNS answer, RSS once
# serving, and DNS latency and losses at 2,000 queries/s before and during
# SIGHUP reloads (bench/reload). Every address is on loopback (-net 127):
# the daemon really probes the services the file monitors.
#
#   bench/config.sh [line counts...]   (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o bin/gslbd ./cmd/gslbd
go build -o bin/confgen ./bench/confgen
go build -o bin/reload-bench ./bench/reload
ulimit -n "$(ulimit -Hn)"
command -v dig >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsutils >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }

dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { date +%s%3N; }

echo "== $(date -u +%FT%TZ) $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(go version | cut -d' ' -f3)"
for n in "${@:-10000 100000 1000000}"; do
	for n in $n; do
		f=$dir/ns-$n.conf
		bin/confgen -lines "$n" -net 127 >"$f"
		lines=$(wc -l <"$f")
		size=$(du -h "$f" | cut -f1)
		best=
		for _ in 1 2 3; do
			/usr/bin/time -f '%e %M' -o "$dir/t" bin/gslbd check "$f" >/dev/null 2>"$dir/warn"
			read -r wall rss <"$dir/t"
			if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall best_rss=$rss; fi
		done
		echo "$lines lines ($size): gslbd check ${best}s, peak RSS $((best_rss / 1024)) MiB"

		port=$(freeport)
		t0=$(ms)
		bin/gslbd run -config "$f" -listen "127.0.0.1:$port" -api "" 2>"$dir/log" &
		pid=$!
		until dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 app0.gslb.example.com A | grep -q .; do
			kill -0 "$pid" || { cat "$dir/log"; exit 1; }
			sleep 0.05
		done
		t1=$(ms)
		sleep 5
		rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
		hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
		echo "  gslbd run: first answer after $((t1 - t0)) ms; RSS serving $rss MiB (peak $hwm MiB)"
		if [ "$n" -ge 100000 ]; then
			vservers=$(grep -c '^add gslb vserver' "$f")
			bin/reload-bench -server "127.0.0.1:$port" -pid "$pid" -count "$vservers" -rate 2000 -baseline 10s -reloads 5 -every 4s | sed 's/^/  /'
			got=$(grep -c 'configuration reloaded' "$dir/log" || true)
			echo "  reloads completed: $got of 5 (RSS after: $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status") MiB)"
		fi
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=
	done
done
