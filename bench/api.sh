#!/usr/bin/env bash
# NITRO changes under DNS load: bindings added one API call at a time to a
# gslbd holding 10,000 GSLB services while dnsperf queries it at half of
# its peak rate, and a checker verifies every answer it sees is the old or
# the new answer of its name (see BENCHMARKS.md).
#
#   bench/api.sh [-services 10000] [-adds 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dnsperf >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf >/dev/null; }
go build -o bin/gslbd ./cmd/gslbd
go build -o bin/api-bench ./bench/api
echo "== $(date -u +%FT%TZ) $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), $(go version | cut -d' ' -f3), $(dnsperf -h 2>&1 | grep -o 'Version [0-9.]*')"
bin/api-bench -gslbd bin/gslbd "$@"
