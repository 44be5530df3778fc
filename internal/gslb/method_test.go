package gslb

import (
	"bytes"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// methodServices are the services the method tests bind; c stops taking
// answers at 10 connections.
const methodServices = `add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s1
add gslb service c 192.0.2.3 HTTP 80 -siteName s1 -maxClient 10
add gslb service d 192.0.2.4 HTTP 80 -siteName s1
add dns soaRec example.test -originServer ns1.example.test -contact h.example.test
`

// load is what a load source reports for a service (zero: not reported).
type load struct {
	conns, bandwidth, packets, custom uint64
	rt                                time.Duration
	over                              bool
}

func (l load) metrics(now time.Time) *health.Metrics {
	m := health.Metrics{At: now}
	if l.conns > 0 {
		m = m.With(health.Connections, l.conns)
	}
	if l.rt > 0 {
		m = m.With(health.ResponseTime, uint64(l.rt))
	}
	if l.bandwidth > 0 {
		m = m.With(health.Bandwidth, l.bandwidth)
	}
	if l.packets > 0 {
		m = m.With(health.Packets, l.packets)
	}
	if l.custom > 0 {
		m = m.With(health.Load, l.custom)
		m.Overloaded = l.over
	}
	return &m
}

// answered asks for name over UDP and TCP, n times each, and returns the
// addresses answered, sorted, each once.
func answered(t *testing.T, addrs map[dnstest.Proto]string, name string, n int) []string {
	t.Helper()
	var out []string
	for _, proto := range dnstest.Protos {
		for range n {
			r := ask(t, proto, addrs[proto], dnstest.Msg(name, dns.TypeA))
			for _, a := range dnstest.Addrs(r) {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestMetricMethods: each metric method answers the service with the least
// load (divided by its weight), ties in turn; without fresh figures the
// backup method decides, then round robin, with the reason shown (lbrrreason
// 12) and logged.
func TestMetricMethods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    string // the vserver v, bound to v.test
		loads   map[string]load
		want    string // addresses answered
		method  string
		reason  string // part of the reason text ("": none)
		fellBak bool   // logged as falling back
	}{
		{name: "least connection", conf: "add gslb vserver v HTTP -lbMethod LEASTCONNECTION\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 1}, "b": {conns: 5}}, want: "192.0.2.1", method: "LEASTCONNECTION"},
		{name: "least connection ties in turn", conf: "add gslb vserver v HTTP -lbMethod LEASTCONNECTION\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 3}, "b": {conns: 3}}, want: "192.0.2.1 192.0.2.2", method: "LEASTCONNECTION"},
		{name: "least connection by weight", conf: "add gslb vserver v HTTP -lbMethod LEASTCONNECTION\nbind gslb vserver v -serviceName a -weight 5\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 10}, "b": {conns: 4}}, want: "192.0.2.1", method: "LEASTCONNECTION"},
		{name: "maxClient reached", conf: "add gslb vserver v HTTP -lbMethod ROUNDROBIN\nbind gslb vserver v -serviceName c\nbind gslb vserver v -serviceName d",
			loads: map[string]load{"c": {conns: 10}}, want: "192.0.2.4", method: "ROUNDROBIN"},
		{name: "maxClient not reached", conf: "add gslb vserver v HTTP -lbMethod ROUNDROBIN\nbind gslb vserver v -serviceName c\nbind gslb vserver v -serviceName d",
			loads: map[string]load{"c": {conns: 9}}, want: "192.0.2.3 192.0.2.4", method: "ROUNDROBIN"},
		// (connections+1) x response time: 3 x 40 ms beats 2 x 70 ms
		// (not so with connections-1, or a quotient).
		{name: "least response time", conf: "add gslb vserver v HTTP -lbMethod LEASTRESPONSETIME\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 2, rt: 40 * time.Millisecond}, "b": {conns: 1, rt: 70 * time.Millisecond}}, want: "192.0.2.1", method: "LEASTRESPONSETIME"},
		{name: "least bandwidth", conf: "add gslb vserver v HTTP -lbMethod LEASTBANDWIDTH\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {bandwidth: 100}, "b": {bandwidth: 50}}, want: "192.0.2.2", method: "LEASTBANDWIDTH"},
		{name: "least packets", conf: "add gslb vserver v HTTP -lbMethod LEASTPACKETS\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {packets: 5}, "b": {packets: 9}}, want: "192.0.2.1", method: "LEASTPACKETS"},
		{name: "custom load leaves out the overloaded", conf: "add gslb vserver v HTTP -lbMethod CUSTOMLOAD\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {custom: 10, over: true}, "b": {custom: 50}}, want: "192.0.2.2", method: "CUSTOMLOAD"},
		{name: "custom load, all overloaded", conf: "add gslb vserver v HTTP -lbMethod CUSTOMLOAD\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {custom: 10, over: true}, "b": {custom: 50, over: true}}, want: "192.0.2.1", method: "CUSTOMLOAD"},
		{name: "no figures: round robin", conf: "add gslb vserver v HTTP -lbMethod LEASTCONNECTION\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 1}}, want: "192.0.2.1 192.0.2.2", method: "ROUNDROBIN", reason: `no fresh connections metric for service "b"`, fellBak: true},
		{name: "response time needs connections", conf: "add gslb vserver v HTTP -lbMethod LEASTRESPONSETIME\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {rt: time.Millisecond}, "b": {rt: 2 * time.Millisecond}}, want: "192.0.2.1 192.0.2.2", method: "ROUNDROBIN", reason: "no fresh", fellBak: true},
		{name: "backup method decides", conf: "add gslb vserver v HTTP -lbMethod LEASTBANDWIDTH -backupLBMethod LEASTCONNECTION\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 1}, "b": {conns: 5}}, want: "192.0.2.1", method: "LEASTCONNECTION", reason: `no fresh bandwidth metric for service "a"`, fellBak: true},
		{name: "backup method the same", conf: "add gslb vserver v HTTP -lbMethod LEASTBANDWIDTH -backupLBMethod LEASTBANDWIDTH\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			loads: map[string]load{"a": {conns: 1}, "b": {conns: 5}}, want: "192.0.2.1 192.0.2.2", method: "ROUNDROBIN", reason: "no fresh", fellBak: true},
		{name: "no data source", conf: "add gslb vserver v HTTP -lbMethod STATICPROXIMITY\nbind gslb vserver v -serviceName a\nbind gslb vserver v -serviceName b",
			want: "192.0.2.1 192.0.2.2", method: "STATICPROXIMITY", reason: "no location database loaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			e := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			t.Cleanup(e.Close)
			e.Load(snapshot(t, methodServices+tc.conf+"\nbind gslb vserver v -domainName v.test\n"))
			if tc.loads != nil {
				logs.Reset() // before any figure, every metric method falls back
			}
			now := time.Now()
			for svc, l := range tc.loads {
				e.Report(health.Report{Service: svc, Metrics: l.metrics(now)})
			}
			e.Flush()
			if got := strings.Join(answered(t, listen(t, e), "v.test", 4), " "); got != tc.want {
				t.Errorf("answered %s, want %s", got, tc.want)
			}
			st := e.Status()[0]
			if st.Method != tc.method || (tc.reason == "") != (st.LBRRReason == 0) || !strings.Contains(st.LBRRReasonText, tc.reason) {
				t.Errorf("status: method %s, reason %d %q; want %s, %q", st.Method, st.LBRRReason, st.LBRRReasonText, tc.method, tc.reason)
			}
			if got := strings.Count(logs.String(), "vserver falls back"); (got > 0) != tc.fellBak {
				t.Errorf("logged %d fallbacks, want some: %v\n%s", got, tc.fellBak, logs.String())
			}
		})
	}
}

// TestWeightedRoundRobinOrder: answers follow the smooth weighted cycle
// from the first query, as nginx orders it (ties to the first bound).
func TestWeightedRoundRobinOrder(t *testing.T) {
	e := engine(t, methodServices+`add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b -weight 3
bind gslb vserver v -serviceName d -weight 2
bind gslb vserver v -domainName v.test
`)
	addrs := listen(t, e)
	var got []string
	for range 12 {
		got = append(got, dnstest.Addrs(ask(t, dnstest.UDP, addrs[dnstest.UDP], dnstest.Msg("v.test", dns.TypeA)))...)
	}
	b, c, a := "192.0.2.2", "192.0.2.4", "192.0.2.1"
	want := []string{b, c, a, b, c, b, b, c, a, b, c, b}
	if !slices.Equal(got, want) {
		t.Fatalf("answers %v, want %v", got, want)
	}
}

// TestHitCounters: each answer counts for its vserver (and as a backup hit
// when a backup vserver's service answers), its domain and the service
// chosen; the state a service was reported in is shown with its reason.
func TestHitCounters(t *testing.T) {
	e := engine(t, methodServices+`add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bak HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bak
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver bak -serviceName d
bind gslb vserver v -domainName v.test
`)
	addrs := listen(t, e)
	answered(t, addrs, "v.test", 2) // 4 answers: a, b, a, b
	e.Report(health.Report{Service: "a", State: health.Down, Reason: "test"}, health.Report{Service: "b", State: health.Down})
	answered(t, addrs, "v.test", 1) // 2 answers from the backup's d
	hits := map[string]uint64{}
	for _, s := range e.ServiceStatus() {
		hits[s.Name] = s.Hits
		if s.Name == "a" && (s.State != health.Down || s.Reason != "test") {
			t.Errorf("service a: %s %q, want DOWN with its reason", s.State, s.Reason)
		}
	}
	if hits["a"] != 2 || hits["b"] != 2 || hits["d"] != 2 || hits["c"] != 0 {
		t.Errorf("service hits %v, want a 2, b 2, c 0, d 2", hits)
	}
	for _, v := range e.Status() {
		want := map[string][2]uint64{"v": {6, 2}, "bak": {0, 0}}[v.Name]
		if v.Hits != want[0] || v.BackupHits != want[1] {
			t.Errorf("vserver %s: %d hits, %d backup hits; want %v", v.Name, v.Hits, v.BackupHits, want)
		}
	}
	if got := e.DomainHits(); got["v.test"] != 6 || len(got) != 1 {
		t.Errorf("domain hits %v, want v.test 6", got)
	}
}

// TestRemovedCountersStartAgain: a service or domain removed and added
// again counts from zero, as a new one (stat figures are per entity),
// whatever else the same change added; the others keep their figures.
func TestRemovedCountersStartAgain(t *testing.T) {
	c, s, _, err := config.Load("t.conf", strings.NewReader(methodServices+`add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -domainName v.test
`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{})
	defer e.Close()
	e.Load(s)
	addrs := listen(t, e)
	change := func(lines ...string) {
		t.Helper()
		for _, l := range lines {
			n, s, _, err := c.Change("t", l)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			c = n
			e.Load(s)
		}
	}
	hits := func() map[string]uint64 {
		out := map[string]uint64{}
		for _, st := range e.ServiceStatus() {
			out[st.Name] = st.Hits
		}
		return out
	}
	answered(t, addrs, "v.test", 2)
	change("unbind gslb vserver v -serviceName a", "rm gslb service a", "bind gslb vserver v -serviceName b",
		"unbind gslb vserver v -domainName v.test", "bind gslb vserver v -domainName w.test")
	answered(t, addrs, "w.test", 2)
	change("add gslb service a 192.0.2.1 HTTP 80 -siteName s1", "bind gslb vserver v -serviceName a",
		"bind gslb vserver v -domainName v.test")
	if h := hits(); h["a"] != 0 || h["b"] != 4 {
		t.Errorf("service a added again: hits %v, want a 0 and b's 4 kept", h)
	}
	if got := e.DomainHits(); got["v.test"] != 0 || got["w.test"] != 4 {
		t.Errorf("domain v.test bound again: hits %v, want v.test 0 and w.test's 4 kept", got)
	}
	// Reloads of files with two services each: a replaced by x, then back.
	conf := func(svc string) string {
		return "add gslb site s1 127.0.0.1\nadd gslb service b 192.0.2.2 HTTP 80 -siteName s1\n" +
			"add gslb service " + svc + " 192.0.2.9 HTTP 80 -siteName s1\nadd gslb vserver v HTTP -lbMethod ROUNDROBIN\n" +
			"bind gslb vserver v -serviceName " + svc + "\nbind gslb vserver v -domainName v.test\n"
	}
	e.Load(snapshot(t, conf("a")))
	answered(t, addrs, "v.test", 2)
	if h := hits(); h["a"] == 0 {
		t.Fatalf("hits %v, want some for a", h)
	}
	e.Load(snapshot(t, conf("x")))
	e.Load(snapshot(t, conf("a")))
	if h := hits(); h["a"] != 0 {
		t.Errorf("service a back after a reload without it: %d hits, want 0", h["a"])
	}
}

// TestServiceReason: a report in the same state with a new reason updates
// the reason shown; one without a state or without a reason leaves it.
func TestServiceReason(t *testing.T) {
	e := engine(t, methodServices+"add gslb vserver v HTTP\nbind gslb vserver v -serviceName a\nbind gslb vserver v -domainName v.test\n")
	reason := func() string {
		for _, st := range e.ServiceStatus() {
			if st.Name == "a" {
				return st.Reason
			}
		}
		return "missing"
	}
	for _, tc := range []struct {
		report health.Report
		want   string
	}{
		{health.Report{Service: "a", State: health.Up, Reason: "1 of 2 services UP"}, "1 of 2 services UP"},
		{health.Report{Service: "a", State: health.Up, Reason: "2 of 2 services UP"}, "2 of 2 services UP"},
		{health.Report{Service: "a", State: health.Up}, "2 of 2 services UP"},
		{health.Report{Service: "a", Reason: "no state"}, "2 of 2 services UP"},
	} {
		e.Report(tc.report)
		if got := reason(); got != tc.want {
			t.Errorf("after %+v: reason %q, want %q", tc.report, got, tc.want)
		}
	}
}

// TestSourceIPHashMapping: the SOURCEIPHASH table depends only on the
// services' keys (-hashId, else the name) and weights, so every site and
// every restart maps a client to the same service: its slot counts and a
// digest of the whole table are fixed here. A heavier service gets more
// slots; a service taken out moves only its own slots.
func TestSourceIPHashMapping(t *testing.T) {
	cands := []cand{
		{svc: &config.ServiceInfo{Name: "gs_dc1"}, weight: 1},
		{svc: &config.ServiceInfo{Name: "gs_dc2"}, weight: 1},
		{svc: &config.ServiceInfo{Name: "renamed", HashID: 7}, weight: 2},
	}
	table := hashTable(cands)
	counts := make([]int, len(cands))
	h := fnv.New64a()
	for _, x := range table {
		counts[x]++
		h.Write([]byte{byte(x)})
	}
	if want := []int{1022, 1067, 2004}; !slices.Equal(counts, want) {
		t.Errorf("slots per service %v, want %v", counts, want)
	}
	if got, want := h.Sum64(), uint64(0x61441da41b1c0342); got != want {
		t.Errorf("table digest %#x, want %#x", got, want)
	}
	// gs_dc2 taken out: only its slots move.
	without := hashTable([]cand{cands[0], cands[2]})
	for slot, x := range table {
		if x != 1 && cands[x].svc != []cand{cands[0], cands[2]}[without[slot]].svc {
			t.Fatalf("slot %d moved from %s though it did not lose its service", slot, cands[x].svc.Name)
		}
	}
	// Clients: the slot of an address masked to the vserver's netmask.
	for _, tc := range []struct {
		ip     string
		v4, v6 int
		want   int
	}{
		{"198.51.100.7", 32, 128, 3136},
		{"198.51.100.8", 32, 128, 3678},
		{"198.51.100.7", 24, 128, 1755},
		{"198.51.100.8", 24, 128, 1755},
		{"::ffff:198.51.100.8", 24, 128, 1755},
		{"2001:db8::1", 32, 64, 2748},
		{"2001:db8::ffff", 32, 64, 2748},
	} {
		if got := clientSlot(netip.MustParseAddr(tc.ip), tc.v4, tc.v6); got != tc.want {
			t.Errorf("clientSlot(%s, %d, %d) = %d, want %d", tc.ip, tc.v4, tc.v6, got, tc.want)
		}
	}
}
