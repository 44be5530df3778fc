package e2e

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/gslb"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

const methodsConf = `
add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb site s2 REMOTE 127.0.0.2
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s2
add gslb service a3 192.0.2.3 HTTP 80 -siteName s1 -hashId 3
add gslb vserver gv_rr HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_w HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_lc HTTP
add gslb vserver gv_lrt HTTP -lbMethod LEASTRESPONSETIME
add gslb vserver gv_lbw HTTP -lbMethod LEASTBANDWIDTH
add gslb vserver gv_lp HTTP -lbMethod LEASTPACKETS
add gslb vserver gv_cl HTTP -lbMethod CUSTOMLOAD
add gslb vserver gv_hash HTTP -lbMethod SOURCEIPHASH
add gslb vserver gv_hash24 HTTP -lbMethod SOURCEIPHASH -netmask 255.255.255.0
add gslb vserver gv_bm HTTP -lbMethod LEASTCONNECTION -backupLBMethod SOURCEIPHASH
add gslb vserver gv_sp HTTP -lbMethod STATICPROXIMITY
add gslb vserver gv_persist HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 5
add gslb vserver gv_mir HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb vserver gv_lcw HTTP -lbMethod LEASTCONNECTION
`

// bindAll binds a1..a3 to every vserver (weights for gv_w and gv_lcw).
func bindAll() string {
	s := methodsConf
	for _, vs := range []string{"rr", "w", "lc", "lrt", "lbw", "lp", "cl", "hash", "hash24", "bm", "sp", "persist", "mir", "lcw"} {
		for i, svc := range []string{"a1", "a2", "a3"} {
			w := ""
			if vs == "w" {
				w = fmt.Sprintf(" -weight %d", []int{20, 60, 20}[i])
			}
			if vs == "lcw" {
				w = fmt.Sprintf(" -weight %d", []int{10, 10, 40}[i])
			}
			s += fmt.Sprintf("bind gslb vserver gv_%s -serviceName %s%s\n", vs, svc, w)
		}
		s += fmt.Sprintf("bind gslb vserver gv_%s -domainName %s.test -TTL 5\n", vs, vs)
	}
	return s
}

// first returns the first answer address of a query.
func first(t *testing.T, d *daemon.Daemon, proto dnstest.Proto, name string) string {
	t.Helper()
	r := dnstest.Exchange(t, proto, addr(d, string(proto)), dnstest.Msg(name, dns.TypeA))
	if len(r.Answer) == 0 {
		t.Fatalf("%s: no answer (rcode %d)", name, r.Rcode)
	}
	return r.Answer[0].(*dns.A).A.String()
}

func count(t *testing.T, d *daemon.Daemon, proto dnstest.Proto, name string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		got[first(t, d, proto, name)]++
	}
	return got
}

func metrics(d *daemon.Daemon, svc string, k health.Metric, v uint64, extra ...func(health.Metrics) health.Metrics) {
	m := health.Metrics{At: time.Now()}.With(k, v)
	for _, f := range extra {
		m = f(m)
	}
	d.Engine().Report(health.Report{Service: svc, Metrics: &m, Source: "test"})
	d.Engine().Flush() // metric-only reports are applied within MetricRefresh; the test wants them now
}

func status(t *testing.T, d *daemon.Daemon, vs string) gslb.VServerStatus {
	t.Helper()
	for _, s := range d.Engine().Status() {
		if s.Name == vs {
			return s
		}
	}
	t.Fatalf("no vserver %q", vs)
	return gslb.VServerStatus{}
}

func TestRoundRobinEven(t *testing.T) {
	d := start(t, bindAll())
	for _, proto := range dnstest.Protos {
		got := count(t, d, proto, "rr.test", 1200)
		if len(got) != 3 {
			t.Fatalf("%s: got %v, want 3 services", proto, got)
		}
		lo, hi := 1<<30, 0
		for _, n := range got {
			lo, hi = min(lo, n), max(hi, n)
		}
		if hi-lo > 1 {
			t.Errorf("%s: round robin spread %v: max-min = %d, want <= 1", proto, got, hi-lo)
		}
	}
}

