package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

const rfcConf = `
add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service svc1 192.0.2.1 HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
bind gslb vserver gv -serviceName svc1
bind gslb vserver gv -domainName app.example.test -TTL 7
bind gslb vserver gv -domainName other.gslb.test -TTL 9
add dns zone example.test -proxyMode NO
add dns soaRec example.test -originServer ns1.example.test -contact hostmaster.example.test -serial 7 -minimum 60 -TTL 300
add dns nsRec example.test ns1.example.test
add dns nsRec example.test ns2.example.test
add dns addRec ns1.example.test 192.0.2.53
add dns cnameRec www.example.test alias.example.test
add dns cnameRec alias.example.test app.example.test
add dns cnameRec ext.example.test target.elsewhere.test
add dns addRec *.wild.example.test 192.0.2.77
add dns addRec deep.ent.example.test 192.0.2.78
add dns nsRec sub.example.test ns.sub.example.test
add dns addRec ns.sub.example.test 192.0.2.54
add dns mxRec example.test -mx mail.example.test -pref 10
add dns addRec mail.example.test 192.0.2.25
add dns txtRec example.test "hello" "world"
add dns aaaaRec v6.example.test 2001:db8::1
add dns soaRec short.test -originServer ns1.short.test -contact hostmaster.short.test -serial 3 -minimum 600 -TTL 30
add dns addRec host.short.test 192.0.2.60
bind gslb vserver gv -domainName app.short.test -TTL 7
`

// mirConf adds a MIR vserver whose answer (20 AAAA records) exceeds 512
// bytes, for truncation tests.
func mirConf() string {
	var b strings.Builder
	b.WriteString(rfcConf)
	b.WriteString("add gslb vserver gv_mir HTTP -dnsRecordType AAAA -lbMethod ROUNDROBIN -MIR ENABLED\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "add gslb service m%d 2001:db8::%x HTTP 80 -siteName s1\n", i, i)
		fmt.Fprintf(&b, "bind gslb vserver gv_mir -serviceName m%d\n", i)
	}
	b.WriteString("bind gslb vserver gv_mir -domainName many.example.test -TTL 5\n")
	// Ten AAAA records: about 330 bytes, more than 100 and less than 512.
	b.WriteString("add gslb vserver gv_ten HTTP -dnsRecordType AAAA -lbMethod ROUNDROBIN -MIR ENABLED\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "bind gslb vserver gv_ten -serviceName m%d\n", i)
	}
	b.WriteString("bind gslb vserver gv_ten -domainName ten.example.test -TTL 5\n")
	// A static RRset of 30 A records (the appliance stops at 25).
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "add dns addRec big.example.test 192.0.2.%d\n", 100+i)
	}
	return b.String()
}

