#!/usr/bin/env bash
# DNS benchmark: gslbd's GSLB answers next to CoreDNS and Knot DNS serving
# the same static zone, and PowerDNS Authoritative with Lua ifportup records
# (enable-lua-records=shared, its fast mode). dnsperf on loopback; each
# server pinned to core 0, dnsperf to core 1.
#
# Usage: bash bench/dns.sh [seconds per run, default 10] [observe|wire]
# Writes bench/out/results.md (the table for BENCHMARKS.md) and raw logs.
# With "observe", only the observability run: gslbd's CPU at 10,000 QPS
# with Prometheus scraped every second and dnstap to fstrm_capture, next
# to the same gslbd with both off (issue 14's 1.1x). With "wire", only
# the fixed-rate run of issue 15: gslbd's CPU for static and GSLB answers
# and Knot's at 50,000 QPS, and their RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
MODE=${2:-all}
OUT=$PWD/bench/out
N=1000
rm -rf "$OUT" && mkdir -p "$OUT"
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need dnsperf || ! need knotd || ! need pdns_server || ! need taskset || ! need fstrm_capture || ! need dig; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf knot pdns-server pdns-backend-bind util-linux python3 fstrm-bin dnsutils >/dev/null
fi
# Stop the Debian services the packages may have started; we run our own.
(systemctl stop knot pdns 2>/dev/null || service knot stop 2>/dev/null || true) >/dev/null 2>&1
pkill -x knotd 2>/dev/null || true
pkill -x pdns_server 2>/dev/null || true
COREDNS_VERSION=v1.12.4
COREDNS=$OUT/../coredns-$COREDNS_VERSION
if [ "$MODE" != wire ] && [ ! -x "$COREDNS" ]; then
	tmp=$(mktemp -d)
	GOBIN=$tmp go install github.com/coredns/coredns@$COREDNS_VERSION
	mv "$tmp/coredns" "$COREDNS"
fi
go build -o "$OUT/gslbd" ./cmd/gslbd

