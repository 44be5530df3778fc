package gslb

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// wireConf adds to zonesConf a GSLB domain spelt with every character the
// fast path reads, one with the longest labels, a MIR vserver of 40
// services (an answer over 512 bytes), one of 30 whose answer to
// x.example.test is exactly 512 bytes, one of 80 (over 1232 bytes), and a
// static name with 40 addresses (the slow path's large answer).
func wireConf() string {
	var b strings.Builder
	b.WriteString(zonesConf)
	long := strings.Repeat("a", 63)
	fmt.Fprintf(&b, "bind gslb vserver gv -domainName az-09_x.example.test\nbind gslb vserver gv -domainName %s.%s.%s.example.test\n", long, long, long)
	for _, v := range []struct {
		name, domain string
		n            int
	}{{"big", "big.example.test", 40}, {"exact", "x.example.test", 30}, {"huge", "huge.example.test", 80}} {
		fmt.Fprintf(&b, "add gslb vserver %s HTTP -lbMethod ROUNDROBIN -MIR ENABLED\nbind gslb vserver %s -domainName %s\n", v.name, v.name, v.domain)
		for i := range v.n {
			fmt.Fprintf(&b, "add gslb service %s%d 198.51.100.%d HTTP 80 -siteName s1\nbind gslb vserver %s -serviceName %s%d\n", v.name, i, i+1, v.name, v.name, i)
		}
	}
	for i := range 40 {
		fmt.Fprintf(&b, "add dns addRec static.example.test 203.0.113.%d\n", i+1)
	}
	return b.String()
}

// withOption adds an EDNS option to the query's OPT record.
func withOption(o dns.EDNS0) func(*dns.Msg) {
	return func(m *dns.Msg) {
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, o)
	}
}

func withDO(m *dns.Msg) { m.IsEdns0().SetDo() }

// TestFastPathTakesPlainQueries: every query shape that resolvers send for
// a GSLB domain is answered without allocating, which only the fast path
// does: names in any case with every character it reads, the longest
// labels, EDNS with the DO bit and with options (a cookie, padding).
func TestFastPathTakesPlainQueries(t *testing.T) {
	e := engine(t, wireConf())
	long := strings.Repeat("a", 63)
	cookie := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	padding := &dns.EDNS0_PADDING{Padding: make([]byte, 12)}
	for _, tc := range []struct {
		name  string
		qtype uint16
		opts  []func(*dns.Msg)
	}{
		{"app.example.test", dns.TypeA, nil},
		{"APP.EXAMPLE.TEST", dns.TypeA, nil},
		{"az-09_x.example.test", dns.TypeA, nil},
		{"AZ-09_X.Example.Test", dns.TypeA, nil},
		{long + "." + long + "." + strings.ToUpper(long) + ".example.test", dns.TypeA, nil},
		{"app.example.test", dns.TypeAAAA, nil}, // NODATA
		{"app.example.test", dns.TypeANY, nil},
		{"app.example.test", dns.TypeA, []func(*dns.Msg){dnstest.EDNS(1232)}},
		{"app.example.test", dns.TypeA, []func(*dns.Msg){dnstest.EDNS(4096), withDO}},
		{"app.example.test", dns.TypeA, []func(*dns.Msg){dnstest.EDNS(1232), withOption(cookie)}},
		{"app.example.test", dns.TypeA, []func(*dns.Msg){dnstest.EDNS(1232), withOption(cookie), withOption(padding)}},
		// An empty option last.
		{"app.example.test", dns.TypeA, []func(*dns.Msg){dnstest.EDNS(1232), withOption(&dns.EDNS0_PADDING{})}},
		{"big.example.test", dns.TypeA, nil}, // truncated
	} {
		q := pack(t, dnstest.Msg(tc.name, tc.qtype, tc.opts...))
		buf := make([]byte, 0, 4096)
		client := netip.MustParseAddr("198.51.100.7")
		now := time.Now()
		if n := testing.AllocsPerRun(100, func() { e.ServeDNS(buf, q, dnsserver.Request{Src: client, Now: now}) }); n != 0 {
			t.Errorf("%s %s (%d option settings): %v allocations, want 0 (the fast path)", tc.name, dns.TypeToString[tc.qtype], len(tc.opts), n)
		}
	}
}

// header is a query header with the given counts.
func header(id uint16, flags uint16, qd, an, ns, ar byte) []byte {
	return []byte{byte(id >> 8), byte(id), byte(flags >> 8), byte(flags), 0, qd, 0, an, 0, ns, 0, ar}
}

var appName = []byte("\x03app\x07example\x04test\x00")

