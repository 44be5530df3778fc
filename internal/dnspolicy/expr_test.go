package dnspolicy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func in(src, dst, name string, qtype uint16, tcp bool) *Input {
	return &Input{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Name: []byte(name), Type: qtype, TCP: tcp}
}

// TestEval: each function, the operators and their precedence, as
// NetScaler users write them.
func TestEval(t *testing.T) {
	v4 := in("10.1.2.3", "192.0.2.53", "www.corp.example", dns.TypeA, false)
	v6 := in("2001:db8::5", "2001:db8:53::1", "www.corp.example", dns.TypeAAAA, true)
	mapped := in("::ffff:10.1.2.3", "192.0.2.53", "www.corp.example", dns.TypeA, false)
	for _, tc := range []struct {
		expr string
		in   *Input
		want bool
	}{
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)", v4, true},
		{"client.ip.src.in_subnet(10.0.0.0/8)", v4, true},
		{"CLIENT.IP.SRC.IN_SUBNET(10.1.2.0/24)", mapped, true},
		{"CLIENT.IP.SRC.IN_SUBNET(10.2.0.0/16)", v4, false},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)", v6, false},
		{"CLIENT.IPV6.SRC.IN_SUBNET(2001:db8::/32)", v6, true},
		{"CLIENT.IPV6.SRC.IN_SUBNET(2001:db8::/32)", v4, false},
		{"CLIENT.IP.SRC.EQ(10.1.2.3)", v4, true},
		{"CLIENT.IP.DST.EQ(192.0.2.53)", v4, true},
		{"CLIENT.IP.DST.EQ(192.0.2.54)", v4, false},
		{"CLIENT.IP.DST.IN_SUBNET(192.0.2.0/24)", v4, true},
		{"CLIENT.IPV6.DST.EQ(2001:db8:53::1)", v6, true},
		{`DNS.REQ.QUESTION.DOMAIN.EQ("WWW.corp.example.")`, v4, true},
		{`DNS.REQ.QUESTION.DOMAIN.ENDSWITH("corp.example")`, v4, true},
		{`DNS.REQ.QUESTION.DOMAIN.STARTSWITH("www.")`, v4, true},
		{`DNS.REQ.QUESTION.DOMAIN.CONTAINS("corp")`, v4, true},
		{`DNS.REQ.QUESTION.DOMAIN.EQ("corp.example")`, v4, false},
		{"DNS.REQ.QUESTION.TYPE.EQ(AAAA)", v6, true},
		{"DNS.REQ.QUESTION.TYPE.EQ(aaaa)", v4, false},
		{"DNS.REQ.TRANSPORT.EQ(tcp)", v6, true},
		{"DNS.REQ.TRANSPORT.EQ(TCP)", v4, false},
		{`CLIENT.UDP.DNS.DOMAIN.EQ("www.corp.example")`, v4, true},
		{`CLIENT.UDP.DNS.DOMAIN.EQ("www.corp.example")`, v6, false},
		{`CLIENT.TCP.DNS.DOMAIN.ENDSWITH("example")`, v6, true},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8).NOT", v4, false},
		{"!CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)", v4, false},
		{"true || false && false", v4, true}, // && binds tighter
		{"(true || false) && false", v4, false},
		{"(CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8) || CLIENT.IPV6.SRC.IN_SUBNET(2001:db8::/32)) && DNS.REQ.QUESTION.TYPE.EQ(A)", v4, true},
		{"(CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8) || CLIENT.IPV6.SRC.IN_SUBNET(2001:db8::/32)) && DNS.REQ.QUESTION.TYPE.EQ(A)", v6, false},
		{"(CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)).NOT.NOT", v4, true},
		{"  TRUE  ", v4, true},
	} {
		e, err := Compile(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if got := e.Eval(tc.in); got != tc.want {
			t.Errorf("%s on %v: %v, want %v", tc.expr, tc.in.Src, got, tc.want)
		}
	}
}

// TestCompileErrors: an expression gslbd cannot evaluate is refused at
// the column where it goes wrong, saying why.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		col  int
		msg  string
	}{
		{"CLIENT.IP.SRC.MATCHES_LOCATION(\"NA.US\")", 1, "IN_SUBNET and EQ"},
		{"HTTP.REQ.URL.EQ(\"/\")", 1, "not a function gslbd evaluates"},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/33)", 25, "not an IPv4 prefix"},
		{"CLIENT.IP.SRC.IN_SUBNET(2001:db8::/32)", 25, "not an IPv4 prefix"},
		{"CLIENT.IPV6.SRC.EQ(10.0.0.1)", 20, "not an IPv6 address"},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8", 35, "missing )"},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8) &&", 39, "ends early"},
		{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8) and true", 37, "unexpected"},
		{`DNS.REQ.QUESTION.DOMAIN.EQ(www)`, 28, "quoted string"},
		{`DNS.REQ.QUESTION.DOMAIN.EQ("www)`, 28, "unterminated"},
		{"DNS.REQ.QUESTION.TYPE.EQ(BOGUS)", 26, "record type"},
		{"(true", 6, "missing )"},
		{"CLIENT.IP.SRC", 1, "not a function"},
		{strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100), 66, "nested more than"},
		{strings.Repeat("x", 9000), 1, "longer than"},
	} {
		_, err := Compile(tc.expr)
		var e *Error
		if !errors.As(err, &e) || e.Col != tc.col || !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%.60s: %v, want column %d with %q", tc.expr, err, tc.col, tc.msg)
		}
	}
}

// TestEvalDoesNotAllocate: the answer path evaluates policies per query.
func TestEvalDoesNotAllocate(t *testing.T) {
	e, err := Compile(`(CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8) || CLIENT.IPV6.DST.EQ(2001:db8::1)) && DNS.REQ.QUESTION.DOMAIN.ENDSWITH("corp.example").NOT`)
	if err != nil {
		t.Fatal(err)
	}
	x := in("10.1.2.3", "192.0.2.53", "www.corp.example", dns.TypeA, false)
	if n := testing.AllocsPerRun(1000, func() { e.Eval(x) }); n != 0 {
		t.Errorf("%v allocations per evaluation", n)
	}
}

// FuzzCompile: any text compiles or fails with a column inside it (+1
// for the end), nothing panics, and a compiled expression evaluates.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)", `DNS.REQ.QUESTION.DOMAIN.EQ("a\"b")`, "!(true||false)&&true.NOT",
		"CLIENT.IPV6.DST.EQ(::1)", "DNS.REQ.TRANSPORT.EQ(udp)", `CLIENT.TCP.DNS.DOMAIN.CONTAINS("x")`, "((((", "DNS.REQ.QUESTION.TYPE.EQ(MX)"} {
		f.Add(s)
	}
	x := in("10.1.2.3", "::1", "a.b", dns.TypeA, false)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Compile(s)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Col < 1 || ce.Col > len(s)+1 {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		e.Eval(x)
	})
}
