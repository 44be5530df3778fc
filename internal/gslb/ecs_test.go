package gslb

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// ecsConf: rr answers in turn (client-agnostic), hash by source-IP hash
// with -ECS (netmask /32), plain the same without -ECS, valid with
// -ecsAddrValidation, pers with source-IP persistence and -ECS.
const ecsConf = `add gslb site s1 10.1.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s1
add gslb service c 192.0.2.3 HTTP 80 -siteName s1
add gslb service d 192.0.2.4 HTTP 80 -siteName s1
add gslb vserver rr HTTP -lbMethod ROUNDROBIN
add gslb vserver hash HTTP -lbMethod SOURCEIPHASH -ECS ENABLED
add gslb vserver plain HTTP -lbMethod SOURCEIPHASH
add gslb vserver valid HTTP -lbMethod SOURCEIPHASH -ECS ENABLED -ecsAddrValidation ENABLED
add gslb vserver pers HTTP -lbMethod ROUNDROBIN -ECS ENABLED -persistenceType SOURCEIP -persistenceId 7 -persistMask 255.255.0.0
`

func ecsEngine(t *testing.T) *Engine {
	conf := ecsConf
	for _, v := range []string{"rr", "hash", "plain", "valid", "pers"} {
		for _, s := range []string{"a", "b", "c", "d"} {
			conf += "bind gslb vserver " + v + " -serviceName " + s + "\n"
		}
		conf += "bind gslb vserver " + v + " -domainName " + v + ".test -TTL 5\n"
	}
	conf += "add dns soaRec test -originServer ns1.test -contact h.test\nadd dns addRec ns1.test 192.0.2.53\n"
	return engine(t, conf)
}

// ecsQuery is an A query with an ECS option for subnet.
func ecsQuery(name, subnet string) *dns.Msg {
	m := dnsMsg(name, dns.TypeA)
	m.SetEdns0(1232, false)
	p := netip.MustParsePrefix(subnet)
	fam := uint16(1)
	if p.Addr().Is6() {
		fam = 2
	}
	m.Extra[0].(*dns.OPT).Option = append(m.Extra[0].(*dns.OPT).Option,
		&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().AsSlice())})
	return m
}

// serveFrom answers b from src and returns the reply, its answer and its
// ECS option (nil: none).
func serveFrom(t *testing.T, e *Engine, b []byte, src string) (*dns.Msg, string, *dns.EDNS0_SUBNET) {
	t.Helper()
	out := e.ServeDNS(make([]byte, 0, 1232), b, dnsserver.Request{Src: netip.MustParseAddr(src), Now: time.Now()})
	m := new(dns.Msg)
	if err := m.Unpack(out); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	var ecs *dns.EDNS0_SUBNET
	if o := m.IsEdns0(); o != nil {
		for _, x := range o.Option {
			if s, ok := x.(*dns.EDNS0_SUBNET); ok {
				ecs = s
			}
		}
	}
	a := ""
	if addrs := dnstest.Addrs(m); len(addrs) > 0 {
		a = addrs[0]
	}
	return m, a, ecs
}

// TestECSDecidesAndScopes: with -ECS the client subnet replaces the
// source in the hash and in persistence, and the answer's ECS option
// says at which prefix it was decided; answers that do not depend on the
// client carry scope 0; without -ECS, or with a private subnet under
// -ecsAddrValidation, the source decides and the scope is 0. Over the
// fast path and the slow path (a name in upper case) alike.
func TestECSDecidesAndScopes(t *testing.T) {
	e := ecsEngine(t)
	const resolver = "198.51.100.53"
	// The hash answer for a client asking directly from an address.
	direct := func(name, src string) string {
		_, a, _ := serveFrom(t, e, pack(t, dnsMsg(name, dns.TypeA)), src)
		return a
	}
	for _, name := range []string{"hash.test", "HASH.test"} {
		differ := false
		for i := range 16 {
			sub := netip.AddrFrom4([4]byte{203, 0, byte(i), 0})
			m, got, opt := serveFrom(t, e, pack(t, ecsQuery(name, sub.String()+"/24")), resolver)
			if m.Rcode != dns.RcodeSuccess || opt == nil || opt.SourceScope != 24 || opt.SourceNetmask != 24 || !opt.Address.Equal(net.IP(sub.AsSlice())) {
				t.Fatalf("%s from %v/24: rcode %d, ECS %v; want the option back with scope 24", name, sub, m.Rcode, opt)
			}
			if want := direct("hash.test", sub.String()); got != want {
				t.Fatalf("%s from %v/24: %s, want the hash of the subnet %s", name, sub, got, want)
			}
			differ = differ || got != direct("hash.test", resolver)
		}
		if !differ {
			t.Fatalf("%s: every subnet got the resolver's answer", name)
		}
	}
	// IPv6: scope clipped to the source (/56 < -v6netmasklen 128).
	if _, _, opt := serveFrom(t, e, pack(t, ecsQuery("hash.test", "2001:db8:1:200::/56")), resolver); opt == nil || opt.SourceScope != 56 || opt.Family != 2 {
		t.Fatalf("v6 ECS %v, want scope 56", opt)
	}
	// Client-agnostic answers: scope 0, the rest of the option as sent.
	for _, tc := range []struct{ name, why string }{{"rr.test", "round robin"}, {"ns1.test", "a static record"}, {"nx.test", "NXDOMAIN"}, {"plain.test", "no -ECS"}} {
		_, _, opt := serveFrom(t, e, pack(t, ecsQuery(tc.name, "203.0.113.0/24")), resolver)
		if opt == nil || opt.SourceScope != 0 || opt.SourceNetmask != 24 || opt.Family != 1 || !opt.Address.Equal(net.ParseIP("203.0.113.0")) {
			t.Errorf("%s (%s): ECS %v, want 203.0.113.0/24 scope 0", tc.name, tc.why, opt)
		}
	}
	if _, got, _ := serveFrom(t, e, pack(t, ecsQuery("plain.test", "203.0.113.0/24")), resolver); got != direct("plain.test", resolver) {
		t.Errorf("without -ECS the subnet decided: %s", got)
	}
	// -ecsAddrValidation: a private subnet is not used.
	_, got, opt := serveFrom(t, e, pack(t, ecsQuery("valid.test", "10.1.2.0/24")), resolver)
	if got != direct("valid.test", resolver) || opt == nil || opt.SourceScope != 0 {
		t.Errorf("private subnet under -ecsAddrValidation: %s, ECS %v; want the resolver's answer at scope 0", got, opt)
	}
	if _, _, opt := serveFrom(t, e, pack(t, ecsQuery("valid.test", "203.0.113.0/24")), resolver); opt == nil || opt.SourceScope != 24 {
		t.Errorf("public subnet under -ecsAddrValidation: ECS %v, want scope 24", opt)
	}
	// Persistence keys on the subnet as sent (the mask is ignored): one
	// subnet keeps its service, and the scope is its source length.
	_, first, opt := serveFrom(t, e, pack(t, ecsQuery("pers.test", "203.0.113.0/24")), resolver)
	if opt == nil || opt.SourceScope != 24 {
		t.Fatalf("persistence: ECS %v, want scope 24", opt)
	}
	for range 5 {
		if _, got, _ := serveFrom(t, e, pack(t, ecsQuery("pers.test", "203.0.113.0/24")), "192.0.2.200"); got != first {
			t.Fatalf("persistence: the subnet moved from %s to %s", first, got)
		}
	}
	// Without ECS: no option in the answer.
	q := dnsMsg("rr.test", dns.TypeA)
	q.SetEdns0(1232, false)
	if _, _, opt := serveFrom(t, e, pack(t, q), resolver); opt != nil {
		t.Errorf("query without ECS answered with %v", opt)
	}
}