func TestRFCBehaviour(t *testing.T) {
	d := start(t, mirConf())
	soa := "example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 7 3600 3 3600 60"
	shortSOA := "short.test. 30 IN SOA ns1.short.test. hostmaster.short.test. 3 3600 3 3600 600"
	cases := []struct {
		name      string
		msg       *dns.Msg
		rcode     int
		aa        bool
		answer    string
		ns        string
		extra     string
		skipExtra bool
	}{
		{name: "gslb answer is authoritative", msg: dnstest.Msg("app.example.test", dns.TypeA), aa: true,
			answer: "app.example.test. 7 IN A 192.0.2.1"},
		{name: "gslb NODATA for other family", msg: dnstest.Msg("app.example.test", dns.TypeAAAA), aa: true, ns: soa},
		{name: "static A", msg: dnstest.Msg("ns1.example.test", dns.TypeA), aa: true,
			answer: "ns1.example.test. 3600 IN A 192.0.2.53"},
		{name: "NXDOMAIN with SOA and negative TTL", msg: dnstest.Msg("nope.example.test", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, ns: soa},
		{name: "NODATA with SOA", msg: dnstest.Msg("ns1.example.test", dns.TypeMX), aa: true, ns: soa},
		// RFC 2308 §5: the negative TTL is the smaller of the SOA's TTL and
		// MINIMUM; here the TTL is (above, MINIMUM is).
		{name: "NXDOMAIN: SOA TTL below MINIMUM", msg: dnstest.Msg("nope.short.test", dns.TypeA),
			rcode: dns.RcodeNameError, aa: true, ns: shortSOA},
		{name: "NODATA: SOA TTL below MINIMUM", msg: dnstest.Msg("host.short.test", dns.TypeAAAA), aa: true, ns: shortSOA},
		{name: "GSLB NODATA: SOA TTL below MINIMUM", msg: dnstest.Msg("app.short.test", dns.TypeAAAA), aa: true, ns: shortSOA},
		{name: "CNAME chain inside the zone into a GSLB name", msg: dnstest.Msg("www.example.test", dns.TypeA), aa: true,
			answer: "alias.example.test. 3600 IN CNAME app.example.test.\napp.example.test. 7 IN A 192.0.2.1\nwww.example.test. 3600 IN CNAME alias.example.test."},
		{name: "CNAME out of served zones", msg: dnstest.Msg("ext.example.test", dns.TypeA), aa: true,
			answer: "ext.example.test. 3600 IN CNAME target.elsewhere.test."},
		{name: "CNAME query returns the CNAME", msg: dnstest.Msg("www.example.test", dns.TypeCNAME), aa: true,
			answer: "www.example.test. 3600 IN CNAME alias.example.test."},
		{name: "wildcard", msg: dnstest.Msg("x.wild.example.test", dns.TypeA), aa: true,
			answer: "x.wild.example.test. 3600 IN A 192.0.2.77"},
		{name: "wildcard NODATA", msg: dnstest.Msg("x.wild.example.test", dns.TypeTXT), aa: true, ns: soa},
		{name: "empty non-terminal is NODATA", msg: dnstest.Msg("ent.example.test", dns.TypeA), aa: true, ns: soa},
		{name: "delegation with glue", msg: dnstest.Msg("host.sub.example.test", dns.TypeA), aa: false,
			ns: "sub.example.test. 3600 IN NS ns.sub.example.test.", extra: "ns.sub.example.test. 3600 IN A 192.0.2.54"},
		{name: "refused outside served zones", msg: dnstest.Msg("example.org", dns.TypeA), rcode: dns.RcodeRefused},
		{name: "MX with additional address", msg: dnstest.Msg("example.test", dns.TypeMX), aa: true,
			answer: "example.test. 3600 IN MX 10 mail.example.test.", extra: "mail.example.test. 3600 IN A 192.0.2.25"},
		{name: "TXT with two strings", msg: dnstest.Msg("example.test", dns.TypeTXT), aa: true,
			answer: `example.test. 3600 IN TXT "hello" "world"`},
		{name: "AAAA", msg: dnstest.Msg("v6.example.test", dns.TypeAAAA), aa: true,
			answer: "v6.example.test. 3600 IN AAAA 2001:db8::1"},
		{name: "minimal ANY returns one RRset", msg: dnstest.Msg("ns1.example.test", dns.TypeANY), aa: true,
			answer: "ns1.example.test. 3600 IN A 192.0.2.53"},
		{name: "ANY on a GSLB name", msg: dnstest.Msg("app.example.test", dns.TypeANY), aa: true,
			answer: "app.example.test. 7 IN A 192.0.2.1"},
		{name: "implicit zone for a GSLB domain outside every zone", msg: dnstest.Msg("other.gslb.test", dns.TypeSOA), aa: true,
			answer: "other.gslb.test. 3600 IN SOA ns1.other.gslb.test. hostmaster.other.gslb.test. 100 3600 3 3600 5"},
		{name: "implicit zone GSLB answer", msg: dnstest.Msg("other.gslb.test", dns.TypeA), aa: true,
			answer: "other.gslb.test. 9 IN A 192.0.2.1"},
		{name: "unknown qtype is NODATA", msg: dnstest.Msg("ns1.example.test", 65535), aa: true, ns: soa},
		{name: "unknown qtype on GSLB name is NODATA", msg: dnstest.Msg("app.example.test", 65280), aa: true, ns: soa},
		{name: "EDNS query gets OPT", msg: dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(4096)), aa: true,
			answer: "app.example.test. 7 IN A 192.0.2.1"},
		{name: "zone transfer refused", msg: dnstest.Msg("example.test", dns.TypeAXFR), rcode: dns.RcodeRefused},
	}
	for _, proto := range dnstest.Protos {
		for _, tc := range cases {
			t.Run(string(proto)+"/"+tc.name, func(t *testing.T) {
				r := dnstest.Exchange(t, proto, addr(d, string(proto)), tc.msg.Copy())
				if r.Rcode != tc.rcode {
					t.Errorf("rcode: got %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				if r.Authoritative != tc.aa {
					t.Errorf("AA: got %v, want %v", r.Authoritative, tc.aa)
				}
				if r.RecursionAvailable {
					t.Errorf("RA set by an authoritative-only server")
				}
				if got := dnstest.Section(r.Answer); got != tc.answer {
					t.Errorf("answer:\ngot  %s\nwant %s", got, tc.answer)
				}
				if got := dnstest.Section(r.Ns); got != tc.ns {
					t.Errorf("authority:\ngot  %s\nwant %s", got, tc.ns)
				}
				if got := dnstest.Section(r.Extra); got != tc.extra {
					t.Errorf("additional:\ngot  %s\nwant %s", got, tc.extra)
				}
				if (tc.msg.IsEdns0() != nil) != (r.IsEdns0() != nil) {
					t.Errorf("OPT in reply: got %v, want %v", r.IsEdns0() != nil, tc.msg.IsEdns0() != nil)
				}
			})
		}
	}
}

func TestEDNS(t *testing.T) {
	d := start(t, mirConf())
	for _, proto := range dnstest.Protos {
		a := addr(d, string(proto))
		t.Run(string(proto)+"/BADVERS for version 1", func(t *testing.T) {
			m := dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(1232))
			m.IsEdns0().SetVersion(1)
			r := dnstest.Exchange(t, proto, a, m)
			if r.Rcode != dns.RcodeBadVers {
				t.Fatalf("rcode: got %d, want BADVERS (16)", r.Rcode)
			}
			if o := r.IsEdns0(); o == nil || o.Version() != 0 {
				t.Fatalf("reply OPT: got %v, want version 0", o)
			}
			if len(r.Answer) != 0 {
				t.Fatalf("answer: got %d records, want none", len(r.Answer))
			}
		})
		t.Run(string(proto)+"/unknown option ignored and not echoed", func(t *testing.T) {
			m := dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(1232))
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})
			r := dnstest.Exchange(t, proto, a, m)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Fatalf("got rcode %d with %d answers, want NOERROR with 1", r.Rcode, len(r.Answer))
			}
			if o := r.IsEdns0(); o == nil || len(o.Option) != 0 {
				t.Fatalf("reply OPT options: got %v, want none", o)
			}
		})
		t.Run(string(proto)+"/unknown EDNS flags cleared", func(t *testing.T) {
			m := dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(1232))
			m.IsEdns0().Hdr.Ttl |= 0x7fff // every Z flag, not DO
			r := dnstest.Exchange(t, proto, a, m)
			if o := r.IsEdns0(); o == nil || o.Hdr.Ttl != 0 {
				t.Fatalf("reply OPT TTL (ext-rcode, version, flags): got %#x, want 0", o.Hdr.Ttl)
			}
			// The same on the slow path (static data).
			m = dnstest.Msg("ns1.example.test", dns.TypeA, dnstest.EDNS(1232))
			m.IsEdns0().Hdr.Ttl |= 0x7fff
			r = dnstest.Exchange(t, proto, a, m)
			if o := r.IsEdns0(); o == nil || o.Hdr.Ttl != 0 {
				t.Fatalf("slow path reply OPT TTL: got %#x, want 0", o.Hdr.Ttl)
			}
		})
		t.Run(string(proto)+"/DO bit copied", func(t *testing.T) {
			m := dnstest.Msg("app.example.test", dns.TypeA)
			m.SetEdns0(1232, true)
			r := dnstest.Exchange(t, proto, a, m)
			if o := r.IsEdns0(); o == nil || !o.Do() {
				t.Fatalf("reply OPT: got %v, want DO set", o)
			}
		})
	}
	t.Run("two OPT records are FORMERR", func(t *testing.T) {
		m := dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(1232))
		m.Extra = append(m.Extra, m.Extra[0])
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), m)
		if r.Rcode != dns.RcodeFormatError {
			t.Fatalf("rcode: got %d, want FORMERR", r.Rcode)
		}
	})
}

