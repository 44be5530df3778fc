package gslb

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// rttConf: three parent sites and a child of s2, one service each; the
// vserver v answers by RTT (backup: round robin).
const rttConf = `add gslb site s1 10.1.0.1
add gslb site s2 10.2.0.1
add gslb site s3 10.3.0.1
add gslb site c2 10.2.0.9 -parentSite s2
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s2
add gslb service c 192.0.2.3 HTTP 80 -siteName s3
add gslb service d 192.0.2.4 HTTP 80 -siteName c2
add gslb vserver v HTTP -lbMethod RTT -backupLBMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -serviceName c
bind gslb vserver v -domainName v.test -TTL 5
add dns soaRec test -originServer ns1.test -contact h.test
`

// askFrom answers one A query for name from client through ServeDNS (nil:
// no reply), with the addresses answered.
func askFrom(t *testing.T, e *Engine, name, client string) []string {
	t.Helper()
	q := pack(t, dnsMsg(name, dns.TypeA))
	r := e.ServeDNS(make([]byte, 0, 512), q, dnsserver.Request{Src: netip.MustParseAddr(client), Now: time.Now()})
	if r == nil {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(r); err != nil {
		t.Fatal(err)
	}
	return dnstest.Addrs(m)
}

// answeredFrom asks n times and returns each address answered once, sorted.
func answeredFrom(t *testing.T, e *Engine, name, client string, n int) string {
	t.Helper()
	var out []string
	for range n {
		for _, a := range askFrom(t, e, name, client) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func setRTT(e *Engine, ldns, site string, ms int) {
	e.SetRTT(netip.MustParsePrefix(ldns), SiteRTT{Site: site, RTT: time.Duration(ms) * time.Millisecond, Method: "DNS", At: time.Now()}, 0)
}

// TestRTTMethod: a resolver no site measured is answered by the backup
// method and queued once for measuring; then the site with the lowest
// RTT answers; -tolerance round-robins the sites within it; an
// unreachable site or a DOWN service is left out; sites without a figure
// are ignored; a child's service goes by its parent's RTT.
func TestRTTMethod(t *testing.T) {
	e := engine(t, rttConf)
	sightings := e.NewLDNS()
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 6); got != "192.0.2.1 192.0.2.2 192.0.2.3" {
		t.Fatalf("unmeasured resolver: answered %s, want the backup method's round robin", got)
	}
	select {
	case p := <-sightings:
		if p.String() != "198.51.100.7/32" { // as seen, with the mask length
			t.Fatalf("sighting %v", p)
		}
	default:
		t.Fatal("the first sighting was not queued")
	}
	select {
	case p := <-sightings:
		t.Fatalf("sighting %v queued twice", p)
	default:
	}
	if st := e.Status()[0]; st.Method != "RTT" || st.ProximityFallbacks != 6 {
		t.Fatalf("status method %s, %d fallbacks; want RTT, 6 (the unmeasured resolver's queries)", st.Method, st.ProximityFallbacks)
	}
	const ldns = "198.51.100.7/32"
	setRTT(e, ldns, "s2", 30) // one site measured: it answers
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 4); got != "192.0.2.2" {
		t.Fatalf("only s2 measured: answered %s", got)
	}
	setRTT(e, ldns, "s1", 40)
	setRTT(e, ldns, "S3", 10) // site names in any case
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 4); got != "192.0.2.3" {
		t.Fatalf("s3 lowest: answered %s", got)
	}
	// Another resolver is still unmeasured.
	if got := answeredFrom(t, e, "v.test", "198.51.100.8", 6); got != "192.0.2.1 192.0.2.2 192.0.2.3" {
		t.Fatalf("other resolver: answered %s", got)
	}
	e.SetRTT(netip.MustParsePrefix(ldns), SiteRTT{Site: "s3", Unreachable: true, Method: "PING"}, 0)
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 4); got != "192.0.2.2" {
		t.Fatalf("s3 unreachable: answered %s, want s2 (30 ms)", got)
	}
	setRTT(e, ldns, "s3", 10)
	e.Report(health.Report{Service: "c", State: health.Down})
	e.Flush()
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 4); got != "192.0.2.2" {
		t.Fatalf("s3's service DOWN: answered %s", got)
	}
	e.Report(health.Report{Service: "c", State: health.Up})
	e.Flush()

	// -tolerance 25: s3 (10) and s2 (30) in turn, not s1 (40).
	e.Load(snapshot(t, rttConf+"set gslb vserver v -tolerance 25\n"))
	var got []string
	for range 6 {
		got = append(got, askFrom(t, e, "v.test", "198.51.100.7")...)
	}
	if n2, n3 := strings.Count(strings.Join(got, " "), "192.0.2.2"), strings.Count(strings.Join(got, " "), "192.0.2.3"); n2 != 3 || n3 != 3 {
		t.Fatalf("tolerance 25: answers %v, want s2 and s3 in turn", got)
	}

	// The child c2's service d goes by s2's RTT.
	e.Load(snapshot(t, rttConf+"bind gslb vserver v -serviceName d\n"))
	setRTT(e, ldns, "s2", 5)
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 4); got != "192.0.2.2 192.0.2.4" {
		t.Fatalf("child of the lowest site: answered %s, want b and d", got)
	}
}

