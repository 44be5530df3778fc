package gslb

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/miekg/dns"
)

// staticShapesConf is testConf with every static shape: MX and SRV with
// addresses in the additional section, TXT, a CNAME chain within the
// zones and one leaving them, a CNAME to a GSLB name, wildcards (one
// with an MX), an empty non-terminal, nested delegations, a second zone.
const staticShapesConf = testConf + `add dns mxRec example.test -mx mail.example.test -pref 10
add dns addRec mail.example.test 192.0.2.25
add dns aaaaRec mail.example.test 2001:db8::25
add dns txtRec example.test "v=spf1 mx -all" "second string"
add dns srvRec _sip._udp.example.test mail.example.test -priority 1 -weight 5 -port 5060
add dns cnameRec c1.example.test c2.example.test
add dns cnameRec c2.example.test mail.example.test
add dns cnameRec out.example.test www.elsewhere.test
add dns cnameRec gslb.example.test app.example.test
add dns addRec *.wild2.example.test 192.0.2.56
add dns mxRec *.wild2.example.test -mx mail.example.test -pref 5
add dns addRec host.deep.ent.example.test 192.0.2.57
add dns nsRec deeper.sub.example.test ns.deeper.sub.example.test
add dns soaRec other.test -originServer ns1.other.test -contact h.other.test
add dns nsRec other.test ns1.other.test
add dns addRec ns1.other.test 192.0.2.60
add dns cnameRec x.other.test mail.example.test
add dns ptrRec 1.2.0.192.in-addr.arpa app.example.test
add dns soaRec 2.0.192.in-addr.arpa -originServer ns1.example.test -contact h.example.test
add gslb vserver one HTTP
bind gslb vserver one -serviceName a1
bind gslb vserver one -domainName one.example.test -TTL 7
add dns cnameRec www1.example.test one.example.test
add dns cnameRec w2.other.test www1.example.test
add dns cnameRec h.example.test hash.example.test
add dns cnameRec *.wc.example.test bar.wc.example.test
`

// TestStaticWireMatchesSlowPath: for every shape of static answer, the
// precomputed answer is the slow path's (miekg/dns and zone.Lookup),
// record for record, with and without EDNS and ECS, whatever the
// question's case; and the shapes the issue names are all precomputed.
// GSLB names (whose answers turn with each query) are left out of the
// comparison; the end checks that they are not precomputed.
func TestStaticWireMatchesSlowPath(t *testing.T) {
	e := engine(t, staticShapesConf)
	tb := e.table.Load()
	names := []string{"example.test", "ns1.example.test", "NS1.Example.TEST", "mail.example.test", "nope.example.test",
		"a.b.nope.example.test", "x.wild.example.test", "a.b.wild.example.test", "X.Wild2.Example.Test", "wild2.example.test",
		"ent.example.test", "deep.ent.example.test", "host.deep.ent.example.test", "nothere.deep.ent.example.test",
		"sub.example.test", "ns.sub.example.test", "a.b.sub.example.test", "x.deeper.sub.example.test",
		"c1.example.test", "c2.example.test", "out.example.test", "www1.example.test", "WWW1.example.TEST", "w2.other.test",
		"h.example.test", "one.example.test", "bar.wc.example.test", "foo.wc.example.test",
		"_sip._udp.example.test", "other.test", "x.other.test", "y.other.test", "1.2.0.192.in-addr.arpa",
		"9.2.0.192.in-addr.arpa", "elsewhere.test", "*.wild.example.test", "_explain.ns1.example.test"}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeCNAME,
		dns.TypeSRV, dns.TypePTR, dns.TypeCAA, dns.TypeDS, dns.TypeANY, dns.TypeHTTPS}
	precomputed := 0
	for _, name := range names {
		for _, qt := range types {
			for _, variant := range []string{"plain", "edns", "ecs"} {
				var m *dns.Msg
				switch variant {
				case "plain":
					m = dnsMsg(name, qt)
				case "edns":
					m = dnsMsg(name, qt)
					m.SetEdns0(1232, true)
				case "ecs":
					m = ecsQuery(name, "203.0.113.0/24")
					m.Question[0].Qtype = qt
				}
				m.RecursionDesired = true
				q := pack(t, m)
				req := dnsserver.Request{Src: netip.MustParseAddr("192.0.2.77"), Now: time.Now()}
				got := e.ServeDNS(make([]byte, 0, 4096), q, req)
				r := request{Request: req}
				want := tb.slow(make([]byte, 0, 4096), q, &r)
				if tb.wire.Answer([]byte(strings.ToLower(name)), qt) != nil && !strings.HasPrefix(name, "_explain") {
					precomputed++
				}
				if msg := sameReply(got, want); msg != "" {
					t.Errorf("%s %s (%s): %s", name, dns.TypeToString[qt], variant, msg)
				}
			}
		}
	}
	t.Logf("%d of %d questions answered from precomputed answers", precomputed, len(names)*len(types)*3)
	for _, c := range []struct {
		shape, name string
		qtype       uint16
	}{
		{"positive", "ns1.example.test", dns.TypeA},
		{"positive with additional addresses", "example.test", dns.TypeMX},
		{"NODATA", "ns1.example.test", dns.TypeMX},
		{"NODATA at an empty non-terminal", "deep.ent.example.test", dns.TypeA},
		{"NXDOMAIN", "nope.example.test", dns.TypeA},
		{"referral with glue", "a.b.sub.example.test", dns.TypeA},
		{"referral at the cut", "sub.example.test", dns.TypeA},
		{"CNAME chain", "c1.example.test", dns.TypeA},
		{"CNAME chain into another zone", "x.other.test", dns.TypeAAAA},
		{"CNAME out of the zones", "out.example.test", dns.TypeA},
		{"wildcard", "x.wild.example.test", dns.TypeA},
		{"wildcard MX", "a.wild2.example.test", dns.TypeMX},
		{"wildcard NODATA", "a.wild2.example.test", dns.TypeTXT},
	} {
		if tb.wire.Answer([]byte(c.name), c.qtype) == nil {
			t.Errorf("%s (%s %s) is not precomputed", c.shape, c.name, dns.TypeToString[c.qtype])
		}
	}
	// Static CNAME chains into GSLB names: the chain precomputed, the
	// GSLB answer after it.
	for _, name := range []string{"www1.example.test", "w2.other.test", "h.example.test", "www.example.test"} {
		if tb.wire.Chain([]byte(name)) == nil {
			t.Errorf("the chain from %s to its GSLB name is not precomputed", name)
		}
	}
	for _, c := range []struct {
		name  string
		qtype uint16
	}{{"app.example.test", dns.TypeMX}, {"gslb.example.test", dns.TypeA}, {"example.test", dns.TypeANY}, {"sub.example.test", dns.TypeDS}} {
		if tb.wire.Answer([]byte(c.name), c.qtype) != nil {
			t.Errorf("%s %s is precomputed: it changes with the GSLB choice or is a rare shape", c.name, dns.TypeToString[c.qtype])
		}
	}
}

