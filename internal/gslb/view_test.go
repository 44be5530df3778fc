package gslb

import (
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// viewConf: split horizon over two services. Clients in 10/8 are in
// view "inside" (both services at their private addresses); clients in
// 10.9/16 asking over TCP, or any client asking on the lab listener
// 192.0.2.54, are in "lab": the first binding puts 10.9/16 inside with
// NEXT, so that the lab policy after it still decides; service b has no
// lab address and answers its own there.
const viewConf = `add gslb site s1 10.0.0.1
add gslb service a 203.0.113.10 HTTP 80 -siteName s1
add gslb service b 198.51.100.10 HTTP 80 -siteName s1
add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -domainName v.test -TTL 5
add gslb vserver m HTTP -lbMethod ROUNDROBIN -MIR ENABLED
bind gslb vserver m -serviceName a
bind gslb vserver m -serviceName b
bind gslb vserver m -domainName m.test -TTL 5
add dns cnameRec alias.test v.test
add dns soaRec test -originServer ns1.test -contact h.test
add dns view inside
add dns view lab
add dns action act_inside ViewName -viewName inside
add dns policy p_inside "CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)" act_inside
add dns policy p_lab "(CLIENT.IP.SRC.IN_SUBNET(10.9.0.0/16) && DNS.REQ.TRANSPORT.EQ(TCP)) || CLIENT.IP.DST.EQ(192.0.2.54)" -viewName lab
add dns policy p_count "CLIENT.IP.SRC.IN_SUBNET(10.9.0.0/16)" -viewName inside
bind dns global p_count 10 -gotoPriorityExpression NEXT
bind dns global p_lab 20 -gotoPriorityExpression END
bind dns global p_inside 30
bind gslb service a -viewName inside 10.1.0.10
bind gslb service b -viewName inside 10.2.0.10
bind gslb service a -viewName lab 10.9.0.10
`

func askView(t *testing.T, e *Engine, name string, qtype uint16, src, local string, tcp bool) []string {
	t.Helper()
	r := e.ServeDNS(make([]byte, 0, 512), pack(t, dnsMsg(name, qtype)), dnsserver.Request{Src: netip.MustParseAddr(src),
		Local: netip.MustParseAddr(local), TCP: tcp, Now: time.Now()})
	m := new(dns.Msg)
	if err := m.Unpack(r); err != nil {
		t.Fatal(err)
	}
	return dnstest.Addrs(m)
}

// answersOf asks n times and returns every address answered, sorted.
func answersOf(t *testing.T, e *Engine, name, src, local string, tcp bool) string {
	t.Helper()
	var out []string
	for range 6 {
		for _, a := range askView(t, e, name, dns.TypeA, src, local, tcp) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestDNSViews: a client a view policy puts in a view is answered each
// service's address in that view (its own where it has none), by the
// same method; policies are evaluated in priority order, on the source,
// the local address, the transport and the question; a static CNAME to
// a GSLB name is answered in the view of the question; MIR and the
// all-down answer follow the view.
func TestDNSViews(t *testing.T) {
	e := engine(t, viewConf)
	const pub, lab = "192.0.2.53", "192.0.2.54"
	for _, tc := range []struct {
		why, name, src, local string
		tcp                   bool
		want                  string
	}{
		{"outside", "v.test", "198.18.0.1", pub, false, "198.51.100.10 203.0.113.10"},
		{"inside by source", "v.test", "10.1.2.3", pub, false, "10.1.0.10 10.2.0.10"},
		{"inside over TCP", "v.test", "10.1.2.3", pub, true, "10.1.0.10 10.2.0.10"},
		{"lab needs TCP from 10.9/16", "v.test", "10.9.0.5", pub, false, "10.1.0.10 10.2.0.10"},
		{"lab over TCP: b has no lab address", "v.test", "10.9.0.5", pub, true, "10.9.0.10 198.51.100.10"},
		{"lab by the listener address", "v.test", "198.18.0.1", lab, false, "10.9.0.10 198.51.100.10"},
		{"MIR inside", "m.test", "10.1.2.3", pub, false, "10.1.0.10 10.2.0.10"},
		{"a CNAME to the GSLB name (slow path)", "alias.test", "10.1.2.3", pub, false, "10.1.0.10 10.2.0.10 v.test."},
	} {
		if got := answersOf(t, e, tc.name, tc.src, tc.local, tc.tcp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.why, got, tc.want)
		}
	}
	if got := askView(t, e, "m.test", dns.TypeA, "10.1.2.3", pub, false); len(got) != 2 {
		t.Errorf("MIR inside answers %v, want both view addresses", got)
	}
	for _, s := range []string{"a", "b"} {
		e.Report(health.Report{Service: s, State: health.Down})
	}
	if got := answersOf(t, e, "v.test", "10.1.2.3", pub, false); got != "10.1.0.10 10.2.0.10" {
		t.Errorf("all down, inside: %s, want every service at its inside address", got)
	}
	if got := answersOf(t, e, "v.test", "198.18.0.1", pub, false); got != "198.51.100.10 203.0.113.10" {
		t.Errorf("all down, outside: %s", got)
	}
}

// TestViewQueryDoesNotAllocate: evaluating the view policies and
// answering in a view costs no allocation on the fast path.
func TestViewQueryDoesNotAllocate(t *testing.T) {
	e := engine(t, viewConf)
	q := pack(t, dnsMsg("v.test", dns.TypeA))
	buf := make([]byte, 0, 512)
	for _, src := range []string{"10.1.2.3", "198.18.0.1"} {
		req := dnsserver.Request{Src: netip.MustParseAddr(src), Local: netip.MustParseAddr("192.0.2.53"), Now: time.Now()}
		if n := testing.AllocsPerRun(1000, func() { e.ServeDNS(buf, q, req) }); n != 0 {
			t.Errorf("from %s: %v allocations, want 0", src, n)
		}
	}
}

// TestDNSViewsAsDocumented: docs/proximity.md's DNS view example answers
// as the page says.
func TestDNSViewsAsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/proximity.md")
	if err != nil {
		t.Fatal(err)
	}
	var conf string
	for _, m := range regexp.MustCompile("(?s)```ns.conf\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "add dns view inside") {
			conf = m[1]
		}
	}
	if conf == "" {
		t.Fatal("docs/proximity.md lost its DNS view example")
	}
	e := engine(t, conf)
	for _, tc := range []struct{ name, src, local, want string }{
		{"www.gslb.example.com", "10.20.30.40", "192.0.2.53", "10.1.0.10 10.2.0.10"},
		{"www.gslb.example.com", "198.18.0.1", "192.0.2.54", "10.9.0.10 198.51.100.10"},
		{"www.gslb.example.com", "10.20.30.40", "192.0.2.54", "10.9.0.10 198.51.100.10"},
		{"www.gslb.example.com", "198.18.0.1", "192.0.2.53", "198.51.100.10 203.0.113.10"},
	} {
		if got := answersOf(t, e, tc.name, tc.src, tc.local, false); got != tc.want {
			t.Errorf("%s from %s to %s: %s, want %s", tc.name, tc.src, tc.local, got, tc.want)
		}
	}
}