// TestECSMalformed: a malformed ECS option (RFC 7871 §6: bits past the
// source prefix, an address longer or shorter than it needs, an unknown
// family, a prefix longer than the family's, two ECS options) is
// answered FORMERR; a zero-length source (a client opting out) is
// answered, with the option back at scope 0.
func TestECSMalformed(t *testing.T) {
	e := ecsEngine(t)
	raw := func(data []byte, times int) []byte {
		m := dnsMsg("hash.test", dns.TypeA)
		m.SetEdns0(1232, false)
		for range times {
			m.Extra[0].(*dns.OPT).Option = append(m.Extra[0].(*dns.OPT).Option, &dns.EDNS0_LOCAL{Code: optECS, Data: data})
		}
		return pack(t, m)
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		times int
	}{
		{"bits past the source", []byte{0, 1, 23, 0, 203, 0, 113}, 1},
		{"address too long", []byte{0, 1, 24, 0, 203, 0, 113, 0}, 1},
		{"address too short", []byte{0, 1, 24, 0, 203, 0}, 1},
		{"family 3", []byte{0, 3, 8, 0, 1}, 1},
		{"v4 /33", []byte{0, 1, 33, 0, 1, 2, 3, 4, 5}, 1},
		{"too short for a header", []byte{0, 1, 0}, 1},
		{"twice", []byte{0, 1, 24, 0, 203, 0, 113}, 2},
	} {
		m, _, _ := serveFrom(t, e, raw(tc.data, tc.times), "198.51.100.53")
		if m.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: rcode %s, want FORMERR", tc.name, dns.RcodeToString[m.Rcode])
		}
	}
	for _, data := range [][]byte{{0, 0, 0, 0}, {0, 1, 0, 0}} {
		m, a, opt := serveFrom(t, e, raw(data, 1), "198.51.100.53")
		if m.Rcode != dns.RcodeSuccess || a == "" || opt == nil || opt.SourceScope != 0 || opt.SourceNetmask != 0 || opt.Family != uint16(data[1]) {
			t.Errorf("source /0 family %d: rcode %d, ECS %v", data[1], m.Rcode, opt)
		}
	}
	// The wire bytes of a fast-path answer: the option as sent, scope 24.
	b := raw([]byte{0, 1, 24, 0, 203, 0, 113}, 1)
	out := e.ServeDNS(nil, b, dnsserver.Request{Src: netip.MustParseAddr("198.51.100.53"), Now: time.Now()})
	tail := out[len(out)-11:]
	if binary.BigEndian.Uint16(tail) != optECS || binary.BigEndian.Uint16(tail[2:]) != 7 || string(tail[4:]) != string([]byte{0, 1, 24, 24, 203, 0, 113}) {
		t.Errorf("ECS option bytes % x", tail)
	}
}

func TestECSQueryDoesNotAllocate(t *testing.T) {
	e := ecsEngine(t)
	for _, name := range []string{"hash.test", "pers.test", "rr.test"} {
		q := pack(t, ecsQuery(name, "203.0.113.0/24"))
		buf := make([]byte, 0, 1232)
		req := dnsserver.Request{Src: netip.MustParseAddr("198.51.100.53"), Now: time.Now()}
		if n := testing.AllocsPerRun(1000, func() { e.ServeDNS(buf, q, req) }); n != 0 {
			t.Errorf("%s with ECS: %v allocations, want 0", name, n)
		}
	}
}