// TestMalformedQueries: broken packets get a FORMERR header with their ID,
// or nothing when they are too short or are responses; none may read past
// its end (each is given with no spare capacity). Each is also sent to a
// real listener.
func TestMalformedQueries(t *testing.T) {
	e := engine(t, wireConf())
	addrs := listen(t, e)
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	qtail := []byte{0, 1, 0, 1}
	opt := []byte{0, 0, 41, 4, 0xd0, 0, 0, 0, 0}
	long := []byte{}
	for range 5 {
		long = append(long, 63)
		long = append(long, strings.Repeat("a", 63)...)
	}
	// Four labels of 63: 257 bytes with the root label, two over the limit
	// (RFC 1035 §2.3.4), though its text form (255 characters) fits.
	long257 := long[:4*64]
	for _, tc := range []struct {
		name    string
		q       []byte
		noReply bool
		rcode   int // default FORMERR
	}{
		{name: "shorter than a header", q: header(1, 0, 1, 0, 0, 0)[:11], noReply: true},
		{name: "a response", q: cat(header(2, 0x8000, 1, 0, 0, 0), appName, qtail), noReply: true},
		{name: "header only", q: header(3, 0, 0, 0, 0, 0)},
		{name: "label past the end", q: cat(header(4, 0, 1, 0, 0, 0), []byte("\x03app\x07exam"))},
		{name: "label one past the end", q: cat(header(5, 0, 1, 0, 0, 0), []byte("\x03app\x07exampl"))},
		{name: "label two past the end", q: cat(header(6, 0, 1, 0, 0, 0), []byte("\x03app\x07examp"))},
		{name: "no root label", q: cat(header(7, 0, 1, 0, 0, 0), []byte("\x03app\x07example\x04test"))},
		// miekg/dns reads a question without type and class as type 0,
		// class 0: not IN, refused.
		{name: "no type and class", q: cat(header(8, 0, 1, 0, 0, 0), appName), rcode: dns.RcodeRefused},
		{name: "half a type", q: cat(header(9, 0, 1, 0, 0, 0), appName, []byte{0, 1, 0})},
		{name: "name over 255 bytes", q: cat(header(10, 0, 1, 0, 0, 0), long, []byte{0}, qtail)},
		{name: "name of 257 bytes", q: cat(header(17, 0, 1, 0, 0, 0), long257, []byte{0}, qtail)},
		{name: "compression pointer", q: cat(header(11, 0, 1, 0, 0, 0), []byte{0xc0, 0x0c}, qtail)},
		{name: "truncated OPT", q: cat(header(12, 0, 1, 0, 0, 1), appName, qtail, []byte{0, 0, 41, 4})},
		{name: "OPT without rdata length", q: cat(header(13, 0, 1, 0, 0, 1), appName, qtail, opt)},
		{name: "option longer than the OPT", q: cat(header(14, 0, 1, 0, 0, 1), appName, qtail, opt, []byte{0, 4, 0, 10, 0, 9})},
		{name: "half an option header", q: cat(header(15, 0, 1, 0, 0, 1), appName, qtail, opt, []byte{0, 2, 0, 10})},
		{name: "OPT rdata past the end", q: cat(header(16, 0, 1, 0, 0, 1), appName, qtail, opt, []byte{0, 8, 0, 10, 0, 4, 1, 2})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.rcode
			if want == 0 {
				want = dns.RcodeFormatError
			}
			check := func(how string, r []byte) {
				if tc.noReply {
					if r != nil {
						t.Fatalf("%s: got a %d-byte reply, want none", how, len(r))
					}
					return
				}
				if len(r) < 12 || r[0] != tc.q[0] || r[1] != tc.q[1] || r[2]&0x80 == 0 || int(r[3]&0xf) != want {
					t.Fatalf("%s: got %x, want a %s response with ID %x", how, r, dns.RcodeToString[want], tc.q[:2])
				}
			}
			check("ServeDNS", e.ServeDNS(nil, tc.q[:len(tc.q):len(tc.q)], dnsserver.Request{Src: netip.MustParseAddr("192.0.2.9"), Now: time.Now()}))
			if tc.noReply {
				dnstest.NoReplyUDP(t, addrs[dnstest.UDP], tc.q)
			} else {
				check("UDP", dnstest.RawUDP(t, addrs[dnstest.UDP], tc.q, 3*time.Second))
			}
		})
	}
}

