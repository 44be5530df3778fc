#!/usr/bin/env bash
# The metric exchange at the design's scale (docs/mep.md): 32 parent sites
# in a full mesh and 1,024 child sites, each a real mep.Node with its own
# TLS 1.3 listener on its own loopback address, in one process. Prints the
# start-up time to every link UP, the steady-state CPU, RSS, goroutines and
# false DOWNs, and how fast the neighbours of a parent that leaves see it
# (see BENCHMARKS.md).
#
#   bench/mep-scale.sh [-window 600s] [-parents 32] [-children 1024]
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o bin/mep-bench ./bench/mep
ulimit -n "$(ulimit -Hn)"

echo "== $(date -u +%FT%TZ) $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(go version | cut -d' ' -f3)"
bin/mep-bench "$@"