# --- data --------------------------------------------------------------
# Static zone (same records for every server).
{
	echo '$ORIGIN static.bench.test.'
	echo '@ 3600 IN SOA ns1.static.bench.test. hostmaster.static.bench.test. 1 3600 3 3600 5'
	echo '@ 3600 IN NS ns1.static.bench.test.'
	echo 'ns1 3600 IN A 127.0.0.1'
	for i in $(seq 1 $N); do echo "h$i 3600 IN A 192.0.2.$((i % 250 + 1))"; done
} > "$OUT/static.zone"
# gslbd: the same static zone plus N GSLB domains (round robin over two
# services, both answered as UP: -healthMonitor NO, so that no probe of
# these unreachable addresses takes one out mid-run) in gslb.bench.test.
gslb_domains() { # ADNS port -> the sites, the two services and the N round-robin domains
	echo "add service adns 127.0.0.1 ADNS $1"
	echo 'add gslb site dc1 127.0.0.1'
	echo 'add gslb site dc2 REMOTE 127.0.0.2'
	echo 'add gslb service a1 192.0.2.10 HTTP 80 -siteName dc1 -healthMonitor NO'
	echo 'add gslb service a2 198.51.100.10 HTTP 80 -siteName dc2 -healthMonitor NO'
	for i in $(seq 1 $N); do
		echo "add gslb vserver gv$i HTTP -lbMethod ROUNDROBIN"
		echo "bind gslb vserver gv$i -serviceName a1"
		echo "bind gslb vserver gv$i -serviceName a2"
		echo "bind gslb vserver gv$i -domainName g$i.gslb.bench.test -TTL 5"
	done
}
{
	gslb_domains 5301
	# Client-dependent workloads (issue 13): static proximity over the
	# 1,000,000-range location file below, RTT (the resolver, dnsperf on
	# 127.0.0.1, measured by dc1's ldns-tcp probe: a RST from port 53), and
	# source-IP hash deciding on an ECS subnet.
	for i in $(seq 1 $N); do
		for v in "sp STATICPROXIMITY" "rt RTT" "ec SOURCEIPHASH -ECS ENABLED"; do
			set -- $v; p=$1; shift
			echo "add gslb vserver $p$i HTTP -lbMethod $* -backupLBMethod ROUNDROBIN"
			echo "bind gslb vserver $p$i -serviceName a1"
			echo "bind gslb vserver $p$i -serviceName a2"
			echo "bind gslb vserver $p$i -domainName $p$i.gslb.bench.test -TTL 5"
		done
	done
	# A DNS view (split horizon): two policies, the second matching dnsperf
	# (127.0.0.1), over their own services with view addresses, so that
	# the other workloads evaluate no view.
	echo 'add gslb service v1 192.0.2.20 HTTP 80 -siteName dc1 -healthMonitor NO'
	echo 'add gslb service v2 198.51.100.20 HTTP 80 -siteName dc2 -healthMonitor NO'
	for i in $(seq 1 $N); do
		echo "add gslb vserver vw$i HTTP -lbMethod ROUNDROBIN"
		echo "bind gslb vserver vw$i -serviceName v1"
		echo "bind gslb vserver vw$i -serviceName v2"
		echo "bind gslb vserver vw$i -domainName vw$i.gslb.bench.test -TTL 5"
	done
	echo 'add dns view lab'
	echo 'add dns view inside'
	echo 'add dns policy p_lab "CLIENT.IP.DST.EQ(127.0.0.9) || DNS.REQ.QUESTION.DOMAIN.STARTSWITH(\"lab.\")" -viewName lab'
	echo 'add dns policy p_inside "CLIENT.IP.SRC.IN_SUBNET(127.0.0.0/8)" -viewName inside'
	echo 'bind dns global p_lab 100 -gotoPriorityExpression END -type REQ_DEFAULT'
	echo 'bind dns global p_inside 200 -gotoPriorityExpression END -type REQ_DEFAULT'
	echo 'bind gslb service v1 -viewName inside 10.0.0.10'
	echo 'bind gslb service v2 -viewName inside 10.0.0.20'
	echo 'bind gslb service v1 -viewName lab 10.9.0.10'
	echo 'set gslb parameter -ldnsProbeOrder TCP'
	echo 'add dns soaRec gslb.bench.test -originServer ns1.gslb.bench.test -contact hostmaster.gslb.bench.test'
	echo 'add dns nsRec gslb.bench.test ns1.gslb.bench.test'
	echo 'add dns addRec ns1.gslb.bench.test 127.0.0.1'
	echo 'add dns soaRec static.bench.test -originServer ns1.static.bench.test -contact hostmaster.static.bench.test -serial 1 -minimum 5'
	echo 'add dns nsRec static.bench.test ns1.static.bench.test'
	echo 'add dns addRec ns1.static.bench.test 127.0.0.1'
	for i in $(seq 1 $N); do echo "add dns addRec h$i.static.bench.test 192.0.2.$((i % 250 + 1))"; done
} > "$OUT/gslbd.conf"
"$OUT/gslbd" check "$OUT/gslbd.conf"
# The location file: 1,000,000 /24 ranges from 1.0.0.0, then the client
# (127/8) and the two services' networks.
python3 - "$OUT/geo.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("NSGEO1.0\nStart\n")
    for i in range(1000000):
        a = (1 << 24) + i * 256
        b = "%d.%d.%d." % (a >> 24, a >> 16 & 255, a >> 8 & 255)
        f.write("%s0,%s255,NA,US,R%d,C%d,,,-100.5,40.25\n" % (b, b, i % 60, i % 100000))
    f.write("127.0.0.0,127.255.255.255,NA,US,Colorado\n192.0.2.0,192.0.2.255,NA,US,Colorado\n198.51.100.0,198.51.100.255,EU,DE\n")
PY
# PowerDNS: N Lua ifportup records over two loopback listeners we start.
{
	echo '$ORIGIN lua.bench.test.'
	echo '@ 3600 IN SOA ns1.lua.bench.test. hostmaster.lua.bench.test. 1 3600 3 3600 5'
	echo '@ 3600 IN NS ns1.lua.bench.test.'
	echo 'ns1 3600 IN A 127.0.0.1'
	for i in $(seq 1 $N); do echo "g$i 5 IN LUA A \"ifportup(18080, {'127.0.0.1', '127.0.0.2'})\""; done
} > "$OUT/lua.zone"
for i in $(seq 1 $N); do echo "g$i.gslb.bench.test A"; done | shuf --random-source=<(yes) > "$OUT/q-gslb"
for i in $(seq 1 $N); do echo "h$i.static.bench.test A"; done | shuf --random-source=<(yes) > "$OUT/q-static"
for i in $(seq 1 $N); do echo "g$i.lua.bench.test A"; done | shuf --random-source=<(yes) > "$OUT/q-lua"
for p in sp rt ec vw; do
	for i in $(seq 1 $N); do echo "$p$i.gslb.bench.test A"; done | shuf --random-source=<(yes) > "$OUT/q-$p"
