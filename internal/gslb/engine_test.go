package gslb

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

const testConf = `add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
add gslb vserver gvh HTTP -lbMethod SOURCEIPHASH
bind gslb vserver gv -serviceName a1
bind gslb vserver gv -serviceName a2
bind gslb vserver gvh -serviceName a1
bind gslb vserver gvh -serviceName a2
bind gslb vserver gv -domainName app.example.test -TTL 5
bind gslb vserver gvh -domainName hash.example.test -TTL 5
add dns soaRec example.test -originServer ns1.example.test -contact h.example.test
add dns nsRec example.test ns1.example.test
add dns addRec ns1.example.test 192.0.2.53
add dns addRec *.wild.example.test 192.0.2.54
add dns nsRec sub.example.test ns.sub.example.test
add dns addRec ns.sub.example.test 192.0.2.55
add dns cnameRec www.example.test app.example.test
`

func snapshot(t testing.TB, text string) *config.Snapshot {
	t.Helper()
	_, s, _, err := config.Load("t.conf", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func engine(t testing.TB, text string) *Engine {
	e := New(Options{})
	e.Load(snapshot(t, text))
	t.Cleanup(e.Close)
	return e
}

func pack(t testing.TB, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWeightedSequence(t *testing.T) {
	cs := []cand{{weight: 1}, {weight: 3}, {weight: 2}}
	seq := weightedSequence(cs)
	n := map[uint16]int{}
	for _, i := range seq {
		n[i]++
	}
	if len(seq) != 6 || n[0] != 1 || n[1] != 3 || n[2] != 2 {
		t.Fatalf("got %v, want one cycle of weights 1,3,2", seq)
	}
	// Smooth: the heavy service is never picked three times in a row.
	for i := 2; i < len(seq); i++ {
		if seq[i] == 1 && seq[i-1] == 1 && seq[i-2] == 1 {
			t.Fatalf("not interleaved: %v", seq)
		}
	}
}

func TestMaskAddr(t *testing.T) {
	cases := []struct {
		ip     string
		v4, v6 int
		want   string
	}{
		{"10.1.2.3", 24, 128, "10.1.2.0"},
		{"10.1.2.3", 32, 128, "10.1.2.3"},
		{"::ffff:10.1.2.3", 16, 128, "10.1.0.0"},
		{"2001:db8:1:2::7", 24, 48, "2001:db8:1::"},
	}
	for _, tc := range cases {
		if got := maskAddr(netip.MustParseAddr(tc.ip), tc.v4, tc.v6).String(); got != tc.want {
			t.Errorf("maskAddr(%s, %d, %d): got %s, want %s", tc.ip, tc.v4, tc.v6, got, tc.want)
		}
	}
}

func dnsMsg(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	return m
}

// FuzzServeDNS: any bytes through the whole query path give either no
// reply or a reply that unpacks, answers the same ID, and fits the
// client's buffer.
func FuzzServeDNS(f *testing.F) {
	seeds := []*dns.Msg{dnsMsg("app.example.test", dns.TypeA), dnsMsg("www.example.test", dns.TypeA),
		dnsMsg("x.wild.example.test", dns.TypeANY), dnsMsg("a.sub.example.test", dns.TypeA), dnsMsg("example.test", 65535),
		dnsMsg("hash.example.test", dns.TypeAAAA), dnsMsg("nope.example.test", dns.TypeTXT)}
	e0 := dnsMsg("app.example.test", dns.TypeA)
	e0.SetEdns0(4096, true)
	seeds = append(seeds, e0)
	e1 := dnsMsg("app.example.test", dns.TypeA)
	e1.SetEdns0(512, false)
	e1.IsEdns0().SetVersion(1)
	seeds = append(seeds, e1)
	// ECS (the fuzz engine's gvh has -ECS ENABLED), v4, v6 and malformed.
	seeds = append(seeds, ecsQuery("hash.example.test", "203.0.113.0/24"), ecsQuery("HASH.example.test", "2001:db8::/48"),
		ecsQuery("app.example.test", "0.0.0.0/0"))
	bad := dnsMsg("hash.example.test", dns.TypeA)
	bad.SetEdns0(1232, false)
	bad.IsEdns0().Option = append(bad.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 8, Data: []byte{0, 1, 23, 0, 203, 0, 113}})
	seeds = append(seeds, bad)
	for _, m := range seeds {
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte{1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1}, false) // compression loop
	if b, err := os.ReadFile("testdata/appliance-query.bin"); err == nil {
		f.Add(b, false)
	}
	// A DNS view too: the fuzzed queries' source is in it for names under
	// example.test.
	s := snapshot(f, staticShapesConf+"set gslb vserver gvh -ECS ENABLED -persistenceType SOURCEIP -persistenceId 3\n"+
		"add dns view fz\nadd dns policy pf 'CLIENT.IP.SRC.IN_SUBNET(192.0.2.0/24) && DNS.REQ.QUESTION.DOMAIN.ENDSWITH(\"example.test\")' -viewName fz\n"+
		"bind dns global pf 1\nbind gslb service a1 -viewName fz 10.99.0.1\n")
	e := New(Options{})
	e.Load(s)
	defer e.Close()
	f.Fuzz(func(t *testing.T, q []byte, tcp bool) {
		r := e.ServeDNS(make([]byte, 0, 512), q, dnsserver.Request{Src: netip.MustParseAddr("192.0.2.77"), TCP: tcp, Now: time.Now()})
		if r == nil {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(r); err != nil {
			// A header-only FORMERR to an unparsable query is fine.
			if len(r) == 12 && r[3]&0xf == dns.RcodeFormatError {
				return
			}
			t.Fatalf("reply does not unpack: %v\nquery %x\nreply %x", err, q, r)
		}
		if len(q) >= 2 && (r[0] != q[0] || r[1] != q[1]) {
			t.Fatalf("reply ID %x, query ID %x", r[:2], q[:2])
		}
		if !m.Response {
			t.Fatalf("reply without QR")
		}
		limit := 65535
		if !tcp {
			limit = 512
			qm := new(dns.Msg)
			if qm.Unpack(q) == nil {
				if o := qm.IsEdns0(); o != nil && o.UDPSize() > 512 {
					limit = min(int(o.UDPSize()), 1232)
				}
			}
		}
		if len(r) > limit {
			t.Fatalf("reply of %d bytes exceeds the client's %d", len(r), limit)
		}
	})
}

// BenchmarkServeDNS measures the answer paths: GSLB answers and every
// shape of static answer (precomputed, zone.Wire), as resolvers ask
// (with EDNS). None allocates but the rare shapes left to the slow path
// (ANY).
func BenchmarkServeDNS(b *testing.B) {
	cases := []struct {
		name string
		q    *dns.Msg
	}{
		{"gslb-rr", dnsMsg("app.example.test", dns.TypeA)},
		{"gslb-hash", dnsMsg("hash.example.test", dns.TypeA)},
		{"gslb-nodata", dnsMsg("app.example.test", dns.TypeAAAA)},
		{"static-positive", dnsMsg("ns1.example.test", dns.TypeA)},
		{"static-mx-additional", dnsMsg("example.test", dns.TypeMX)},
		{"static-nodata", dnsMsg("ns1.example.test", dns.TypeMX)},
		{"static-nxdomain", dnsMsg("nope.example.test", dns.TypeA)},
		{"static-referral", dnsMsg("www.sub.example.test", dns.TypeA)},
		{"static-cname-chain", dnsMsg("c1.example.test", dns.TypeA)},
		{"static-wildcard", dnsMsg("x.wild.example.test", dns.TypeA)},
		{"static-txt", dnsMsg("example.test", dns.TypeTXT)},
		{"static-cname-to-gslb", dnsMsg("www.example.test", dns.TypeA)},
		{"static-slowpath-any", dnsMsg("ns1.example.test", dns.TypeANY)},
	}
	e := engine(b, staticShapesConf)
	client := netip.MustParseAddr("198.51.100.7")
	for _, tc := range cases {
		tc.q.SetEdns0(1232, false)
		q := pack(b, tc.q)
		b.Run(tc.name, func(b *testing.B) { serveLoop(b, e, q, dnsserver.Request{Src: client, Now: time.Now()}) })
	}
	// RTT: the client's resolver measured by every site (the LDNS table
	// read on each query).
	b.Run("gslb-rtt", func(b *testing.B) {
		re := engine(b, rttConf)
		for i, site := range []string{"s1", "s2", "s3"} {
			re.SetRTT(netip.PrefixFrom(client, 32), SiteRTT{Site: site, RTT: time.Duration(10*i+5) * time.Millisecond}, 0)
		}
		q := dnsMsg("v.test", dns.TypeA)
		q.SetEdns0(1232, false)
		qb := pack(b, q)
		serveLoop(b, re, qb, dnsserver.Request{Src: client, Now: time.Now()})
	})
	// ECS: a hash vserver deciding on the client subnet (the option read,
	// the scope written back).
	b.Run("gslb-ecs-hash", func(b *testing.B) {
		ee := New(Options{})
		defer ee.Close()
		ee.Load(snapshot(b, testConf+"set gslb vserver gvh -ECS ENABLED\n"))
		qb := pack(b, ecsQuery("hash.example.test", "203.0.113.0/24"))
		serveLoop(b, ee, qb, dnsserver.Request{Src: client, Now: time.Now()})
	})
	// STATICPROXIMITY over a 1,000,000-range location database, the
	// client located in the middle of it.
	b.Run("gslb-static-1M", func(b *testing.B) {
		se := engine(b, staticConf)
		se.SetLocations(locDB(b, bigLocations(1000000)))
		qb := pack(b, dnsMsg("v.test", dns.TypeA))
		serveLoop(b, se, qb, dnsserver.Request{Src: netip.MustParseAddr("5.161.32.7"), Now: time.Now()})
	})
	// Round robin counted as the server counts every query (question
	// type, RCODE, size bucket; flushed once per 16, a batch): the cost
	// of the DNS metrics, against gslb-rr.
	b.Run("gslb-rr-counted", func(b *testing.B) {
		q := pack(b, cases[0].q)
		var st dnsserver.Stats
		var cnt dnsserver.Counts
		buf := make([]byte, 0, 1232)
		req := dnsserver.Request{Src: client, Now: time.Now()}
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			r := e.ServeDNS(buf, q, req)
			cnt.Count(q, r)
			if n++; n%16 == 0 {
				cnt.Flush(&st, dnsserver.UDP)
			}
		}
		if st.Transport(dnsserver.UDP).Queries == 0 {
			b.Fatal("nothing counted")
		}
	})
	// A DNS view: three view policies evaluated (the third matches), the
	// answer in the view.
	b.Run("gslb-view", func(b *testing.B) {
		ve := engine(b, viewConf)
		qb := pack(b, dnsMsg("v.test", dns.TypeA))
		serveLoop(b, ve, qb, dnsserver.Request{Src: netip.MustParseAddr("10.1.2.3"), Local: netip.MustParseAddr("192.0.2.53"), Now: time.Now()})
	})
	b.Run("gslb-rr-parallel", func(b *testing.B) {
		q := pack(b, cases[0].q)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 0, 1232)
			for pb.Next() {
				e.ServeDNS(buf, q, dnsserver.Request{Src: client, Now: time.Now()})
			}
		})
	})
}