// TestEDNS: the reply's OPT advertises gslbd's buffer size (1232 by
// default) and echoes DO (RFC 3225 §3), on the fast path (a GSLB domain)
// and on the slow one (static data); a version other than 0 is BADVERS
// (RFC 6891 §6.1.3); two OPT records are FORMERR.
func TestEDNS(t *testing.T) {
	addrs := listen(t, engine(t, wireConf()))
	for _, name := range []string{"app.example.test", "host.example.test"} {
		for _, proto := range dnstest.Protos {
			for _, do := range []bool{false, true} {
				q := dnstest.Msg(name, dns.TypeA, dnstest.EDNS(4096))
				if do {
					withDO(q)
				}
				r := ask(t, proto, addrs[proto], q)
				o := r.IsEdns0()
				if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || o == nil || o.UDPSize() != 1232 || o.Version() != 0 || o.Do() != do {
					t.Errorf("%s %s DO=%v: rcode %s, %d answers, OPT %v; want an answer and OPT size 1232 version 0 DO=%v",
						name, proto, do, dns.RcodeToString[r.Rcode], len(r.Answer), o, do)
				}
			}
			q := dnstest.Msg(name, dns.TypeA, dnstest.EDNS(1232))
			q.IsEdns0().SetVersion(1)
			r := ask(t, proto, addrs[proto], q)
			if r.Rcode != dns.RcodeBadVers || len(r.Answer) != 0 || r.IsEdns0() == nil {
				t.Errorf("%s %s EDNS version 1: rcode %s, %d answers, OPT %v; want BADVERS with an OPT", name, proto, dns.RcodeToString[r.Rcode], len(r.Answer), r.IsEdns0())
			}
			q = dnstest.Msg(name, dns.TypeA, dnstest.EDNS(1232))
			q.Extra = append(q.Extra, q.Extra[0])
			if r := ask(t, proto, addrs[proto], q); r.Rcode != dns.RcodeFormatError {
				t.Errorf("%s %s two OPT records: rcode %s, want FORMERR", name, proto, dns.RcodeToString[r.Rcode])
			}
		}
	}
}

// TestTruncation: over UDP an answer must fit the client's buffer: 512
// bytes without EDNS or with a buffer below 512 (RFC 6891 §6.2.5), else
// the EDNS buffer size up to gslbd's own 1232; one that does not fit is
// truncated (TC) and whole over TCP. Checked at the byte: a buffer of the
// answer's size gets it whole, one byte less truncates. For GSLB domains
// (the fast path) and a static name (the slow path).
func TestTruncation(t *testing.T) {
	addrs := listen(t, engine(t, wireConf()))
	for _, tc := range []struct {
		name    string
		answers int
		fits    bool // in 1232 bytes
	}{{"big.example.test", 40, true}, {"static.example.test", 40, true}, {"huge.example.test", 80, false}} {
		raw, whole := rawExchange(t, dnstest.TCP, addrs[dnstest.TCP], dnstest.Msg(tc.name, dns.TypeA, dnstest.EDNS(1232)))
		if whole.Truncated || len(whole.Answer) != tc.answers {
			t.Fatalf("%s over TCP: TC %v, %d answers; want %d, whole", tc.name, whole.Truncated, len(whole.Answer), tc.answers)
		}
		// The size on the wire over UDP: the slow path compresses names
		// only when an answer does not fit uncompressed.
		size := len(raw)
		if raw, r := rawExchange(t, dnstest.UDP, addrs[dnstest.UDP], dnstest.Msg(tc.name, dns.TypeA, dnstest.EDNS(1232))); r.Truncated == tc.fits {
			t.Errorf("%s with a 1232-byte buffer: TC %v, want %v", tc.name, r.Truncated, !tc.fits)
		} else if tc.fits {
			size = len(raw)
		}
		for _, c := range []struct {
			edns   int // 0: none
			whole  bool
			reason string
		}{
			{0, false, "no EDNS: 512"},
			{100, false, "a buffer below 512 counts as 512"},
			{511, false, "a buffer below 512 counts as 512"},
			{512, false, "512"},
			{size - 1, false, "one byte short"},
			{size, size <= 1232, "the answer's size"},
			{4096, size <= 1232, "gslbd's own 1232 bounds the buffer"},
		} {
			var opts []func(*dns.Msg)
			if c.edns > 0 {
				opts = append(opts, dnstest.EDNS(uint16(c.edns)))
			}
			raw, r := rawExchange(t, dnstest.UDP, addrs[dnstest.UDP], dnstest.Msg(tc.name, dns.TypeA, opts...))
			limit := 512
			if c.edns > 512 {
				limit = min(c.edns, 1232)
			}
			if len(raw) > limit {
				t.Errorf("%s, buffer %d (%s): %d bytes, over %d", tc.name, c.edns, c.reason, len(raw), limit)
			}
			if got := !r.Truncated && len(r.Answer) == tc.answers; got != c.whole {
				t.Errorf("%s (%d bytes), buffer %d (%s): TC %v with %d answers; want whole %v", tc.name, size, c.edns, c.reason, r.Truncated, len(r.Answer), c.whole)
			}
			if len(r.Question) != 1 || r.Question[0].Name != dns.Fqdn(tc.name) {
				t.Errorf("%s, buffer %d: question %v", tc.name, c.edns, r.Question)
			}
		}
	}
	// An answer of exactly 512 bytes fits a client without EDNS.
	raw, r := rawExchange(t, dnstest.UDP, addrs[dnstest.UDP], dnstest.Msg("x.example.test", dns.TypeA))
	if len(raw) != 512 || r.Truncated || len(r.Answer) != 30 {
		t.Errorf("x.example.test: %d bytes, TC %v, %d answers; want 512 bytes with all 30", len(raw), r.Truncated, len(r.Answer))
	}
}