func TestTruncation(t *testing.T) {
	d := start(t, mirConf())
	// No EDNS: 512 bytes at most; 20 AAAA records do not fit.
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("many.example.test", dns.TypeAAAA))
	if !r.Truncated || len(r.Answer) != 0 {
		t.Fatalf("UDP without EDNS: got TC=%v with %d answers, want TC=1 with none", r.Truncated, len(r.Answer))
	}
	// EDNS buffer honoured: 1232 fits all 20.
	r = dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("many.example.test", dns.TypeAAAA, dnstest.EDNS(1232)))
	if r.Truncated || len(r.Answer) != 20 {
		t.Fatalf("UDP with EDNS 1232: got TC=%v with %d answers, want 20", r.Truncated, len(r.Answer))
	}
	// A buffer below 512 counts as 512 (RFC 6891 §6.2.5).
	r = dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("many.example.test", dns.TypeAAAA, dnstest.EDNS(100)))
	if !r.Truncated {
		t.Fatalf("UDP with EDNS 100: got TC=%v, want TC=1", r.Truncated)
	}
	// The TCP retry gets everything.
	r = dnstest.Exchange(t, dnstest.TCP, d.TCPAddr(), dnstest.Msg("many.example.test", dns.TypeAAAA))
	if r.Truncated || len(r.Answer) != 20 {
		t.Fatalf("TCP: got TC=%v with %d answers, want 20", r.Truncated, len(r.Answer))
	}
	// dig-like client behaviour: miekg's client does not retry, so check
	// that a truncated UDP answer still carries the question.
	r = dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("many.example.test", dns.TypeAAAA))
	if len(r.Question) != 1 || r.Question[0].Name != "many.example.test." {
		t.Fatalf("truncated reply question: got %v", r.Question)
	}
}