func TestWeightedRoundRobin(t *testing.T) {
	d := start(t, bindAll())
	const n = 2000
	got := count(t, d, dnstest.UDP, "w.test", n)
	want := map[string]float64{"192.0.2.1": 0.2, "192.0.2.2": 0.6, "192.0.2.3": 0.2}
	for ip, share := range want {
		if diff := math.Abs(float64(got[ip])/n - share); diff > 0.05*share {
			t.Errorf("%s: got %d of %d (%.3f), want %.2f within 5%%", ip, got[ip], n, float64(got[ip])/n, share)
		}
	}
}

func TestMetricMethods(t *testing.T) {
	cases := []struct {
		domain string
		vs     string
		metric health.Metric
		values [3]uint64 // a1, a2, a3
		want   string
	}{
		{"lc.test", "gv_lc", health.Connections, [3]uint64{10, 2, 5}, "192.0.2.2"},
		{"lc.test", "gv_lc", health.Connections, [3]uint64{10, 20, 5}, "192.0.2.3"},
		{"lbw.test", "gv_lbw", health.Bandwidth, [3]uint64{100, 500, 40}, "192.0.2.3"},
		{"lp.test", "gv_lp", health.Packets, [3]uint64{7, 900, 8}, "192.0.2.1"},
		{"cl.test", "gv_cl", health.Load, [3]uint64{50, 20, 80}, "192.0.2.2"},
		// weights 10/10/40: a3 with 30 connections scores 30/40, below 10/10.
		{"lcw.test", "gv_lcw", health.Connections, [3]uint64{10, 12, 30}, "192.0.2.3"},
	}
	d := start(t, bindAll())
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%v", tc.vs, tc.values), func(t *testing.T) {
			for i, svc := range []string{"a1", "a2", "a3"} {
				metrics(d, svc, tc.metric, tc.values[i])
			}
			for _, proto := range dnstest.Protos {
				for range 20 {
					if got := first(t, d, proto, tc.domain); got != tc.want {
						t.Fatalf("%s: got %s, want %s", proto, got, tc.want)
					}
				}
			}
			if s := status(t, d, tc.vs); s.LBRRReason != 0 || s.Method != string(must(t, d, tc.vs)) {
				t.Fatalf("status: got %+v, want no round-robin reason", s)
			}
		})
	}
}

func must(t *testing.T, d *daemon.Daemon, vs string) string {
	for _, v := range d.Current().Snapshot.VServers {
		if v.Name == vs {
			return string(v.Method)
		}
	}
	t.Fatalf("no vserver %s", vs)
	return ""
}

func TestLeastResponseTime(t *testing.T) {
	d := start(t, bindAll())
	rt := func(ms int64) func(health.Metrics) health.Metrics {
		return func(m health.Metrics) health.Metrics {
			return m.With(health.ResponseTime, uint64(ms)*uint64(time.Millisecond))
		}
	}
	// (connections+1) x response time: a1 3x10=30, a2 1x50=50, a3 11x2=22.
	metrics(d, "a1", health.Connections, 2, rt(10))
	metrics(d, "a2", health.Connections, 0, rt(50))
	metrics(d, "a3", health.Connections, 10, rt(2))
	if got := first(t, d, dnstest.UDP, "lrt.test"); got != "192.0.2.3" {
		t.Fatalf("got %s, want 192.0.2.3", got)
	}
	metrics(d, "a3", health.Connections, 40, rt(2)) // 41x2 = 82
	if got := first(t, d, dnstest.UDP, "lrt.test"); got != "192.0.2.1" {
		t.Fatalf("got %s, want 192.0.2.1", got)
	}
}

