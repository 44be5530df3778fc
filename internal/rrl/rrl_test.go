package rrl

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// response packs an answer to name/qtype with rcode; NXDOMAIN carries
// the zone's SOA (compressed: a pointer into the question).
func response(t testing.TB, name string, qtype uint16, rcode int, zone string) []byte {
	t.Helper()
	q := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	r := new(dns.Msg).SetRcode(q, rcode)
	r.Compress = true
	switch {
	case rcode == dns.RcodeSuccess && qtype == dns.TypeA:
		rr, _ := dns.NewRR(dns.Fqdn(name) + " 5 IN A 192.0.2.1")
		r.Answer = []dns.RR{rr}
	case rcode == dns.RcodeNameError:
		rr, _ := dns.NewRR(dns.Fqdn(zone) + " 5 IN SOA ns1." + dns.Fqdn(zone) + " h." + dns.Fqdn(zone) + " 1 3600 3 3600 5")
		r.Ns = []dns.RR{rr}
	}
	b, err := r.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var client = netip.MustParseAddr("192.0.2.7")

func verdicts(l *Limiter, src netip.Addr, resp []byte, now int64, n int) (sent, dropped, truncated int) {
	for range n {
		switch l.Check(src, resp, now) {
		case Send:
			sent++
		case Drop:
			dropped++
		case Truncate:
			truncated++
		}
	}
	return
}

// TestRateAndSlip: 5 a second get through, then every second limited
// response is sent truncated (slip 2) and the others dropped; the debt
// (window 2: 10 responses) is paid back before answers flow again.
func TestRateAndSlip(t *testing.T) {
	l := New(Config{ResponsesPerSecond: 5, Window: 2, Slip: 2})
	a := response(t, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	if s, d, tr := verdicts(l, client, a, 100, 20); s != 5 || d != 8 || tr != 7 {
		t.Fatalf("second 100: %d sent, %d dropped, %d truncated; want 5, 8, 7", s, d, tr)
	}
	if s, _, _ := verdicts(l, client, a, 101, 5); s != 0 {
		t.Errorf("second 101, in debt: %d sent", s)
	}
	if s, _, _ := verdicts(l, client, a, 104, 10); s != 5 {
		t.Errorf("second 104, after a pause: %d sent, want 5", s)
	}
	if l.Limited[Positive].Load() != 15+5+5 || l.Truncated.Load() == 0 {
		t.Errorf("limited %d, truncated %d", l.Limited[Positive].Load(), l.Truncated.Load())
	}
}

// TestAccounts: what shares a bucket and what does not.
func TestAccounts(t *testing.T) {
	a := response(t, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	other := response(t, "mail.example.test", dns.TypeA, dns.RcodeSuccess, "")
	aaaa := response(t, "www.example.test", dns.TypeAAAA, dns.RcodeSuccess, "")
	nx1 := response(t, "nx1.example.test", dns.TypeA, dns.RcodeNameError, "example.test")
	nx2 := response(t, "nx2.example.test", dns.TypeA, dns.RcodeNameError, "example.test")
	nxOther := response(t, "nx.other.test", dns.TypeA, dns.RcodeNameError, "other.test")
	refused := response(t, "www.example.test", dns.TypeA, dns.RcodeRefused, "")
	servfail := response(t, "x.example.test", dns.TypeA, dns.RcodeServerFailure, "")
	for _, tc := range []struct {
		name        string
		first, then []byte
		src2        string
		shared      bool
	}{
		{"same answer, same /24", a, a, "192.0.2.200", true},
		{"same answer, another /24", a, a, "192.0.3.7", false},
		{"another name", a, other, "192.0.2.7", false},
		{"another type", a, aaaa, "192.0.2.7", false},
		{"NXDOMAIN, two names of one zone", nx1, nx2, "192.0.2.7", true},
		{"NXDOMAIN, another zone", nx1, nxOther, "192.0.2.7", false},
		{"errors together", refused, servfail, "192.0.2.7", true},
		{"IPv6, same /56", a, a, "2001:db8:0:ff::1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(Config{ResponsesPerSecond: 3, NXDomainsPerSecond: 3, ErrorsPerSecond: 3, Slip: 0})
			src := client
			if netip.MustParseAddr(tc.src2).Is6() {
				src = netip.MustParseAddr("2001:db8:0:1::9")
			}
			verdicts(l, src, tc.first, 10, 3)
			s, _, _ := verdicts(l, netip.MustParseAddr(tc.src2), tc.then, 10, 1)
			if shared := s == 0; shared != tc.shared {
				t.Errorf("shared %v, want %v", shared, tc.shared)
			}
		})
	}
}

// TestModes: exempt clients, log-only, slip 0 and 1, a kind without a
// rate, and what is not a response.
func TestModes(t *testing.T) {
	a := response(t, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	nx := response(t, "nx.example.test", dns.TypeA, dns.RcodeNameError, "example.test")
	for _, tc := range []struct {
		name          string
		cfg           Config
		resp          []byte
		sent, dropped int
	}{
		{"exempt", Config{ResponsesPerSecond: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, a, 10, 0},
		{"log only", Config{ResponsesPerSecond: 1, LogOnly: true}, a, 10, 0},
		{"slip 0", Config{ResponsesPerSecond: 1, Slip: 0}, a, 1, 9},
		{"slip 1", Config{ResponsesPerSecond: 1, Slip: 1}, a, 1, 0},
		{"no NXDOMAIN rate", Config{ResponsesPerSecond: 1}, nx, 10, 0},
		{"not a response", Config{ResponsesPerSecond: 1}, a[:11], 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.cfg)
			s, d, _ := verdicts(l, client, tc.resp, 1, 10)
			if s != tc.sent || d != tc.dropped {
				t.Errorf("%d sent, %d dropped; want %d, %d", s, d, tc.sent, tc.dropped)
			}
		})
	}
	l := New(Config{ResponsesPerSecond: 1, LogOnly: true})
	verdicts(l, client, a, 1, 10)
	if l.Limited[Positive].Load() != 9 {
		t.Errorf("log only: %d counted as limited, want 9", l.Limited[Positive].Load())
	}
}

// TestNXDOMAINThreshold: NetScaler's threshold counts every client's
// NXDOMAIN answers together, drops beyond it (no slip), and starts again
// each second; positive answers are not counted.
func TestNXDOMAINThreshold(t *testing.T) {
	l := New(Config{NXDomainThreshold: 3, Slip: 2})
	nx := response(t, "nx.example.test", dns.TypeA, dns.RcodeNameError, "example.test")
	a := response(t, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	sent := 0
	for i := range 10 {
		if l.Check(netip.AddrFrom4([4]byte{198, 51, byte(i), 1}), nx, 5) == Send {
			sent++
		}
	}
	if sent != 3 {
		t.Errorf("%d NXDOMAIN sent in one second from ten networks, want 3", sent)
	}
	if s, _, _ := verdicts(l, client, a, 5, 10); s != 10 {
		t.Errorf("positive answers: %d of 10 sent", s)
	}
	if l.Check(client, nx, 6) != Send {
		t.Error("the next second's first NXDOMAIN was not sent")
	}
}

// TestConcurrent: four workers on one account in one second let exactly
// the rate through.
func TestConcurrent(t *testing.T) {
	l := New(Config{ResponsesPerSecond: 100})
	a := response(t, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if l.Check(client, a, 7) == Send {
					sent.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if sent.Load() != 100 {
		t.Errorf("%d sent, want 100", sent.Load())
	}
}

func BenchmarkCheck(b *testing.B) {
	l := New(Config{ResponsesPerSecond: 1 << 20})
	a := response(b, "www.example.test", dns.TypeA, dns.RcodeSuccess, "")
	b.ReportAllocs()
	for b.Loop() {
		l.Check(client, a, 1)
	}
}
