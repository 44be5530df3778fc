package e2e

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/gslb"
	"github.com/gslbd/gslbd/internal/health"
)

// appServer is a real application behind a GSLB service: an HTTP server on
// its own loopback address that answers health probes (after a delay the
// test sets, for response-time methods) and serves its load as Prometheus
// gauges on /metrics, which the service's PROMETHEUS load source polls.
type appServer struct {
	t    *testing.T
	addr string
	srv  *http.Server

	mu                         sync.Mutex
	conns, bytes, pkts         float64
	delay                      time.Duration
	metricsBroken, healthFails bool
}

func newAppServer(t *testing.T, ip string) *appServer {
	a := &appServer{t: t}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	a.addr = l.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.metricsBroken {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "# TYPE app_connections gauge\napp_connections %g\n# TYPE app_bytes gauge\napp_bytes %g\n# TYPE app_packets gauge\napp_packets %g\n",
			a.conns, a.bytes, a.pkts)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		delay, fail := a.delay, a.healthFails
		a.mu.Unlock()
		time.Sleep(delay)
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	a.srv = &http.Server{Handler: mux}
	go a.srv.Serve(l)
	t.Cleanup(func() { a.srv.Close() })
	return a
}

func (a *appServer) IP() string   { return strings.Split(a.addr, ":")[0] }
func (a *appServer) Port() string { return strings.Split(a.addr, ":")[1] }

// load sets the figures /metrics reports: connections, bytes/s, packets/s.
func (a *appServer) load(conns, bytes, pkts float64) {
	a.mu.Lock()
	a.conns, a.bytes, a.pkts = conns, bytes, pkts
	a.mu.Unlock()
}

func (a *appServer) set(f func(a *appServer)) {
	a.mu.Lock()
	f(a)
	a.mu.Unlock()
}

// methods is a daemon with three services a1..a3 bound to one vserver per
// method, each service a real appServer probed by an HTTP monitor (LRTM:
// response times) with its load from a PROMETHEUS source every 100 ms.
type methods struct {
	d    *daemon.Daemon
	apps map[string]*appServer
	ip   map[string]string // address -> service
}

const methodsVServers = `add gslb vserver gv_rr HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_w HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_lc HTTP
add gslb vserver gv_lrt HTTP -lbMethod LEASTRESPONSETIME
add gslb vserver gv_lbw HTTP -lbMethod LEASTBANDWIDTH
add gslb vserver gv_lp HTTP -lbMethod LEASTPACKETS
add gslb vserver gv_hash HTTP -lbMethod SOURCEIPHASH
add gslb vserver gv_hash24 HTTP -lbMethod SOURCEIPHASH -netmask 255.255.255.0
add gslb vserver gv_bm HTTP -lbMethod LEASTCONNECTION -backupLBMethod SOURCEIPHASH
add gslb vserver gv_sp HTTP -lbMethod STATICPROXIMITY
add gslb vserver gv_persist HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 5
add gslb vserver gv_mir HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb vserver gv_lcw HTTP -lbMethod LEASTCONNECTION
`