// TestRTTMaskAndDrop: -ldnsMask keys resolvers by their /24, so that one
// measurement serves the prefix; with -dropLdnsReq an unmeasured resolver
// gets no reply at all, over the fast and the slow path.
func TestRTTMaskAndDrop(t *testing.T) {
	e := engine(t, rttConf+"set gslb parameter -ldnsMask 255.255.255.0 -dropLdnsReq ENABLED\n")
	if got := askFrom(t, e, "v.test", "198.51.100.7"); got != nil {
		t.Fatalf("unmeasured with -dropLdnsReq: answered %v", got)
	}
	slow := dnsMsg("V.test", dns.TypeA) // upper case: the slow path
	slow.SetEdns0(1232, false)
	slow.Extra[0].(*dns.OPT).Option = append(slow.Extra[0].(*dns.OPT).Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1}})
	if r := e.ServeDNS(nil, pack(t, slow), dnsserver.Request{Src: netip.MustParseAddr("198.51.100.9"), Now: time.Now()}); r != nil {
		t.Fatal("unmeasured with -dropLdnsReq: the slow path replied")
	}
	setRTT(e, "198.51.100.0/24", "s1", 3)
	setRTT(e, "198.51.100.0/24", "s2", 9)
	if got := answeredFrom(t, e, "v.test", "198.51.100.200", 3); got != "192.0.2.1" {
		t.Fatalf("another address of the /24: answered %s", got)
	}
	if r := e.ServeDNS(nil, pack(t, slow), dnsserver.Request{Src: netip.MustParseAddr("198.51.100.9"), Now: time.Now()}); r == nil {
		t.Fatal("measured: the slow path dropped the query")
	}
	ents := e.LDNSEntries()
	if len(ents) != 1 || ents[0].LDNS.String() != "198.51.100.0/24" || len(ents[0].RTTs) != 2 {
		t.Fatalf("entries %+v", ents)
	}
	// Static names are never dropped.
	if r := e.ServeDNS(nil, pack(t, dnsMsg("test", dns.TypeSOA)), dnsserver.Request{Src: netip.MustParseAddr("203.0.113.1"), Now: time.Now()}); r == nil {
		t.Fatal("SOA from an unmeasured resolver dropped")
	}
}