done

# --- servers -----------------------------------------------------------
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The wire run (below) starts its own gslbd, and needs only Knot beside it.
SPECS="5303:h1.static.bench.test"
if [ "$MODE" != wire ]; then
taskset -c 0 "$OUT/gslbd" run -config "$OUT/gslbd.conf" -location-file "$OUT/geo.csv" -log-level warn > "$OUT/gslbd.log" 2>&1 &
PID_GSLBD=$!; PIDS+=($PID_GSLBD)
SPECS="$SPECS 5301:g1.gslb.bench.test 5302:h1.static.bench.test 5304:g1.lua.bench.test"

cat > "$OUT/Corefile" <<CF
static.bench.test:5302 {
	bind 127.0.0.1
	file $OUT/static.zone
}
CF
(cd "$OUT" && exec taskset -c 0 "$COREDNS" -conf "$OUT/Corefile" -quiet > "$OUT/coredns.log" 2>&1) &
PID_COREDNS=$!; PIDS+=($PID_COREDNS)
fi

mkdir -p "$OUT/knot"
cat > "$OUT/knot.conf" <<KC
server:
    rundir: "$OUT/knot"
    listen: 127.0.0.1@5303
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$OUT/knot"
log:
  - target: stderr
    any: warning
zone:
  - domain: static.bench.test
    file: "$OUT/static.zone"
    zonefile-sync: -1
    journal-content: none
KC
taskset -c 0 knotd -c "$OUT/knot.conf" > "$OUT/knot.log" 2>&1 &
PID_KNOT=$!; PIDS+=($PID_KNOT)

if [ "$MODE" != wire ]; then
python3 -m http.server --bind 127.0.0.1 18080 >/dev/null 2>&1 & PIDS+=($!)
python3 -m http.server --bind 127.0.0.2 18080 >/dev/null 2>&1 & PIDS+=($!)
cat > "$OUT/named.conf" <<NC
zone "lua.bench.test" { type master; file "$OUT/lua.zone"; };
NC
taskset -c 0 pdns_server --no-config --daemon=no --guardian=no --launch=bind --bind-config="$OUT/named.conf" \
	--local-address=127.0.0.1 --local-port=5304 --enable-lua-records=shared --lua-health-checks-interval=1 \
	--socket-dir="$OUT" --loglevel=3 --disable-syslog > "$OUT/pdns.log" 2>&1 &
PID_PDNS=$!; PIDS+=($PID_PDNS)
fi

