package gslb

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// listen serves e on 127.0.0.1 (a free port, UDP and TCP) until the test
// ends and returns the address of each transport.
func listen(t *testing.T, e *Engine) map[dnstest.Proto]string {
	t.Helper()
	// One UDP worker: datagrams are answered in the order they came
	// (dnstest.NoReplyUDP relies on it).
	s := dnsserver.New(e, dnsserver.Options{UDPWorkers: 1})
	u, err := s.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return map[dnstest.Proto]string{dnstest.UDP: u.LocalAddr().String(), dnstest.TCP: l.Addr().String()}
}

// rawExchange sends q over proto and returns the reply as it came (its
// size is the size on the wire) and parsed, with counts that match.
func rawExchange(t *testing.T, proto dnstest.Proto, addr string, q *dns.Msg) ([]byte, *dns.Msg) {
	t.Helper()
	b := pack(t, q)
	var raw []byte
	if proto == dnstest.UDP {
		raw = dnstest.RawUDP(t, addr, b, 3*time.Second)
	} else {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
			t.Fatal(err)
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		raw = make([]byte, int(l[0])<<8|int(l[1]))
		if _, err := io.ReadFull(c, raw); err != nil {
			t.Fatal(err)
		}
	}
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		t.Fatalf("%s reply %x: %v", proto, raw, err)
	}
	// miekg/dns forgives a count larger than the records that follow.
	if len(raw) < 12 || int(raw[6])<<8|int(raw[7]) != len(m.Answer) || int(raw[8])<<8|int(raw[9]) != len(m.Ns) ||
		int(raw[10])<<8|int(raw[11]) != len(m.Extra) {
		t.Fatalf("%s reply header counts %x, sections %d %d %d", proto, raw[6:12], len(m.Answer), len(m.Ns), len(m.Extra))
	}
	return raw, m
}

// ask is rawExchange for the reply alone.
func ask(t *testing.T, proto dnstest.Proto, addr string, q *dns.Msg) *dns.Msg {
	t.Helper()
	_, m := rawExchange(t, proto, addr, q)
	return m
}

// reply is what a test expects of a response: the rcode, the AA and TC
// bits, and each section as sorted zone lines (dnstest.Section).
type reply struct {
	rcode  int
	aa, tc bool
	answer string
	ns     string
	extra  string
}

func replyOf(m *dns.Msg) reply {
	return reply{rcode: m.Rcode, aa: m.Authoritative, tc: m.Truncated,
		answer: dnstest.Section(m.Answer), ns: dnstest.Section(m.Ns), extra: dnstest.Section(m.Extra)}
}

func (r reply) String() string {
	return fmt.Sprintf("%s aa=%v tc=%v\nANSWER:\n%s\nAUTHORITY:\n%s\nADDITIONAL:\n%s", dns.RcodeToString[r.rcode], r.aa, r.tc, r.answer, r.ns, r.extra)
}

// zonesConf serves static data of every kind next to a GSLB domain. The
// SOA's TTL (300) is below its MINIMUM (600): negative answers carry 300
// (RFC 2308 §5).
const zonesConf = `add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
bind gslb vserver gv -serviceName a1
bind gslb vserver gv -domainName app.example.test -TTL 5
add dns soaRec example.test -originServer ns1.example.test -contact hostmaster.example.test -serial 7 -minimum 600 -TTL 300
add dns nsRec example.test ns1.example.test
add dns addRec ns1.example.test 192.0.2.53
add dns addRec host.example.test 192.0.2.10
add dns aaaaRec host.example.test 2001:db8::10
add dns txtRec host.example.test "hello"
add dns mxRec example.test -mx mail.example.test -pref 10
add dns mxRec example.test -mx mx.elsewhere.net -pref 20
add dns mxRec example.test -mx app.example.test -pref 30
add dns addRec mail.example.test 192.0.2.25
add dns srvRec _sip._udp.example.test sip.example.test -priority 1 -weight 2 -port 5060
add dns addRec sip.example.test 192.0.2.26
add dns addRec deep.ent.example.test 192.0.2.30
add dns addRec *.wild.example.test 192.0.2.54
add dns nsRec sub.example.test ns.sub.example.test
add dns nsRec sub.example.test ns.elsewhere.test
add dns addRec ns.sub.example.test 192.0.2.55
add dns cnameRec www.example.test app.example.test
add dns cnameRec alias.example.test host.example.test
add dns cnameRec out.example.test target.elsewhere.net
add dns cnameRec todeleg.example.test x.sub.example.test
add dns cnameRec c1.example.test c2.example.test
add dns cnameRec c2.example.test c3.example.test
add dns cnameRec c3.example.test c4.example.test
add dns cnameRec c4.example.test c5.example.test
add dns cnameRec c5.example.test c6.example.test
add dns cnameRec c6.example.test c7.example.test
add dns cnameRec c7.example.test c8.example.test
add dns cnameRec c8.example.test host.example.test
add dns cnameRec d1.example.test c1.example.test
`