// TestRTTToleranceDamps: this site's own measurements within
// -RTTTolerance of the stored one are not stored (nothing to tell the
// other parents); larger moves and reachability changes are.
func TestRTTToleranceDamps(t *testing.T) {
	e := engine(t, rttConf)
	p := netip.MustParsePrefix("192.0.2.0/24")
	tol := 5 * time.Millisecond
	for i, step := range []struct {
		ms          int
		unreachable bool
		want        bool
	}{{10, false, true}, {13, false, false}, {6, false, false}, {16, false, true}, {16, true, true}, {40, true, false}, {40, false, true}} {
		if got := e.SetRTT(p, SiteRTT{Site: "s1", RTT: time.Duration(step.ms) * time.Millisecond, Unreachable: step.unreachable}, tol); got != step.want {
			t.Fatalf("step %d (%d ms, unreachable %v): stored %v, want %v", i, step.ms, step.unreachable, got, step.want)
		}
	}
	if r := e.LDNSEntries()[0].RTTs[0]; r.RTT != 40*time.Millisecond || r.Unreachable {
		t.Fatalf("stored %+v", r)
	}
}

// TestLDNSSweepAndRemove: entries without a query for the timeout go;
// entries queried since they were last announced, a third of a timeout
// ago, are renewed once; rm and clear drop entries; AddLDNS returns only
// resolvers not known.
func TestLDNSSweepAndRemove(t *testing.T) {
	e := engine(t, rttConf)
	a, b := netip.MustParsePrefix("198.51.100.1/32"), netip.MustParsePrefix("198.51.100.2/32")
	if got := e.AddLDNS([]netip.Prefix{a, b}); len(got) != 2 {
		t.Fatalf("added %v", got)
	}
	if got := e.AddLDNS([]netip.Prefix{a}); len(got) != 0 {
		t.Fatalf("added again %v", got)
	}
	tab := e.ldns
	now := time.Now()
	s := tab.shard(a)
	s.mu.Lock()
	s.m[a].seen = now.Add(-200 * time.Second).UnixNano()
	s.mu.Unlock()
	s = tab.shard(b)
	s.mu.Lock()
	s.m[b].announced = now.Add(-70 * time.Second).UnixNano()
	s.m[b].seen = now.Add(-time.Second).UnixNano()
	s.mu.Unlock()
	gone, renew := tab.sweep(now, 180*time.Second)
	if !slices.Equal(gone, []netip.Prefix{a}) || !slices.Equal(renew, []netip.Prefix{b}) {
		t.Fatalf("sweep: gone %v renew %v", gone, renew)
	}
	if _, renew := tab.sweep(now, 180*time.Second); len(renew) != 0 {
		t.Fatalf("renewed twice: %v", renew)
	}
	if e.RemoveLDNS(a) || !e.RemoveLDNS(b) || len(e.LDNSEntries()) != 0 || tab.count.Load() != 0 {
		t.Fatalf("remove: %+v, count %d", e.LDNSEntries(), tab.count.Load())
	}
	e.AddLDNS([]netip.Prefix{a, b})
	e.RemoveLDNS(netip.Prefix{})
	if len(e.LDNSEntries()) != 0 || tab.count.Load() != 0 {
		t.Fatal("clear left entries")
	}
}

// TestLDNSTableBounded: past its bound the table takes no new resolver
// (answered by the backup method), and a query still gets its answer.
func TestLDNSTableBounded(t *testing.T) {
	e := New(Options{MaxLDNS: 3})
	t.Cleanup(e.Close)
	e.Load(snapshot(t, rttConf))
	for i := range 10 {
		if got := askFrom(t, e, "v.test", netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()); len(got) != 1 {
			t.Fatalf("query %d: answered %v", i, got)
		}
	}
	if n := len(e.LDNSEntries()); n != 3 {
		t.Fatalf("%d entries, want the bound 3", n)
	}
}

func TestRTTQueryDoesNotAllocate(t *testing.T) {
	e := engine(t, rttConf)
	setRTT(e, "198.51.100.7/32", "s2", 3)
	q := pack(t, dnsMsg("v.test", dns.TypeA))
	buf := make([]byte, 0, 512)
	client := netip.MustParseAddr("198.51.100.7")
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { e.ServeDNS(buf, q, dnsserver.Request{Src: client, Now: now}) }); n != 0 {
		t.Fatalf("RTT query: %v allocations, want 0", n)
	}
	if got := askFrom(t, e, "v.test", "198.51.100.7"); !slices.Equal(got, []string{"192.0.2.2"}) {
		t.Fatalf("answered %v", got)
	}
}