func TestMetricFallbackToRoundRobin(t *testing.T) {
	d := start(t, bindAll())
	metrics(d, "a1", health.Connections, 1)
	metrics(d, "a2", health.Connections, 9)
	// a3 has no metric: LEASTCONNECTION cannot decide and round-robins.
	got := count(t, d, dnstest.UDP, "lc.test", 300)
	if len(got) != 3 || got["192.0.2.1"] != 100 {
		t.Fatalf("got %v, want an even round robin over 3", got)
	}
	s := status(t, d, "gv_lc")
	if s.LBRRReason != 12 || s.Method != "ROUNDROBIN" || s.LBRRReasonText != `no fresh connections metric for service "a3"` {
		t.Fatalf("status: got %+v, want lbrrreason 12 naming a3", s)
	}
	// With -backupLBMethod SOURCEIPHASH the backup method decides instead.
	s = status(t, d, "gv_bm")
	if s.Method != "SOURCEIPHASH" || s.LBRRReason != 12 {
		t.Fatalf("backup method status: got %+v", s)
	}
	// STATICPROXIMITY has no location data yet: round robin, reason 12.
	if s := status(t, d, "gv_sp"); s.Method != "ROUNDROBIN" || s.LBRRReason != 12 {
		t.Fatalf("static proximity status: got %+v", s)
	}
	// Fresh metrics for a3 restore the method.
	metrics(d, "a3", health.Connections, 0)
	if got := first(t, d, dnstest.UDP, "lc.test"); got != "192.0.2.3" {
		t.Fatalf("after a3 reports: got %s, want 192.0.2.3", got)
	}
}