// sameReply compares two responses record for record ("": the same).
func sameReply(got, want []byte) string {
	if (got == nil) != (want == nil) {
		return "one path replied and the other did not"
	}
	if got == nil {
		return ""
	}
	var g, w dns.Msg
	if err := g.Unpack(got); err != nil {
		return "the reply does not unpack: " + err.Error()
	}
	if err := w.Unpack(want); err != nil {
		return "the slow path's reply does not unpack: " + err.Error()
	}
	if g.MsgHdr != w.MsgHdr {
		return "header " + g.MsgHdr.String() + ", the slow path's " + w.MsgHdr.String()
	}
	sec := func(rrs []dns.RR) string {
		var b strings.Builder
		for _, rr := range rrs {
			b.WriteString(rr.String())
			b.WriteByte('\n')
		}
		return b.String()
	}
	for i, p := range [][2][]dns.RR{{g.Answer, w.Answer}, {g.Ns, w.Ns}, {g.Extra, w.Extra}} {
		if a, b := sec(p[0]), sec(p[1]); a != b {
			return []string{"answer", "authority", "additional"}[i] + ":\n" + a + "the slow path's:\n" + b
		}
	}
	if len(g.Question) != len(w.Question) || len(g.Question) > 0 && g.Question[0] != w.Question[0] {
		return "question differs"
	}
	return ""
}

// TestStaticWireFollowsChanges: a configuration with other zone data
// answers with it at once (the answers are compiled with the zones).
func TestStaticWireFollowsChanges(t *testing.T) {
	e := engine(t, staticShapesConf)
	ask := func() *dns.Msg {
		var m dns.Msg
		b := e.ServeDNS(make([]byte, 0, 512), pack(t, dnsMsg("new.example.test", dns.TypeA)), dnsserver.Request{Src: netip.MustParseAddr("192.0.2.77"), Now: time.Now()})
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	if r := ask(); r.Rcode != dns.RcodeNameError {
		t.Fatalf("before: %v", r)
	}
	e.Load(snapshot(t, staticShapesConf+"add dns addRec new.example.test 192.0.2.99\n"))
	if r := ask(); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.99" {
		t.Fatalf("after the record was added: %v", r)
	}
}