// methodsConf is the configuration for the services at these addresses
// (service -> ip:port); a service in noLoad has no load source.
func methodsConf(at map[string]string, noLoad ...string) string {
	var b strings.Builder
	b.WriteString("add service adns 127.0.0.1 ADNS 53\nadd gslb site s1 127.0.0.1\nadd gslb site s2 REMOTE 127.0.0.2\n")
	b.WriteString("add lb monitor web HTTP -httpRequest \"GET /\" -LRTM ENABLED -interval 200 MSEC -resptimeout 180 MSEC -retries 1 -downTime 100 MSEC\n")
	for i, s := range []string{"a1", "a2", "a3"} {
		ip, port, _ := strings.Cut(at[s], ":")
		extra := ""
		if s == "a3" {
			extra = " -hashId 3"
		}
		if !contains(noLoad, s) {
			extra += fmt.Sprintf(` -loadSource PROMETHEUS -loadURL http://%s/metrics -loadFilter connections=app_connections bandwidth=app_bytes packets=app_packets -loadInterval 100 MSEC`, at[s])
		}
		fmt.Fprintf(&b, "add gslb service %s %s HTTP %s -siteName %s%s\n", s, ip, port, []string{"s1", "s2", "s1"}[i], extra)
		fmt.Fprintf(&b, "bind gslb service %s -monitorName web\n", s)
	}
	b.WriteString(methodsVServers)
	for _, vs := range []string{"rr", "w", "lc", "lrt", "lbw", "lp", "hash", "hash24", "bm", "sp", "persist", "mir", "lcw"} {
		for i, svc := range []string{"a1", "a2", "a3"} {
			w := ""
			if vs == "w" {
				w = fmt.Sprintf(" -weight %d", []int{20, 60, 20}[i])
			}
			if vs == "lcw" {
				w = fmt.Sprintf(" -weight %d", []int{10, 10, 40}[i])
			}
			fmt.Fprintf(&b, "bind gslb vserver gv_%s -serviceName %s%s\n", vs, svc, w)
		}
		fmt.Fprintf(&b, "bind gslb vserver gv_%s -domainName %s.test -TTL 5\n", vs, vs)
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// startMethods starts the apps and the daemon, and waits until every
// service is UP from its monitor.
func startMethods(t *testing.T, noLoad ...string) *methods {
	m := &methods{apps: map[string]*appServer{}, ip: map[string]string{}}
	at := map[string]string{}
	for i, s := range []string{"a1", "a2", "a3"} {
		a := newAppServer(t, fmt.Sprintf("127.0.2.%d", i+1))
		m.apps[s], at[s], m.ip[a.IP()] = a, a.addr, s
	}
	m.d = start(t, methodsConf(at, noLoad...))
	waitFor(t, "a1..a3 UP", 10*time.Second, func() bool {
		up := 0
		for _, s := range m.d.Engine().ServiceStatus() {
			if s.State == health.Up {
				up++
			}
		}
		return up == 3
	})
	return m
}

// seen waits until the engine holds metric k of every service as want
// (services without a value in want are not checked).
func (m *methods) seen(t *testing.T, k health.Metric, want map[string]uint64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%v reported", want), 10*time.Second, func() bool {
		n := 0
		for _, s := range m.d.Engine().ServiceStatus() {
			if v, ok := want[s.Name]; ok && s.Metrics.Present(k) && s.Metrics.Value(k) == v {
				n++
			}
		}
		return n == len(want)
	})
	m.d.Engine().Flush() // the answers use them now, not within MetricRefresh
}

// first returns the first answer of a query, as a service name.
func (m *methods) first(t *testing.T, proto dnstest.Proto, name string) string {
	t.Helper()
	r := dnstest.Exchange(t, proto, addr(m.d, string(proto)), dnstest.Msg(name, dns.TypeA))
	if len(r.Answer) == 0 {
		t.Fatalf("%s: no answer (rcode %d)", name, r.Rcode)
	}
	return m.ip[r.Answer[0].(*dns.A).A.String()]
}

func (m *methods) count(t *testing.T, proto dnstest.Proto, name string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		got[m.first(t, proto, name)]++
	}
	return got
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
	m := startMethods(t)
	for _, proto := range dnstest.Protos {
		got := m.count(t, proto, "rr.test", 1200)
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
	m := startMethods(t)
	const n = 2000
	got := m.count(t, dnstest.UDP, "w.test", n)
	want := map[string]float64{"a1": 0.2, "a2": 0.6, "a3": 0.2}
	for svc, share := range want {
		if diff := math.Abs(float64(got[svc])/n - share); diff > 0.05*share {
			t.Errorf("%s: got %d of %d (%.3f), want %.2f within 5%%", svc, got[svc], n, float64(got[svc])/n, share)
		}
	}
}

// TestMetricMethods: the least-load methods follow the load the services'
// own /metrics report (connections, bytes/s, packets/s), polled by their
// PROMETHEUS load sources.
func TestMetricMethods(t *testing.T) {
	cases := []struct {
		domain string
		vs     string
		metric health.Metric
		values [3]float64 // a1, a2, a3: connections, bytes/s or packets/s
		want   string
	}{
		{"lc.test", "gv_lc", health.Connections, [3]float64{10, 2, 5}, "a2"},
		{"lc.test", "gv_lc", health.Connections, [3]float64{10, 20, 5}, "a3"},
		{"lbw.test", "gv_lbw", health.Bandwidth, [3]float64{12500, 62500, 5000}, "a3"}, // 100, 500, 40 kbit/s
		{"lp.test", "gv_lp", health.Packets, [3]float64{7, 900, 8}, "a1"},
		// weights 10/10/40: a3 with 30 connections scores 30/40, below 10/10.
		{"lcw.test", "gv_lcw", health.Connections, [3]float64{10, 12, 30}, "a3"},
	}
	m := startMethods(t)
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%v", tc.vs, tc.values), func(t *testing.T) {
			want := map[string]uint64{}
			for i, svc := range []string{"a1", "a2", "a3"} {
				v := tc.values[i]
				switch tc.metric {
				case health.Connections:
					m.apps[svc].load(v, 0, 0)
					want[svc] = uint64(v)
				case health.Bandwidth:
					m.apps[svc].load(0, v, 0)
					want[svc] = uint64(v * 8 / 1000)
				case health.Packets:
					m.apps[svc].load(0, 0, v)
					want[svc] = uint64(v)
				}
			}
			m.seen(t, tc.metric, want)
			for _, proto := range dnstest.Protos {
				for range 20 {
					if got := m.first(t, proto, tc.domain); got != tc.want {
						t.Fatalf("%s: got %s, want %s", proto, got, tc.want)
					}
				}
			}
			if s := status(t, m.d, tc.vs); s.LBRRReason != 0 || s.Method != method(t, m.d, tc.vs) {
				t.Fatalf("status: got %+v, want no round-robin reason", s)
			}
		})
	}
}