// serveLoop is a benchmark's loop: q answered from req, allocations
// reported, a missing reply fatal.
func serveLoop(b *testing.B, e *Engine, q []byte, req dnsserver.Request) {
	buf := make([]byte, 0, 1232)
	b.ReportAllocs()
	for b.Loop() {
		if r := e.ServeDNS(buf, q, req); len(r) == 0 {
			b.Fatal("no reply")
		}
	}
}

func TestGSLBQueryDoesNotAllocate(t *testing.T) {
	e := engine(t, testConf)
	q := pack(t, dnsMsg("app.example.test", dns.TypeA))
	buf := make([]byte, 0, 512)
	client := netip.MustParseAddr("198.51.100.7")
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { e.ServeDNS(buf, q, dnsserver.Request{Src: client, Now: now}) }); n != 0 {
		t.Fatalf("GSLB query: %v allocations, want 0", n)
	}
}

func TestPersistenceTimeoutAndMask(t *testing.T) {
	e := engine(t, `add gslb site s1 10.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 1 -persistMask 255.255.255.0 -timeout 2
bind gslb vserver gv -serviceName a1
bind gslb vserver gv -serviceName a2
bind gslb vserver gv -domainName p.test
add service adns 127.0.0.1 ADNS 53
`)
	q := pack(t, dnsMsg("p.test", dns.TypeA))
	ask := func(client string, now time.Time) string {
		m := new(dns.Msg)
		if err := m.Unpack(e.ServeDNS(nil, q, dnsserver.Request{Src: netip.MustParseAddr(client), Now: now})); err != nil || len(m.Answer) != 1 {
			t.Fatalf("bad reply %v %v", m, err)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	t0 := time.Now()
	first := ask("10.9.9.1", t0)
	// Same /24 (the persist mask): same service, and each hit refreshes the
	// idle timeout.
	for i := range 5 {
		if got := ask(fmt.Sprintf("10.9.9.%d", 10+i), t0.Add(time.Duration(i)*time.Minute)); got != first {
			t.Fatalf("same /24 at +%dm: got %s, want %s", i, got, first)
		}
	}
	// Another client takes the next service in the rotation.
	if other := ask("10.8.8.8", t0.Add(4*time.Minute)); other == first {
		t.Fatalf("second client: got the same service %s; round robin should move on", other)
	}
	// A third client moves the rotation on once more, so that the next
	// fresh choice is the service that is not first.
	if third := ask("10.7.7.7", t0.Add(4*time.Minute)); third != first {
		t.Fatalf("third client: got %s, want %s (round robin)", third, first)
	}
	// After more than -timeout (2 min) idle the entry has expired: the
	// client is chosen afresh and gets the other service.
	if got := ask("10.9.9.1", t0.Add(4*time.Minute+3*time.Minute)); got == first {
		t.Fatalf("after the idle timeout: still %s, the entry did not expire", got)
	}
	if n := e.table.Load().persist.Len(t0.Add(20 * time.Minute)); n != 0 {
		t.Fatalf("entries alive 20 minutes later: %d", n)
	}
	if n := e.table.Load().persist.Len(t0.Add(7 * time.Minute)); n != 1 {
		t.Fatalf("entries alive right after the last hit: %d, want 1", n)
	}
}

// BenchmarkReport measures one health report with 1,000 vservers and
// domains: every report rebuilds every decision and answer.
func BenchmarkReport(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("add service adns 127.0.0.1 ADNS 53\nadd gslb site s1 127.0.0.1\n")
	sb.WriteString("add gslb service a1 192.0.2.1 HTTP 80 -siteName s1\nadd gslb service a2 192.0.2.2 HTTP 80 -siteName s1\n")
	sb.WriteString("add gslb service one 192.0.2.3 HTTP 80 -siteName s1\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "add gslb vserver v%d HTTP -lbMethod ROUNDROBIN\nbind gslb vserver v%d -serviceName a1\nbind gslb vserver v%d -serviceName a2\nbind gslb vserver v%d -domainName d%d.example.test\n", i, i, i, i, i)
	}
	sb.WriteString("bind gslb vserver v0 -serviceName one\n")
	e := engine(b, sb.String())
	// everyVServer flips a service bound to all 1,000 vservers; oneVServer
	// one bound to a single vserver (the usual case).
	for _, svc := range []struct{ name, service string }{{"everyVServer", "a1"}, {"oneVServer", "one"}} {
		b.Run(svc.name, func(b *testing.B) {
			states := []health.State{health.Down, health.Up}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.Report(health.Report{Service: svc.service, State: states[i%2]})
				i++
			}
		})
	}
}

// TestSlowPathMatchesFastPath sends each query twice: as is (fast path)
// and with an extra TXT record in the additional section, which the fast
// path declines. Both must give the same answer section.
func TestSlowPathMatchesFastPath(t *testing.T) {
	e := engine(t, testConf+`add gslb service c1 -cnameEntry dc1.apps.example.net -siteName s1
add gslb vserver gc ANY -dnsRecordType CNAME -lbMethod ROUNDROBIN -EDR ENABLED
bind gslb vserver gc -serviceName c1
bind gslb vserver gc -domainName apps.example.test
`)
	client := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		name  string
		qtype uint16
	}{
		// hash.example.test is SOURCEIPHASH: the same client gets the same
		// answer twice, unlike round robin.
		{"Apps.Example.TEST", dns.TypeCNAME}, {"apps.example.test", dns.TypeA}, {"Hash.Example.Test", dns.TypeA},
		{"hash.example.test", dns.TypeAAAA}, {"hash.example.test", dns.TypeCNAME}, {"hash.example.test", dns.TypeANY},
	} {
		answer := func(extra bool) string {
			q := dnsMsg(tc.name, tc.qtype)
			if extra {
				q.Extra = append(q.Extra, &dns.TXT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{"x"}})
			}
			m := new(dns.Msg)
			if err := m.Unpack(e.ServeDNS(nil, pack(t, q), dnsserver.Request{Src: client, Now: time.Now()})); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(m.Rcode, m.Authoritative, m.Answer, len(m.Ns))
		}
		if fast, slow := answer(false), answer(true); fast != slow {
			t.Errorf("%s %s: fast path %s, slow path %s", tc.name, dns.TypeToString[tc.qtype], fast, slow)
		}
	}
}