// TestTruncationBoundaries: the client's EDNS buffer size is the limit,
// whether above or below gslbd's own (1232); a buffer below 512 counts as
// 512 (RFC 6891 §6.2.5); a static RRset larger than the appliance allows
// is served whole over TCP.
func TestTruncationBoundaries(t *testing.T) {
	d := start(t, mirConf())
	size := func(name string, qtype uint16) int {
		r := dnstest.Exchange(t, dnstest.TCP, d.TCPAddr(), dnstest.Msg(name, qtype, dnstest.EDNS(1232)))
		r.Compress = true // as gslbd sends it
		b, _ := r.Pack()
		return len(b)
	}
	many, ten := size("many.example.test", dns.TypeAAAA), size("ten.example.test", dns.TypeAAAA)
	if many <= 540 || many >= 1100 || ten <= 150 || ten >= 500 {
		t.Fatalf("answer sizes %d and %d: the cases below need 540 < many < 1100 and 150 < ten < 500", many, ten)
	}
	cases := []struct {
		name      string
		qname     string
		qtype     uint16
		edns      uint16 // 0: no EDNS
		truncated bool
		answers   int
	}{
		{"client buffer larger than the answer", "many.example.test", dns.TypeAAAA, uint16(many + 20), false, 20},
		{"client buffer smaller than the answer, below gslbd's own", "many.example.test", dns.TypeAAAA, uint16(many - 20), true, 0},
		{"a buffer below 512 counts as 512", "ten.example.test", dns.TypeAAAA, 100, false, 10},
		{"a buffer of 512 exactly", "ten.example.test", dns.TypeAAAA, 512, false, 10},
		{"no EDNS: 512", "ten.example.test", dns.TypeAAAA, 0, false, 10},
		{"30 static A records do not fit 512", "big.example.test", dns.TypeA, 0, true, 29},
		{"30 static A records with EDNS", "big.example.test", dns.TypeA, 1232, false, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := dnstest.Msg(tc.qname, tc.qtype)
			if tc.edns != 0 {
				m.SetEdns0(tc.edns, false)
			}
			r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), m)
			if r.Truncated != tc.truncated || len(r.Answer) != tc.answers {
				t.Fatalf("got TC=%v with %d answers, want TC=%v with %d", r.Truncated, len(r.Answer), tc.truncated, tc.answers)
			}
			r.Compress = true
			b, _ := r.Pack()
			limit := max(int(tc.edns), 512)
			if tc.edns == 0 {
				limit = 512
			}
			if len(b) > limit {
				t.Fatalf("reply of %d bytes over UDP, more than the %d the client can take", len(b), limit)
			}
		})
	}
	// TCP has them all.
	r := dnstest.Exchange(t, dnstest.TCP, d.TCPAddr(), dnstest.Msg("big.example.test", dns.TypeA))
	if r.Truncated || len(r.Answer) != 30 {
		t.Fatalf("TCP: got TC=%v with %d answers, want 30", r.Truncated, len(r.Answer))
	}
}

