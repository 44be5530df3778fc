package gslb

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// explainConf has a vserver per method: round robin (weighted),
// source-IP hash, hash on an ECS subnet, least connections, persistence,
// MIR, static proximity, RTT, a view, and a vserver whose services are
// DOWN answering from its backup.
const explainConf = `set gslb parameter -ldnsMask 255.255.255.0
add gslb site s1 10.1.0.1
add gslb site s2 10.2.0.1
add gslb service a 10.1.0.10 HTTP 80 -siteName s1
add gslb service b 10.2.0.10 HTTP 80 -siteName s2
add gslb service c 10.3.0.10 HTTP 80 -siteName s1
add gslb service dn 10.9.0.10 HTTP 80 -siteName s1
add gslb vserver rr HTTP -lbMethod ROUNDROBIN
add gslb vserver hs HTTP -lbMethod SOURCEIPHASH -netmask 255.255.255.0
add gslb vserver ec HTTP -lbMethod SOURCEIPHASH -ECS ENABLED
add gslb vserver lc HTTP -lbMethod LEASTCONNECTION
add gslb vserver ps HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 7 -timeout 5
add gslb vserver mr HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb vserver sp HTTP -lbMethod STATICPROXIMITY -backupLBMethod ROUNDROBIN
add gslb vserver rt HTTP -lbMethod RTT -backupLBMethod ROUNDROBIN
add gslb vserver vw HTTP -lbMethod ROUNDROBIN
add gslb vserver pri HTTP -lbMethod ROUNDROBIN
add gslb vserver bk HTTP -lbMethod ROUNDROBIN
set gslb vserver pri -backupVServer bk
bind gslb vserver pri -serviceName dn
bind gslb vserver bk -serviceName a
bind gslb vserver bk -serviceName b
add dns view inside
add dns policy p_in "CLIENT.IP.SRC.IN_SUBNET(100.64.0.0/11)" -viewName inside
bind dns global p_in 10
bind gslb service a -viewName inside 172.16.0.10
`

func explainEngine(t *testing.T) *Engine {
	conf := explainConf
	for _, v := range []string{"rr", "hs", "ec", "lc", "ps", "mr", "sp", "rt", "vw"} {
		w := ""
		if v == "rr" {
			w = " -weight 3"
		}
		conf += fmt.Sprintf("bind gslb vserver %s -serviceName a%s\nbind gslb vserver %s -serviceName b\nbind gslb vserver %s -serviceName c\n", v, w, v, v)
	}
	for _, v := range []string{"rr", "hs", "ec", "lc", "ps", "mr", "sp", "rt", "vw", "pri"} {
		conf += fmt.Sprintf("bind gslb vserver %s -domainName %s.test -TTL 5\n", v, v)
	}
	conf += "add dns soaRec test -originServer ns1.test -contact h.test\n"
	e := engine(t, conf)
	e.SetLocations(locDB(t, "NSGEO1.0\nStart\n100.0.0.0,100.63.255.255,AS,JP\n100.64.0.0,100.127.255.255,NA,US\n10.1.0.10,10.1.0.10,AS,JP\n10.2.0.10,10.2.0.10,NA,US\n"))
	e.Report(health.Report{Service: "dn", State: health.Down})
	for _, s := range []string{"a", "b", "c"} {
		e.Report(health.Report{Service: s, State: health.Up})
	}
	m := health.Metrics{}
	e.Report(health.Report{Service: "a", Metrics: func() *health.Metrics { x := m.With(health.Connections, 30); return &x }()},
		health.Report{Service: "b", Metrics: func() *health.Metrics { x := m.With(health.Connections, 10); return &x }()},
		health.Report{Service: "c", Metrics: func() *health.Metrics { x := m.With(health.Connections, 20); return &x }()})
	setRTT(e, "100.0.0.0/24", "s2", 3)
	setRTT(e, "100.0.0.0/24", "s1", 9)
	return e
}

// TestExplainMatchesAnswers: for 1,000 random resolvers (some with an ECS
// subnet) and every method, what Explain says the answer is, is the
// answer the next real query gets, and explaining changes nothing the
// real answers depend on (round-robin positions, sessions, resolvers).
func TestExplainMatchesAnswers(t *testing.T) {
	e := explainEngine(t)
	rng := rand.New(rand.NewPCG(7, 9))
	names := []string{"rr", "hs", "ec", "lc", "ps", "mr", "sp", "rt", "vw", "pri"}
	for i := range 1000 {
		name := names[i%len(names)] + ".test"
		var b [4]byte
		b[0] = []byte{100, 100, 198, 203}[rng.IntN(4)]
		b[1], b[2], b[3] = byte(rng.IntN(128)), byte(rng.IntN(4)), byte(rng.IntN(256))
		if rng.IntN(3) == 0 {
			b[1], b[2] = 0, 0 // the measured resolvers (RTT)
		}
		src := netip.AddrFrom4(b)
		var ecs netip.Prefix
		if rng.IntN(3) == 0 {
			ecs = netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, byte(rng.IntN(256)), 0}), 24)
		}
		// Explained twice: the second says the same (nothing moved).
		tr, err := e.Explain(name, dns.TypeA, src, ecs, netip.Addr{}, false)
		if err != nil {
			t.Fatal(err)
		}
		tr2, _ := e.Explain(name, dns.TypeA, src, ecs, netip.Addr{}, false)
		q := dnsMsg(name, dns.TypeA)
		if ecs.IsValid() {
			q = ecsQuery(name, ecs.String())
		}
		r := e.ServeDNS(make([]byte, 0, 1232), pack(t, q), dnsserver.Request{Src: src, Now: time.Now()})
		m := new(dns.Msg)
		if err := m.Unpack(r); err != nil {
			t.Fatal(err)
		}
		real := []string{} // in the answer's order (MIR rotates it)
		for _, rr := range m.Answer {
			if a, ok := rr.(*dns.A); ok {
				real = append(real, a.A.String())
			}
		}
		if !slices.Equal(tr.Answer, real) || !slices.Equal(tr2.Answer, real) {
			t.Fatalf("%s from %s (ECS %v): explained %v then %v, answered %v\n%s", name, src, ecs, tr.Answer, tr2.Answer, real, strings.Join(tr.Steps, "\n"))
		}
	}
}