# Wait until every server answers (and PowerDNS's health checks have run).
ready() { dig +tries=1 +time=1 @127.0.0.1 -p "$1" "$2" A +short 2>/dev/null | grep -q .; }
for spec in $SPECS; do
	set -- ${spec/:/ }
	for _ in $(seq 1 100); do ready "$1" "$2" && break; sleep 0.2; done
	ready "$1" "$2" || { echo "server on port $1 does not answer $2"; cat "$OUT"/*.log; exit 1; }
done
sleep 3

# --- measurement -------------------------------------------------------
perf() { # port queryfile extra-args... -> prints dnsperf output
	local port=$1 q=$2; shift 2
	taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$q" -l "$DUR" -t 2 "${EXTRA[@]}" "$@" 2>&1
}
# Peak and CPU runs use 10 client sockets and 300 outstanding queries.
# The latency run uses one socket and 64 outstanding: with ten sockets,
# dnsperf's own polling on its single core adds a millisecond tail to
# every server alike (measured at one fixed rate against the same server:
# p99 1.27 ms with -c 10 -q 300, 0.33-0.39 ms with -c 1..4 -q 32..64).
LOAD=(-c 10 -q 300)
LATENCY=(-c 1 -q 64)
field() { grep -E "$1" | head -1 | awk '{print $'"$2"'}'; }
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

results=()
EXTRA=() # more dnsperf arguments for the next runs
run() { # name port queryfile pid
	local name=$1 port=$2 q=$3 pid=$4
	local out peak lost cpu0 cpu1 cpu half p99 avg
	out=$(perf "$port" "$q" "${LOAD[@]}"); echo "$out" > "$OUT/$name-peak.txt"
	peak=$(echo "$out" | field 'Queries per second' 4); lost=$(echo "$out" | field 'Queries lost' 3)
	cpu0=$(cputicks "$pid")
	out=$(perf "$port" "$q" "${LOAD[@]}" -Q 10000); echo "$out" > "$OUT/$name-10k.txt"
	cpu1=$(cputicks "$pid")
	cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$HZ" -v d="$DUR" 'BEGIN{printf "%.1f", (b-a)/hz/d*100}')
	half=$(awk -v p="$peak" 'BEGIN{printf "%d", p/2}')
	perf "$port" "$q" "${LATENCY[@]}" -Q "$half" -v > "$OUT/$name-half.txt"
	p99=$(grep -E '^> ' "$OUT/$name-half.txt" | awk '{print $NF}' | sort -g | awk '{a[NR]=$1} END{printf "%.3f", a[int(NR*0.99)]*1000}')
	avg=$(grep -E '^> ' "$OUT/$name-half.txt" | awk '{s+=$NF} END{printf "%.3f", s/NR*1000}')
	results+=("| $name | $peak | $lost | $cpu | $half | $avg | $p99 |")
	echo "$name: peak $peak qps (lost $lost), CPU at 10k qps ${cpu}%, at $half qps avg ${avg} ms p99 ${p99} ms"
}
if [ "$MODE" = wire ]; then
	# Static answers at wire speed (issue 15): at a fixed rate (RATE,
	# default 50,000 QPS, where batching works), the server CPU of gslbd
	# for static and for GSLB answers next to Knot's for the same static
	# zone, in ROUNDS alternated rounds (default 3), and the RSS of each
	# with the 1,000-domain configuration (no location file: a gslbd of
	# only what Knot also serves, plus the GSLB domains).
	RATE=${RATE:-50000}
	ROUNDS=${ROUNDS:-3}
	{
		gslb_domains 5308
		echo 'add dns soaRec gslb.bench.test -originServer ns1.static.bench.test -contact hostmaster.static.bench.test -serial 1 -minimum 5'
		echo 'add dns soaRec static.bench.test -originServer ns1.static.bench.test -contact hostmaster.static.bench.test -serial 1 -minimum 5'
		echo 'add dns nsRec static.bench.test ns1.static.bench.test'
		echo 'add dns addRec ns1.static.bench.test 127.0.0.1'
		for i in $(seq 1 $N); do echo "add dns addRec h$i.static.bench.test 192.0.2.$((i % 250 + 1))"; done
	} > "$OUT/wire.conf"
	taskset -c 0 "$OUT/gslbd" run -config "$OUT/wire.conf" -log-level warn -api "" -mep-port 3049 -mep-plain-port 3051 > "$OUT/gslbd-wire.log" 2>&1 &
	PID_W=$!; PIDS+=($PID_W)
	for _ in $(seq 1 100); do ready 5308 h1.static.bench.test && break; sleep 0.2; done
	ready 5308 g1.gslb.bench.test || { echo "the wire gslbd does not answer"; cat "$OUT/gslbd-wire.log"; exit 1; }
	sleep 2
	cpuAt() { # name port queryfile pid -> "cpu lost"
		local c0 c1
		c0=$(cputicks "$4")
		perf "$2" "$3" "${LOAD[@]}" -Q "$RATE" > "$OUT/wire-$1.txt"
		c1=$(cputicks "$4")
		echo "$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v d="$DUR" 'BEGIN{printf "%.1f", (b-a)/hz/d*100}') $(field 'Queries lost' 3 < "$OUT/wire-$1.txt") $(field 'Queries per second' 4 < "$OUT/wire-$1.txt")"
	}
	rss() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
	rows=()
	sums=(0 0 0)
	for round in $(seq 1 "$ROUNDS"); do
		read -r gs gsl gsq <<<"$(cpuAt static 5308 "$OUT/q-static" $PID_W)"
		read -r gg ggl ggq <<<"$(cpuAt gslb 5308 "$OUT/q-gslb" $PID_W)"
		read -r ks ksl ksq <<<"$(cpuAt knot 5303 "$OUT/q-static" $PID_KNOT)"
		rows+=("| $round | $gs ($gsl lost, $gsq QPS) | $gg ($ggl lost, $ggq QPS) | $ks ($ksl lost, $ksq QPS) |")
		sums=($(awk -v a="${sums[0]}" -v b="${sums[1]}" -v c="${sums[2]}" -v x="$gs" -v y="$gg" -v z="$ks" 'BEGIN{print a+x, b+y, c+z}'))
	done
	mean() { awk -v s="$1" -v n="$ROUNDS" 'BEGIN{printf "%.1f", s/n}'; }
	rows+=("| mean | $(mean "${sums[0]}") | $(mean "${sums[1]}") | $(mean "${sums[2]}") |")
	{
		echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
		echo "Command: ROUNDS=$ROUNDS RATE=$RATE bash bench/dns.sh $DUR wire   (dnsperf ${LOAD[*]} -Q $RATE for ${DUR}s per run; servers on core 0, dnsperf on core 1)"
		echo
		echo "Server CPU, % of one core at $RATE QPS:"
		echo
		echo "| round | gslbd static (1,000 names) | gslbd GSLB (1,000 domains) | Knot $(knotd --version | awk '{print $NF}') static (1,000 names) |"
		echo "|---|---|---|---|"
		printf '%s\n' "${rows[@]}"
		echo
		echo "RSS after the runs: gslbd $(rss $PID_W) MiB (1,000 static names and 1,000 GSLB domains), Knot $(rss $PID_KNOT) MiB (the 1,000 static names)."
	} > "$OUT/results.md"
	cat "$OUT/results.md"
	exit 0
fi
if [ "$MODE" = observe ]; then
	# The same gslbd four times: as above (metrics and dnstap off),
	# scraped every $SCRAPE s, logging every query to fstrm_capture
	# (which runs on dnsperf's core), and both. Measured in turn, ROUNDS times (default 5).
	SCRAPE=${SCRAPE:-15}
	# The collector writes to /dev/null: on this 2-core machine it shares
	# dnsperf's core, and 13 MB/s of page cache would slow dnsperf's
	# sending and so change gslbd's batches (TestDNSTapWithDebianTools
	# reads a real capture file back).
	taskset -c 1 fstrm_capture -t protobuf:dnstap.Dnstap -u "$OUT/tap.sock" -w /dev/null > "$OUT/fstrm.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 50); do [ -S "$OUT/tap.sock" ] && break; sleep 0.1; done
	obs() { # port mep-port extra-args... -> starts a gslbd, sets OBSPID
		local port=$1 mep=$2; shift 2
		taskset -c 0 "$OUT/gslbd" run -config "$OUT/gslbd.conf" -location-file "$OUT/geo.csv" -log-level warn -listen 127.0.0.1:$port \
			-api "" -mep-port $mep -mep-plain-port $((mep + 2)) "$@" > "$OUT/gslbd-$port.log" 2>&1 &
		OBSPID=$!; PIDS+=($OBSPID)
		for _ in $(seq 1 100); do ready "$port" g1.gslb.bench.test && break; sleep 0.2; done
	}
	obs 5305 3019 -metrics 127.0.0.1:9154; PID_M=$OBSPID
	obs 5306 3029 -dnstap "unix:$OUT/tap.sock"; PID_T=$OBSPID
	obs 5307 3039 -metrics 127.0.0.1:9155 -dnstap "unix:$OUT/tap.sock"; PID_B=$OBSPID
	for mp in 9154 9155; do
		(while sleep "$SCRAPE"; do curl -s -o /dev/null http://127.0.0.1:$mp/metrics; done) & PIDS+=($!)
	done
	sleep 3
	cpu10k() { # port pid -> CPU % of one core at 10,000 QPS
		local c0 c1
		c0=$(cputicks "$2")
		perf "$1" "$OUT/q-gslb" "${LOAD[@]}" -Q 10000 > "$OUT/obs-$1.txt"
		c1=$(cputicks "$2")
		awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v d="$DUR" 'BEGIN{printf "%.1f", (b-a)/hz/d*100}'
	}
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b/a}'; }
	lost() { field 'Queries lost' 3 < "$OUT/obs-$1.txt"; }
	rows=()
	ROUNDS=${ROUNDS:-5}
	sums=(0 0 0 0)
	for round in $(seq 1 "$ROUNDS"); do
		off=$(cpu10k 5301 $PID_GSLBD); lo=$(lost 5301)
		m=$(cpu10k 5305 $PID_M); lm=$(lost 5305)
		tp=$(cpu10k 5306 $PID_T); lt=$(lost 5306)
		b=$(cpu10k 5307 $PID_B); lb=$(lost 5307)
		rows+=("| $round | $off ($lo) | $m ($lm) | $tp ($lt) | $b ($lb) | $(ratio "$off" "$b") |")
		sums=($(awk -v a="${sums[0]}" -v b="${sums[1]}" -v c="${sums[2]}" -v d="${sums[3]}" -v w="$off" -v x="$m" -v y="$tp" -v z="$b" 'BEGIN{print a+w, b+x, c+y, d+z}'))
	done
	mean() { awk -v s="$1" -v n="$ROUNDS" 'BEGIN{printf "%.1f", s/n}'; }
	rows+=("| mean | $(mean "${sums[0]}") | $(mean "${sums[1]}") | $(mean "${sums[2]}") | $(mean "${sums[3]}") | $(ratio "$(mean "${sums[0]}")" "$(mean "${sums[3]}")") |")
	scrape=$(curl -s -w '%{size_download} bytes in %{time_total} s' -o /dev/null http://127.0.0.1:9155/metrics)
	m=$(curl -s http://127.0.0.1:9155/metrics)
	frames=$(echo "$m" | awk '/^gslbd_dnstap_frames_total\{result="written"\}/{print $2}')
	dropped=$(echo "$m" | awk '/^gslbd_dnstap_frames_total\{result="dropped"\}/{print $2}')
	{
		echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
		echo "Command: SCRAPE=$SCRAPE bash bench/dns.sh $DUR observe   (GSLB answers, 1,000 domains, dnsperf ${LOAD[*]} -Q 10000 for ${DUR}s; each gslbd on core 0, in turn; dnsperf, fstrm_capture and the scrapers on core 1)"
		echo
		echo "gslbd's CPU, % of one core at 10,000 QPS (queries lost):"
		echo
		echo "| round | off | metrics scraped every ${SCRAPE} s | dnstap | both | both / off |"
		echo "|---|---|---|---|---|---|"
		printf '%s\n' "${rows[@]}"
		echo
		echo "One scrape: $scrape. dnstap frames written by the 'both' process $frames, dropped $dropped."
	} > "$OUT/results.md"
	cat "$OUT/results.md"
	exit 0
fi
run "gslbd GSLB (1,000 domains)" 5301 "$OUT/q-gslb" $PID_GSLBD
run "gslbd static" 5301 "$OUT/q-static" $PID_GSLBD
run "gslbd STATICPROXIMITY (1M-range location file)" 5301 "$OUT/q-sp" $PID_GSLBD
# RTT decides only once dc1 measured the resolver: then every answer is
# dc1's service (dc2 has no figure), never the round robin's.
rtt=$(for _ in 1 2 3 4; do dig +short @127.0.0.1 -p 5301 rt1.gslb.bench.test A; done | sort -u)
[ "$rtt" = 192.0.2.10 ] || { echo "RTT vservers are not answering by RTT: $rtt"; exit 1; }
run "gslbd RTT (resolver measured)" 5301 "$OUT/q-rt" $PID_GSLBD
# ECS option 8: family 1, source /24, scope 0, 203.0.113.
EXTRA=(-E 8:00011800cb0071)
run "gslbd SOURCEIPHASH on an ECS subnet" 5301 "$OUT/q-ec" $PID_GSLBD
EXTRA=()
view=$(for _ in 1 2 3 4; do dig +short @127.0.0.1 -p 5301 vw1.gslb.bench.test A; done | sort -u | tr '\n' ' ')
[ "$view" = "10.0.0.10 10.0.0.20 " ] || { echo "the view vservers are not answering in the view: $view"; exit 1; }
run "gslbd DNS view (two policies)" 5301 "$OUT/q-vw" $PID_GSLBD
run "CoreDNS $COREDNS_VERSION static" 5302 "$OUT/q-static" $PID_COREDNS
run "Knot $(knotd --version | awk '{print $NF}') static" 5303 "$OUT/q-static" $PID_KNOT
run "PowerDNS $(pdns_server --version 2>&1 | grep -o 'Server [0-9.]*' | awk '{print $2}') Lua ifportup (shared)" 5304 "$OUT/q-lua" $PID_PDNS

{
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
	echo "Command: bash bench/dns.sh $DUR   (dnsperf $(dnsperf -h 2>&1 | grep -o 'Version [0-9.]*' | awk '{print $2}'); peak and CPU runs ${LOAD[*]}, latency run ${LATENCY[*]} at half of that server's peak; ${DUR}s per run; servers on core 0, dnsperf on core 1)"
	echo
	echo "| server | peak QPS | lost at peak | server CPU % of one core at 10,000 QPS | half-peak QPS | avg latency ms | p99 latency ms |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${results[@]}"
} > "$OUT/results.md"
cat "$OUT/results.md"