// TestMetricReportsAreCoalesced: metric-only reports rebuild the answers at
// most once per MetricRefresh, the pending ones together; Flush applies
// them at once; a state change applies at once; per-report MaxAge expires
// a metric on its own clock.
func TestMetricReportsAreCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := engine(t, `add gslb site s1 LOCAL 192.0.2.1
add gslb service a 192.0.2.10 HTTP 80 -siteName s1
add gslb service b 192.0.2.11 HTTP 80 -siteName s1
add gslb vserver v HTTP -lbMethod LEASTCONNECTION
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -domainName v.test
`)
		conns := func(svc string, n uint64, maxAge time.Duration) {
			m := health.Metrics{At: time.Now(), MaxAge: maxAge}.With(health.Connections, n)
			e.Report(health.Report{Service: svc, Metrics: &m})
		}
		decided := func() VServerStatus { return e.Status()[0] }
		conns("a", 5, 0)
		conns("b", 1, 0)
		if s := decided(); s.LBRRReason != rrNoDecision {
			t.Fatalf("metrics applied before MetricRefresh: %+v", s)
		}
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if s := decided(); s.LBRRReason != 0 || s.Method != "LEASTCONNECTION" {
			t.Fatalf("metrics not applied after MetricRefresh: %+v", s)
		}
		// A state change is immediate.
		e.Report(health.Report{Service: "b", State: health.Down})
		if s := decided(); s.ActiveServices != 1 {
			t.Fatalf("state change not applied at once: %+v", s)
		}
		e.Report(health.Report{Service: "b", State: health.Up})
		// Flush applies pending metrics; a 1 s MaxAge expires on its own.
		time.Sleep(time.Second)
		conns("a", 5, time.Second)
		conns("b", 1, time.Second)
		e.Flush()
		if s := decided(); s.LBRRReason != 0 {
			t.Fatalf("Flush did not apply metrics: %+v", s)
		}
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		if s := decided(); s.LBRRReason != rrNoDecision {
			t.Fatalf("metric with 1 s MaxAge still used after 1.1 s: %+v", s)
		}
	})
}