func method(t *testing.T, d *daemon.Daemon, vs string) string {
	for _, v := range d.Current().Snapshot.VServers {
		if v.Name == vs {
			return string(v.Method)
		}
	}
	t.Fatalf("no vserver %s", vs)
	return ""
}

// TestLeastResponseTime: (connections + 1) x response time, the response
// time from the LRTM monitor probing each service, which the test slows.
func TestLeastResponseTime(t *testing.T) {
	m := startMethods(t)
	// a1 3 x ~25 ms = ~80, a2 1 x ~120 ms = ~120, a3 5 x ~5 ms = ~30 (a
	// millisecond or a few of probe overhead on top of each delay).
	for svc, v := range map[string]struct {
		conns float64
		delay time.Duration
	}{"a1": {2, 25 * time.Millisecond}, "a2": {0, 120 * time.Millisecond}, "a3": {4, 5 * time.Millisecond}} {
		m.apps[svc].set(func(a *appServer) { a.conns, a.delay = v.conns, v.delay })
	}
	m.seen(t, health.Connections, map[string]uint64{"a1": 2, "a2": 0, "a3": 4})
	// The response times settle on the delays (each probe's round trip).
	waitFor(t, "a3 chosen", 10*time.Second, func() bool {
		m.d.Engine().Flush()
		return m.first(t, dnstest.UDP, "lrt.test") == "a3"
	})
	m.apps["a3"].load(40, 0, 0) // 41 x ~5 ms: a1 is the least now
	waitFor(t, "a1 chosen", 10*time.Second, func() bool {
		m.d.Engine().Flush()
		return m.first(t, dnstest.UDP, "lrt.test") == "a1"
	})
}

func TestMetricFallbackToRoundRobin(t *testing.T) {
	m := startMethods(t, "a3") // a3 has no load source
	m.apps["a1"].load(1, 0, 0)
	m.apps["a2"].load(9, 0, 0)
	m.seen(t, health.Connections, map[string]uint64{"a1": 1, "a2": 9})
	// a3 has no metric: LEASTCONNECTION cannot decide and round-robins.
	got := m.count(t, dnstest.UDP, "lc.test", 300)
	if len(got) != 3 || got["a1"] != 100 {
		t.Fatalf("got %v, want an even round robin over 3", got)
	}
	s := status(t, m.d, "gv_lc")
	if s.LBRRReason != 12 || s.Method != "ROUNDROBIN" || s.LBRRReasonText != `no fresh connections metric for service "a3"` {
		t.Fatalf("status: got %+v, want lbrrreason 12 naming a3", s)
	}
	// With -backupLBMethod SOURCEIPHASH the backup method decides instead.
	s = status(t, m.d, "gv_bm")
	if s.Method != "SOURCEIPHASH" || s.LBRRReason != 12 {
		t.Fatalf("backup method status: got %+v", s)
	}
	// STATICPROXIMITY without a location database: the backup method
	// (round robin) answers, reason 12 says why.
	if s := status(t, m.d, "gv_sp"); s.Method != "STATICPROXIMITY" || s.LBRRReason != 12 || !strings.Contains(s.LBRRReasonText, "no location database") {
		t.Fatalf("static proximity status: got %+v", s)
	}
	// A load source for a3 restores the method.
	if _, err := m.d.Change(events.Origin{Via: "api"}, fmt.Sprintf(`set gslb service a3 -loadSource PROMETHEUS -loadURL http://%s/metrics -loadFilter connections=app_connections -loadInterval 100 MSEC`, m.apps["a3"].addr)); err != nil {
		t.Fatal(err)
	}
	m.seen(t, health.Connections, map[string]uint64{"a3": 0})
	if got := m.first(t, dnstest.UDP, "lc.test"); got != "a3" {
		t.Fatalf("after a3 reports: got %s, want a3", got)
	}
}