func TestStaleMetricsFallBack(t *testing.T) {
	conf := bindAll()
	d, err := daemon.Start(daemon.Options{ConfigText: []byte(conf), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	old := time.Now().Add(-time.Hour)
	for _, svc := range []string{"a1", "a2", "a3"} {
		m := health.Metrics{At: old}.With(health.Connections, 1)
		d.Engine().Report(health.Report{Service: svc, Metrics: &m})
	}
	d.Engine().Flush()
	if s := status(t, d, "gv_lc"); s.LBRRReason != 12 {
		t.Fatalf("an hour-old metric: got %+v, want fallback (reason 12)", s)
	}
}

func TestSourceIPHash(t *testing.T) {
	conf := bindAll()
	clients := []string{}
	for i := 1; i <= 40; i++ {
		clients = append(clients, fmt.Sprintf("127.0.%d.%d", i%7+1, i*5))
	}
	mapping := func(d *daemon.Daemon, name string) map[string]string {
		m := map[string]string{}
		for _, c := range clients {
			r := dnstest.ExchangeFrom(t, c, d.UDPAddr(), dnstest.Msg(name, dns.TypeA))
			m[c] = r.Answer[0].(*dns.A).A.String()
		}
		return m
	}
	site1 := start(t, conf)
	site2 := start(t, conf) // a second site with the same configuration
	m1 := mapping(site1, "hash.test")
	m2 := mapping(site2, "hash.test")
	again := mapping(site1, "hash.test")
	used := map[string]bool{}
	for _, c := range clients {
		if m1[c] != m2[c] || m1[c] != again[c] {
			t.Errorf("client %s: site1 %s, site2 %s, again %s; want the same service", c, m1[c], m2[c], again[c])
		}
		used[m1[c]] = true
	}
	if len(used) != 3 {
		t.Errorf("40 clients used %d services, want all 3", len(used))
	}
	// Across a restart.
	site1.Close()
	restarted := start(t, conf)
	m3 := mapping(restarted, "hash.test")
	for _, c := range clients {
		if m3[c] != m1[c] {
			t.Errorf("client %s after restart: got %s, want %s", c, m3[c], m1[c])
		}
	}
	// Across processes and releases: the two sites above share this
	// process, so a hash seeded per process would pass them. The mapping
	// is fixed: every site, every restart, every gslbd version sends these
	// clients to these services (testdata/sourceiphash.golden; change it
	// only with a note that sites must all be upgraded at once).
	var b strings.Builder
	for _, c := range clients {
		fmt.Fprintf(&b, "%s %s\n", c, m1[c])
	}
	const golden = "testdata/sourceiphash.golden"
	if *update {
		os.WriteFile(golden, []byte(b.String()), 0o644)
	}
	if want, err := os.ReadFile(golden); err != nil || string(want) != b.String() {
		t.Errorf("mapping differs from %s (%v):\n%s", golden, err, b.String())
	}
	// -netmask 255.255.255.0: every client of one /24 gets the same service.
	m24 := mapping(restarted, "hash24.test")
	by24 := map[string]string{}
	for _, c := range clients {
		n := c[:len(c)-len(lastOctet(c))]
		if prev, ok := by24[n]; ok && prev != m24[c] {
			t.Errorf("/24 %s: clients answered %s and %s", n, prev, m24[c])
		}
		by24[n] = m24[c]
	}
	// When a service goes down only its clients move.
	restarted.Engine().Report(health.Report{Service: "a2", State: health.Down})
	m4 := mapping(restarted, "hash.test")
	for _, c := range clients {
		if m1[c] != "192.0.2.2" && m4[c] != m1[c] {
			t.Errorf("client %s moved from %s to %s though its service stayed up", c, m1[c], m4[c])
		}
		if m4[c] == "192.0.2.2" {
			t.Errorf("client %s still sent to the DOWN service", c)
		}
	}
}

func lastOctet(ip string) string {
	for i := len(ip) - 1; i >= 0; i-- {
		if ip[i] == '.' {
			return ip[i+1:]
		}
	}
	return ip
}

func TestSourceIPPersistence(t *testing.T) {
	d := start(t, bindAll())
	first := dnstest.ExchangeFrom(t, "127.0.0.5", d.UDPAddr(), dnstest.Msg("persist.test", dns.TypeA)).Answer[0].(*dns.A).A.String()
	for range 30 {
		got := dnstest.ExchangeFrom(t, "127.0.0.5", d.UDPAddr(), dnstest.Msg("persist.test", dns.TypeA)).Answer[0].(*dns.A).A.String()
		if got != first {
			t.Fatalf("persistent client: got %s, want %s", got, first)
		}
	}
	// Other clients still rotate.
	seen := map[string]bool{}
	for i := 10; i < 20; i++ {
		r := dnstest.ExchangeFrom(t, fmt.Sprintf("127.0.0.%d", i), d.UDPAddr(), dnstest.Msg("persist.test", dns.TypeA))
		seen[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("ten new clients all got %v", seen)
	}
	// The persisted service goes down: the client moves.
	svc := map[string]string{"192.0.2.1": "a1", "192.0.2.2": "a2", "192.0.2.3": "a3"}[first]
	d.Engine().Report(health.Report{Service: svc, State: health.Down})
	got := dnstest.ExchangeFrom(t, "127.0.0.5", d.UDPAddr(), dnstest.Msg("persist.test", dns.TypeA)).Answer[0].(*dns.A).A.String()
	if got == first {
		t.Fatalf("persisted to a DOWN service %s", got)
	}
}

func TestMIR(t *testing.T) {
	d := start(t, bindAll())
	firsts := map[string]bool{}
	for range 6 {
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("mir.test", dns.TypeA))
		if got := dnstest.Addrs(r); len(got) != 3 {
			t.Fatalf("MIR: got %v, want all 3 addresses", got)
		}
		firsts[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 3 {
		t.Fatalf("MIR order does not rotate: first addresses %v", firsts)
	}
	d.Engine().Report(health.Report{Service: "a1", State: health.Down})
	r := dnstest.Exchange(t, dnstest.TCP, d.TCPAddr(), dnstest.Msg("mir.test", dns.TypeA))
	if got := dnstest.Addrs(r); len(got) != 2 {
		t.Fatalf("MIR with a1 down: got %v, want 2 addresses", got)
	}
}