// TestStaleRemoteMetricsSayMEPDown: a metric method that cannot decide
// because a remote service's figures (which come over MEP) are stale
// falls back to round robin with NetScaler's lbrrreason 1, "MEP DOWN",
// naming the site; a local service's missing figures give reason 12.
func TestStaleRemoteMetricsSayMEPDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := engine(t, `add gslb site s1 LOCAL 192.0.2.1
add gslb site s2 192.0.2.2
add gslb service a 192.0.2.10 HTTP 80 -siteName s1
add gslb service b 192.0.2.11 HTTP 80 -siteName s2
add gslb vserver v HTTP -lbMethod LEASTCONNECTION
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -domainName v.test
`)
		conns := func(svc string, n uint64) {
			m := health.Metrics{At: time.Now(), MaxAge: time.Second}.With(health.Connections, n)
			e.Report(health.Report{Service: svc, Metrics: &m})
		}
		conns("a", 5)
		e.Flush()
		if s := e.Status()[0]; s.LBRRReason != rrMEPDown || s.Method != "ROUNDROBIN" || !strings.Contains(s.LBRRReasonText, `from site "s2"`) {
			t.Fatalf("remote figures missing: %+v, want round robin, reason 1 naming s2", s)
		}
		conns("b", 1)
		e.Flush()
		if s := e.Status()[0]; s.LBRRReason != 0 || s.Method != "LEASTCONNECTION" {
			t.Fatalf("both figures fresh: %+v", s)
		}
		time.Sleep(1100 * time.Millisecond)
		conns("b", 1)
		e.Flush()
		if s := e.Status()[0]; s.LBRRReason != rrNoDecision || !strings.Contains(s.LBRRReasonText, `service "a"`) {
			t.Fatalf("local figures stale: %+v, want reason 12", s)
		}
	})
}