// TestExplainSays: the trace names the vserver, the candidates, and the
// figures each method compared.
func TestExplainSays(t *testing.T) {
	e := explainEngine(t)
	for _, tc := range []struct {
		name string
		src  string
		ecs  string
		want []string
	}{
		{"rr.test", "198.18.0.1", "", []string{"method ROUNDROBIN", "round robin: position"}},
		{"hs.test", "198.18.0.1", "", []string{"hash: 198.18.0.1 hashes to bucket"}},
		{"ec.test", "198.18.0.1", "203.0.113.0/24", []string{"ECS: the client subnet 203.0.113.0/24 decides", "hash: 203.0.113.0 hashes"}},
		{"lc.test", "198.18.0.1", "", []string{"3 candidates, method"}},
		{"ps.test", "198.18.0.1", "", []string{"persistence: no session for 198.18.0.1"}},
		{"sp.test", "100.70.0.1", "", []string{"STATICPROXIMITY: b at NA.US.*.*.*.* agrees with the client (NA.US.*.*.*.*) on 6 qualifiers"}},
		{"sp.test", "198.18.0.1", "", []string{"has no location: the backup method"}},
		{"rt.test", "100.0.0.9", "", []string{"RTT: site s2 measured 3ms", "RTT: lowest 3ms"}},
		{"rt.test", "198.51.100.1", "", []string{"is not measured yet"}},
		{"vw.test", "100.70.0.1", "", []string{`view "inside"`}},
		{"pri.test", "198.18.0.1", "", []string{"vserver pri has no service UP: its backup bk answers"}},
	} {
		var ecs netip.Prefix
		if tc.ecs != "" {
			ecs = netip.MustParsePrefix(tc.ecs)
		}
		tr, err := e.Explain(tc.name, 0, netip.MustParseAddr(tc.src), ecs, netip.Addr{}, false)
		if err != nil {
			t.Fatal(err)
		}
		steps := strings.Join(tr.Steps, "\n")
		for _, w := range tc.want {
			if !strings.Contains(steps, w) {
				t.Errorf("%s from %s: trace lacks %q:\n%s", tc.name, tc.src, w, steps)
			}
		}
		if tr.VServer == "" || len(tr.Candidates) == 0 || len(tr.Answer) == 0 || tr.Rcode != "NOERROR" || tr.TTL != 5 {
			t.Errorf("%s: %+v", tc.name, tr)
		}
	}
	// A session made by a real query is what explain then reports.
	src := netip.MustParseAddr("198.18.0.7")
	e.ServeDNS(make([]byte, 0, 512), pack(t, dnsMsg("ps.test", dns.TypeA)), dnsserver.Request{Src: src, Now: time.Now()})
	tr, _ := e.Explain("ps.test", 0, src, netip.Prefix{}, netip.Addr{}, false)
	if !strings.Contains(strings.Join(tr.Steps, "\n"), "persistence: the session of 198.18.0.7 answers") {
		t.Errorf("after a real query: %s", strings.Join(tr.Steps, "\n"))
	}
}

// TestExplainOverDNS: _explain.<domain> TXT from a client -explainFrom
// allows answers the trace, one TXT record per line, and changes nothing
// (the next real answer is the one it names); from anyone else it is an
// ordinary name (not found).
func TestExplainOverDNS(t *testing.T) {
	e := engine(t, testConf+"set gslb parameter -explainFrom 127.0.0.0/8 ::1\n")
	ask := func(name string, qtype uint16, src string) *dns.Msg {
		r := e.ServeDNS(make([]byte, 0, 4096), pack(t, dnsMsg(name, qtype)), dnsserver.Request{Src: netip.MustParseAddr(src), TCP: true, Now: time.Now()})
		m := new(dns.Msg)
		if err := m.Unpack(r); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := ask("_explain.app.example.test", dns.TypeTXT, "127.0.0.1")
	var lines []string
	for _, rr := range m.Answer {
		lines = append(lines, strings.Join(rr.(*dns.TXT).Txt, " "))
	}
	text := strings.Join(lines, "\n")
	if m.Rcode != dns.RcodeSuccess || !strings.Contains(text, "00 app.example.test A from 127.0.0.1: NOERROR 192.0.2.") || !strings.Contains(text, "round robin: position") {
		t.Fatalf("trace over DNS: %v\n%s", dns.RcodeToString[m.Rcode], text)
	}
	predicted := strings.Fields(lines[0])[6]
	if got := ask("app.example.test", dns.TypeA, "127.0.0.1"); len(got.Answer) != 1 || got.Answer[0].(*dns.A).A.String() != predicted {
		t.Errorf("the next answer %v, the trace said %s", got.Answer, predicted)
	}
	if m := ask("_explain.app.example.test", dns.TypeTXT, "198.51.100.7"); len(m.Answer) != 0 || m.Rcode != dns.RcodeNameError {
		t.Errorf("a client not allowed: %v %v", dns.RcodeToString[m.Rcode], m.Answer)
	}
}
