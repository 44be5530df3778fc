#!/usr/bin/env bash
# Mutation testing (make mutation; issue 11): gremlins changes the code one
# token at a time (a < becomes <=, a + becomes -, a condition is negated...)
# and runs the tests against each change. A mutant the tests fail on is
# KILLED; one they pass is LIVED: a change no test notices. Efficacy is
# killed / (killed + lived), over the mutants the tests cover.
#
#   bench/mutation.sh [package dir...]   (default: the six below)
#
# gremlins measures a package with its own tests: coverage comes from
# `go test -cover ./<pkg>/...` and each mutant runs `go test <pkg>`.
# internal/zone has no tests of its own: internal/gslb's are the ones that
# serve its zones (e2e too, but one e2e run per mutant would take hours, so
# they are left out), so for zone, bench/mutation/go (which stands in for
# `go` while gremlins runs) adds them to both commands, with -coverpkg so
# that their coverage of zone counts.
#
# One worker by default (WORKERS=2 for packages whose tests mostly wait;
# the machine is small and shared) and a timeout of 30 times
# the coverage run, which is mostly test time: each mutant's run also
# compiles, and another job may hold the CPUs. A test that hangs under a
# mutant is TIMED OUT, which gremlins counts neither as killed nor as lived.
#
# Writes bench/out/mutation/<pkg>.log (every mutant) and .json; prints per
# package the figures and the mutants that lived.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS_VERSION=v0.6.0
TIMEOUT_COEFFICIENT=${TIMEOUT_COEFFICIENT:-30}
OUT=$PWD/bench/out/mutation
mkdir -p "$OUT/bin"
GOBIN=$OUT/bin go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"

# Test packages, besides its own, whose tests measure a package.
declare -A tests=(
	[internal/zone]=github.com/gslbd/gslbd/internal/gslb
)

export MUTATION_GO
MUTATION_GO=$(command -v go)
export NO_COLOR=1
summary=$OUT/summary.txt
: >"$summary"
for pkg in "${@:-internal/gslb internal/zone internal/dnsserver internal/monitor internal/config internal/atomicfile}"; do
	for pkg in $pkg; do
		pkg=${pkg#./}
		pkg=${pkg%/}
		name=${pkg##*/}
		args=(unleash --workers "${WORKERS:-1}" --timeout-coefficient "$TIMEOUT_COEFFICIENT" -o "$OUT/$name.json")
		extra=${tests[$pkg]:-}
		if [ -n "$extra" ]; then
			args+=(--coverpkg "github.com/gslbd/gslbd/$pkg")
		fi
		echo "== $pkg${extra:+ (tests: $pkg $extra)}"
		start=$(date +%s)
		MUTATION_TESTS=$extra PATH="$PWD/bench/mutation:$PATH" \
			"$OUT/bin/gremlins" "${args[@]}" "./$pkg" 2>&1 | tee "$OUT/$name.log"
		secs=$(($(date +%s) - start))
		count() { grep -c "^ *$1 " "$OUT/$name.log" || true; }
		k=$(count KILLED) l=$(count LIVED) nc=$(count 'NOT COVERED') to=$(count 'TIMED OUT') nv=$(count 'NOT VIABLE')
		eff=n/a
		[ $((k + l)) -gt 0 ] && eff=$(awk -v k="$k" -v l="$l" 'BEGIN { printf "%.1f%%", 100 * k / (k + l) }')
		{
			echo "$pkg: efficacy $eff (killed $k of $((k + l)) covered: lived $l), not covered $nc, timed out $to, not viable $nv; ${secs}s"
			awk -v p="$pkg" '$1 == "LIVED" { print "    lived " p "/" $4 " " $2 }' "$OUT/$name.log"
		} >>"$summary"
	done
done
echo
echo "== summary (bench/out/mutation/summary.txt)"
cat "$summary"