// TestPersistSessionsShared: the sessions one site creates for a vserver
// with a -persistenceId come out of PersistSessions; another site given
// them answers each client with the same service, keeps a session of its
// own over a shared one, and ignores sessions of an unknown id.
func TestPersistSessionsShared(t *testing.T) {
	const conf = `add gslb site s1 10.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 7 -timeout 5
bind gslb vserver gv -serviceName a1
bind gslb vserver gv -serviceName a2
bind gslb vserver gv -domainName p.test
`
	a, b := engine(t, conf), engine(t, conf)
	q := pack(t, dnsMsg("p.test", dns.TypeA))
	ask := func(e *Engine, client string) string {
		m := new(dns.Msg)
		if err := m.Unpack(e.ServeDNS(nil, q, dnsserver.Request{Src: netip.MustParseAddr(client), Now: time.Now()})); err != nil || len(m.Answer) != 1 {
			t.Fatalf("bad reply %v %v", m, err)
		}
		return m.Answer[0].(*dns.A).A.String()
	}
	sessions := a.PersistSessions()
	want := map[string]string{}
	for i := range 20 {
		c := fmt.Sprintf("10.1.%d.1", i)
		want[c] = ask(a, c)
	}
	ask(b, "10.99.0.1") // b's rotation is one step from a's
	var got []PersistSession
	for len(got) < 20 {
		select {
		case s := <-sessions:
			got = append(got, s)
		case <-time.After(time.Second):
			t.Fatalf("%d sessions out of 20", len(got))
		}
	}
	if s := got[0]; s.ID != 7 || s.Service == "" || !s.Expires.After(time.Now()) {
		t.Fatalf("session %+v", s)
	}
	// A session of b's own, chosen after a's, is kept over the shared
	// one (creation times are whole milliseconds: b's is a later one).
	time.Sleep(2 * time.Millisecond)
	own := ask(b, "10.1.0.1")
	b.AddPersistSessions(append(got, PersistSession{ID: 99, Client: netip.MustParseAddr("10.1.1.1"), Service: "a1", Expires: time.Now().Add(time.Minute)}))
	for c, w := range want {
		if c == "10.1.0.1" {
			w = own
		}
		if g := ask(b, c); g != w {
			t.Errorf("client %s at the other site: %s, want %s", c, g, w)
		}
	}
}

