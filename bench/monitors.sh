#!/usr/bin/env bash
# Health monitoring at scale: 10,000 GSLB services, each a real TCP listener
# on its own loopback address, probed every second by a real gslbd process
# (TCP monitor, retries 3). Prints gslbd's CPU, probe start lateness, RSS,
# and the detection time from killing a listener to the last DNS answer
# holding it (see BENCHMARKS.md).
#
#   bench/monitors.sh [flags of bench/monitors, e.g. -services 1000 -kills 5]
#
# On loopback the peer's half of every handshake (SYN, accept queue, RST)
# runs in the kernel on the connecting thread and is charged to gslbd; the
# "floor" line measures that cost for a bare connect loop with nothing
# around it, so that gslbd's own overhead is the difference.
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o bin/gslbd ./cmd/gslbd
go build -o bin/monitors-bench ./bench/monitors
ulimit -n "$(ulimit -Hn)"

echo "== $(date -u +%FT%TZ) $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(go version | cut -d' ' -f3)"
bin/monitors-bench -gslbd bin/gslbd "$@"