// TestStaleMetricsFallBack: when a service's load source stops answering,
// its last figures go stale after three poll intervals and the method
// falls back; when it answers again, the method is back.
func TestStaleMetricsFallBack(t *testing.T) {
	m := startMethods(t)
	for _, a := range m.apps {
		a.load(1, 0, 0)
	}
	m.seen(t, health.Connections, map[string]uint64{"a1": 1, "a2": 1, "a3": 1})
	waitFor(t, "LEASTCONNECTION deciding", 10*time.Second, func() bool { return status(t, m.d, "gv_lc").LBRRReason == 0 })
	m.apps["a2"].set(func(a *appServer) { a.metricsBroken = true })
	waitFor(t, "fallback once a2's figures are stale", 10*time.Second, func() bool {
		s := status(t, m.d, "gv_lc")
		return s.LBRRReason == 12 && strings.Contains(s.LBRRReasonText, `"a2"`)
	})
	m.apps["a2"].set(func(a *appServer) { a.metricsBroken = false })
	waitFor(t, "LEASTCONNECTION back", 10*time.Second, func() bool { m.d.Engine().Flush(); return status(t, m.d, "gv_lc").LBRRReason == 0 })
}

func TestSourceIPHash(t *testing.T) {
	clients := []string{}
	for i := 1; i <= 40; i++ {
		clients = append(clients, fmt.Sprintf("127.0.%d.%d", i%7+1, i*5))
	}
	mapping := func(m *methods, name string) map[string]string {
		out := map[string]string{}
		for _, c := range clients {
			r := dnstest.ExchangeFrom(t, c, m.d.UDPAddr(), dnstest.Msg(name, dns.TypeA))
			out[c] = m.ip[r.Answer[0].(*dns.A).A.String()]
		}
		return out
	}
	site1 := startMethods(t)
	// A second site with the same configuration (the same services).
	site2 := &methods{apps: site1.apps, ip: site1.ip, d: start(t, site1.d.Config().String())}
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
	conf := site1.d.Config().String()
	site1.d.Close()
	restarted := &methods{apps: site1.apps, ip: site1.ip, d: start(t, conf)}
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
	// When a service goes down (its health probe fails) only its clients move.
	restarted.apps["a2"].set(func(a *appServer) { a.healthFails = true })
	waitFor(t, "a2 DOWN", 10*time.Second, func() bool {
		for _, s := range restarted.d.Engine().ServiceStatus() {
			if s.Name == "a2" {
				return s.State == health.Down
			}
		}
		return false
	})
	m4 := mapping(restarted, "hash.test")
	for _, c := range clients {
		if m1[c] != "a2" && m4[c] != m1[c] {
			t.Errorf("client %s moved from %s to %s though its service stayed up", c, m1[c], m4[c])
		}
		if m4[c] == "a2" {
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
	m := startMethods(t)
	query := func(client string) string {
		r := dnstest.ExchangeFrom(t, client, m.d.UDPAddr(), dnstest.Msg("persist.test", dns.TypeA))
		return m.ip[r.Answer[0].(*dns.A).A.String()]
	}
	first := query("127.0.0.5")
	for range 30 {
		if got := query("127.0.0.5"); got != first {
			t.Fatalf("persistent client: got %s, want %s", got, first)
		}
	}
	// Other clients still rotate.
	seen := map[string]bool{}
	for i := 10; i < 20; i++ {
		seen[query(fmt.Sprintf("127.0.0.%d", i))] = true
	}
	if len(seen) < 2 {
		t.Fatalf("ten new clients all got %v", seen)
	}
	// The persisted service goes down: the client moves.
	m.apps[first].set(func(a *appServer) { a.healthFails = true })
	waitFor(t, first+" out of the answers", 10*time.Second, func() bool { return query("127.0.0.5") != first })
}

func TestMIR(t *testing.T) {
	m := startMethods(t)
	firsts := map[string]bool{}
	for range 6 {
		r := dnstest.Exchange(t, dnstest.UDP, m.d.UDPAddr(), dnstest.Msg("mir.test", dns.TypeA))
		if got := dnstest.Addrs(r); len(got) != 3 {
			t.Fatalf("MIR: got %v, want all 3 addresses", got)
		}
		firsts[r.Answer[0].(*dns.A).A.String()] = true
	}
	if len(firsts) != 3 {
		t.Fatalf("MIR order does not rotate: first addresses %v", firsts)
	}
	m.apps["a1"].set(func(a *appServer) { a.healthFails = true })
	waitFor(t, "a1 out of the MIR answer", 10*time.Second, func() bool {
		r := dnstest.Exchange(t, dnstest.TCP, m.d.TCPAddr(), dnstest.Msg("mir.test", dns.TypeA))
		return len(dnstest.Addrs(r)) == 2
	})
}