// TestChildSiteRefusesGSLBNames: a child site answers no GSLB name
// (REFUSED, not authoritative): its parents do; its zone data is still
// served.
func TestChildSiteRefusesGSLBNames(t *testing.T) {
	e := engine(t, `add gslb site p1 10.0.0.1
add gslb site c1 LOCAL 10.0.0.2 -parentSite p1
add gslb service s1 192.0.2.1 HTTP 80 -siteName c1
add gslb vserver gv HTTP
bind gslb vserver gv -serviceName s1
bind gslb vserver gv -domainName www.gslb.test
add dns zone gslb.test -proxyMode NO
add dns soaRec gslb.test -originServer ns1.gslb.test -contact hostmaster.gslb.test
add dns nsRec gslb.test ns1.gslb.test
add dns addRec ns1.gslb.test 10.0.0.2
`)
	for _, name := range []string{"www.gslb.test", "WWW.gslb.test"} {
		m := new(dns.Msg)
		if err := m.Unpack(e.ServeDNS(nil, pack(t, dnsMsg(name, dns.TypeA)), dnsserver.Request{Src: netip.MustParseAddr("10.9.0.1"), Now: time.Now()})); err != nil {
			t.Fatal(err)
		}
		if m.Rcode != dns.RcodeRefused || m.Authoritative || len(m.Answer) != 0 {
			t.Errorf("%s at a child site: rcode %s aa %v answers %v, want REFUSED", name, dns.RcodeToString[m.Rcode], m.Authoritative, m.Answer)
		}
	}
	m := new(dns.Msg)
	if err := m.Unpack(e.ServeDNS(nil, pack(t, dnsMsg("ns1.gslb.test", dns.TypeA)), dnsserver.Request{Src: netip.MustParseAddr("10.9.0.1"), Now: time.Now()})); err != nil || len(m.Answer) != 1 {
		t.Errorf("zone data at a child site: %v %v", m, err)
	}
}