const (
	soaLine = "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 7 3600 3 3600 600"
	subNS   = "sub.example.test. 3600 IN NS ns.elsewhere.test.\nsub.example.test. 3600 IN NS ns.sub.example.test."
	subGlue = "ns.sub.example.test. 3600 IN A 192.0.2.55"
	hostA   = "host.example.test. 3600 IN A 192.0.2.10"
	chain7  = "c1.example.test. 3600 IN CNAME c2.example.test.\nc2.example.test. 3600 IN CNAME c3.example.test.\n" +
		"c3.example.test. 3600 IN CNAME c4.example.test.\nc4.example.test. 3600 IN CNAME c5.example.test.\n" +
		"c5.example.test. 3600 IN CNAME c6.example.test.\nc6.example.test. 3600 IN CNAME c7.example.test.\n" +
		"c7.example.test. 3600 IN CNAME c8.example.test."
)

// TestStaticAnswers: the RFC 1034 §4.3.2 lookup over the static data,
// over UDP and TCP, one case per query.
func TestStaticAnswers(t *testing.T) {
	addrs := listen(t, engine(t, zonesConf))
	for _, tc := range []struct {
		name  string
		qname string
		qtype uint16
		want  reply
	}{
		{"address", "host.example.test", dns.TypeA, reply{aa: true, answer: hostA}},
		{"case kept", "HOST.Example.test", dns.TypeAAAA, reply{aa: true, answer: "HOST.Example.test. 3600 IN AAAA 2001:db8::10"}},
		{"txt", "host.example.test", dns.TypeTXT, reply{aa: true, answer: `host.example.test. 3600 IN TXT "hello"`}},
		{"nodata", "host.example.test", dns.TypeMX, reply{aa: true, ns: soaLine}},
		// RFC 8482 §4.2: one RRset, the lowest type (A before AAAA, TXT).
		{"any", "host.example.test", dns.TypeANY, reply{aa: true, answer: hostA}},
		{"nxdomain", "nope.example.test", dns.TypeA, reply{rcode: dns.RcodeNameError, aa: true, ns: soaLine}},
		{"below an existing name", "x.host.example.test", dns.TypeA, reply{rcode: dns.RcodeNameError, aa: true, ns: soaLine}},
		{"empty non-terminal", "ent.example.test", dns.TypeA, reply{aa: true, ns: soaLine}},
		{"wildcard", "x.wild.example.test", dns.TypeA, reply{aa: true, answer: "x.wild.example.test. 3600 IN A 192.0.2.54"}},
		// RFC 4592 §3.3.1: the closest encloser of a.b.wild is wild (an
		// empty non-terminal), so *.wild answers.
		{"wildcard two below", "a.b.wild.example.test", dns.TypeA, reply{aa: true, answer: "a.b.wild.example.test. 3600 IN A 192.0.2.54"}},
		{"wildcard nodata", "x.wild.example.test", dns.TypeTXT, reply{aa: true, ns: soaLine}},
		{"wildcard owner itself", "*.wild.example.test", dns.TypeA, reply{aa: true, answer: "*.wild.example.test. 3600 IN A 192.0.2.54"}},
		{"referral at the cut", "sub.example.test", dns.TypeA, reply{ns: subNS, extra: subGlue}},
		{"referral below the cut", "x.sub.example.test", dns.TypeA, reply{ns: subNS, extra: subGlue}},
		{"referral for NS at the cut", "sub.example.test", dns.TypeNS, reply{ns: subNS, extra: subGlue}},
		// RFC 4035 §3.1.4.1: DS at the cut is the parent's data.
		{"DS at the cut", "sub.example.test", dns.TypeDS, reply{aa: true, ns: soaLine}},
		{"DS below the cut", "x.sub.example.test", dns.TypeDS, reply{ns: subNS, extra: subGlue}},
		// Addresses for targets served here, none for a GSLB domain's.
		{"MX with its address", "example.test", dns.TypeMX, reply{aa: true, answer: "example.test. 3600 IN MX 10 mail.example.test.\n" +
			"example.test. 3600 IN MX 20 mx.elsewhere.net.\nexample.test. 3600 IN MX 30 app.example.test.",
			extra: "mail.example.test. 3600 IN A 192.0.2.25"}},
		{"SRV with its address", "_sip._udp.example.test", dns.TypeSRV, reply{aa: true,
			answer: "_sip._udp.example.test. 3600 IN SRV 1 2 5060 sip.example.test.", extra: "sip.example.test. 3600 IN A 192.0.2.26"}},
		{"NS with its address", "example.test", dns.TypeNS, reply{aa: true, answer: "example.test. 3600 IN NS ns1.example.test.",
			extra: "ns1.example.test. 3600 IN A 192.0.2.53"}},
		{"SOA", "example.test", dns.TypeSOA, reply{aa: true, answer: soaLine}},
		{"CNAME chased", "alias.example.test", dns.TypeA, reply{aa: true, answer: "alias.example.test. 3600 IN CNAME host.example.test.\n" + hostA}},
		{"CNAME asked for", "alias.example.test", dns.TypeCNAME, reply{aa: true, answer: "alias.example.test. 3600 IN CNAME host.example.test."}},
		{"CNAME to a GSLB domain", "www.example.test", dns.TypeA, reply{aa: true,
			answer: "app.example.test. 5 IN A 192.0.2.1\nwww.example.test. 3600 IN CNAME app.example.test."}},
		// The question's spelling is kept for its own owner only.
		{"CNAME to a GSLB domain, case kept", "WWW.Example.test", dns.TypeA, reply{aa: true,
			answer: "WWW.Example.test. 3600 IN CNAME app.example.test.\napp.example.test. 5 IN A 192.0.2.1"}},
		{"CNAME to a GSLB domain, nodata", "www.example.test", dns.TypeTXT, reply{aa: true,
			answer: "www.example.test. 3600 IN CNAME app.example.test.", ns: soaLine}},
		{"CNAME out of the zones", "out.example.test", dns.TypeA, reply{aa: true, answer: "out.example.test. 3600 IN CNAME target.elsewhere.net."}},
		// After a CNAME, a referral keeps AA for the answer part.
		{"CNAME into a delegation", "todeleg.example.test", dns.TypeA, reply{aa: true,
			answer: "todeleg.example.test. 3600 IN CNAME x.sub.example.test.", ns: subNS, extra: subGlue}},
		// Eight CNAMEs are followed to the address; a ninth is one too many
		// (maxChain).
		{"chain of eight", "c1.example.test", dns.TypeA, reply{aa: true,
			answer: chain7 + "\nc8.example.test. 3600 IN CNAME host.example.test.\n" + hostA}},
		{"chain of nine", "d1.example.test", dns.TypeA, reply{aa: true,
			answer: chain7 + "\nc8.example.test. 3600 IN CNAME host.example.test.\nd1.example.test. 3600 IN CNAME c1.example.test."}},
		{"outside the zones", "example.org", dns.TypeA, reply{rcode: dns.RcodeRefused}},
		{"zone transfer", "example.test", dns.TypeAXFR, reply{rcode: dns.RcodeRefused}},
		{"incremental transfer", "example.test", dns.TypeIXFR, reply{rcode: dns.RcodeRefused}},
		{"GSLB domain", "app.example.test", dns.TypeA, reply{aa: true, answer: "app.example.test. 5 IN A 192.0.2.1"}},
		{"GSLB domain nodata", "app.example.test", dns.TypeAAAA, reply{aa: true, ns: soaLine}},
		{"GSLB domain other type", "app.example.test", dns.TypeTXT, reply{aa: true, ns: soaLine}},
	} {
		for _, proto := range dnstest.Protos {
			t.Run(tc.name+"/"+string(proto), func(t *testing.T) {
				r := ask(t, proto, addrs[proto], dnstest.Msg(tc.qname, tc.qtype))
				if got := replyOf(r); got != tc.want {
					t.Errorf("%s %s: got\n%v\nwant\n%v", tc.qname, dns.TypeToString[tc.qtype], got, tc.want)
				}
				if len(r.Question) != 1 || r.Question[0].Name != dns.Fqdn(tc.qname) || r.Question[0].Qtype != tc.qtype {
					t.Errorf("question section %v, want the query's", r.Question)
				}
			})
		}
	}
}

// TestQueryClasses: CHAOS and other classes are refused; ANY is served as IN.
func TestQueryClasses(t *testing.T) {
	addrs := listen(t, engine(t, zonesConf))
	for _, tc := range []struct {
		name  string
		class uint16
		want  reply
	}{
		{"CH", dns.ClassCHAOS, reply{rcode: dns.RcodeRefused}},
		{"HS", dns.ClassHESIOD, reply{rcode: dns.RcodeRefused}},
		{"ANY", dns.ClassANY, reply{aa: true, answer: hostA}},
	} {
		for _, proto := range dnstest.Protos {
			t.Run(tc.name+"/"+string(proto), func(t *testing.T) {
				q := dnstest.Msg("host.example.test", dns.TypeA)
				q.Question[0].Qclass = tc.class
				if got := replyOf(ask(t, proto, addrs[proto], q)); got != tc.want {
					t.Errorf("got\n%v\nwant\n%v", got, tc.want)
				}
			})
		}
	}
}