func TestHeaderHandling(t *testing.T) {
	d := start(t, rfcConf)
	// One UDP worker handles packets in the order they came, so that
	// dnstest.NoReplyUDP's follow-up questions prove that nothing came back.
	inOrder := startWith(t, rfcConf, func(o *daemon.Options) { o.Server.UDPWorkers = 1 })
	t.Run("opcode STATUS is NOTIMP", func(t *testing.T) {
		m := dnstest.Msg("app.example.test", dns.TypeA)
		m.Opcode = dns.OpcodeStatus
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), m)
		if r.Rcode != dns.RcodeNotImplemented {
			t.Fatalf("rcode: got %d, want NOTIMP", r.Rcode)
		}
	})
	t.Run("opcode UPDATE is NOTIMP", func(t *testing.T) {
		m := dnstest.Msg("example.test", dns.TypeSOA)
		m.Opcode = dns.OpcodeUpdate
		r := dnstest.Exchange(t, dnstest.TCP, d.TCPAddr(), m)
		if r.Rcode != dns.RcodeNotImplemented {
			t.Fatalf("rcode: got %d, want NOTIMP", r.Rcode)
		}
	})
	t.Run("two questions are FORMERR", func(t *testing.T) {
		m := dnstest.Msg("app.example.test", dns.TypeA)
		m.Question = append(m.Question, m.Question[0])
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), m)
		if r.Rcode != dns.RcodeFormatError {
			t.Fatalf("rcode: got %d, want FORMERR", r.Rcode)
		}
	})
	t.Run("garbage after the header is FORMERR with the ID", func(t *testing.T) {
		b := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff}
		resp := dnstest.RawUDP(t, d.UDPAddr(), b, 2*time.Second)
		if len(resp) < 12 || resp[0] != 0xab || resp[1] != 0xcd || resp[3]&0xf != dns.RcodeFormatError || resp[2]&0x80 == 0 {
			t.Fatalf("got %x, want a FORMERR response with ID abcd", resp)
		}
	})
	t.Run("a response (QR=1) gets no reply", func(t *testing.T) {
		m := dnstest.Msg("app.example.test", dns.TypeA)
		m.Response = true
		b, _ := m.Pack()
		dnstest.NoReplyUDP(t, inOrder.UDPAddr(), b)
	})
	t.Run("short packets get no reply and the server lives", func(t *testing.T) {
		for n := 1; n < 12; n++ {
			dnstest.NoReplyUDP(t, inOrder.UDPAddr(), make([]byte, n))
		}
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("example.test", dns.TypeSOA))
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("after short packets: rcode %d", r.Rcode)
		}
	})
	t.Run("RD copied, Z not echoed, RA clear", func(t *testing.T) {
		m := dnstest.Msg("app.example.test", dns.TypeA)
		m.RecursionDesired = true
		m.Zero = true
		for _, proto := range dnstest.Protos {
			r := dnstest.Exchange(t, proto, addr(d, string(proto)), m.Copy())
			if !r.RecursionDesired || r.Zero || r.RecursionAvailable {
				t.Fatalf("%s: got RD=%v Z=%v RA=%v, want RD=1 Z=0 RA=0", proto, r.RecursionDesired, r.Zero, r.RecursionAvailable)
			}
		}
	})
	t.Run("question case preserved (0x20)", func(t *testing.T) {
		for _, name := range []string{"ApP.ExAmPlE.tEsT", "NS1.example.TEST"} {
			for _, proto := range dnstest.Protos {
				r := dnstest.Exchange(t, proto, addr(d, string(proto)), dnstest.Msg(name, dns.TypeA))
				if r.Question[0].Name != name+"." || len(r.Answer) != 1 || r.Answer[0].Header().Name != name+"." {
					t.Fatalf("%s %s: question %q answer %v", proto, name, r.Question[0].Name, r.Answer)
				}
			}
		}
	})
	t.Run("every record of a static RRset keeps the question's case", func(t *testing.T) {
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("ExAmPlE.TeSt", dns.TypeTXT))
		r2 := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("ExAmPlE.TeSt", dns.TypeNS))
		for _, rr := range append(r.Answer, r2.Answer...) {
			if rr.Header().Name != "ExAmPlE.TeSt." {
				t.Fatalf("owner %q, want the question's spelling", rr.Header().Name)
			}
		}
	})
	t.Run("class CH is refused", func(t *testing.T) {
		m := dnstest.Msg("version.bind", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), m)
		if r.Rcode != dns.RcodeRefused {
			t.Fatalf("rcode: got %d, want REFUSED", r.Rcode)
		}
	})
}