// TestReserveKeepsRoom: a UDP answer leaves Request.Reserve bytes free
// under the client's size (the server adds the DNS cookie after): an
// answer of 500 bytes for a 512-byte client is sent whole without a
// reserve, truncated with one of 28; over TCP it is whole either way.
func TestReserveKeepsRoom(t *testing.T) {
	conf := func(n int) string {
		return testConf + fmt.Sprintf("add dns txtRec big.example.test %q %q\n", strings.Repeat("a", 200), strings.Repeat("b", n))
	}
	ask := func(e *Engine, reserve int, tcp bool) []byte {
		m := dnsMsg("big.example.test", dns.TypeTXT)
		m.SetEdns0(512, false)
		return e.ServeDNS(make([]byte, 0, 4096), pack(t, m), dnsserver.Request{Src: netip.MustParseAddr("192.0.2.77"), TCP: tcp, Reserve: reserve, Now: time.Now()})
	}
	size := len(ask(engine(t, conf(100)), 0, false))
	e := engine(t, conf(100+500-size))
	if got := ask(e, 0, false); len(got) != 500 || got[2]&0x02 != 0 {
		t.Fatalf("without a reserve: %d bytes, TC %v; want 500 whole", len(got), got[2]&0x02 != 0)
	}
	if got := ask(e, 28, false); got[2]&0x02 == 0 || len(got) > 512-28 {
		t.Errorf("with a reserve of 28: %d bytes, TC %v; want truncated", len(got), got[2]&0x02 != 0)
	}
	if got := ask(e, 28, true); len(got) != 500 || got[2]&0x02 != 0 {
		t.Errorf("over TCP with a reserve: %d bytes, TC %v; want 500 whole", len(got), got[2]&0x02 != 0)
	}
}
