package monitor

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/miekg/dns"
)

// slowResolver is a UDP DNS responder that answers REFUSED after a delay
// (a resolver that refuses our query still times the path), and records
// where queries came from.
type slowResolver struct {
	pc    net.PacketConn
	delay atomic.Int64
	mu    sync.Mutex
	from  map[netip.Addr]int
}

func newSlowResolver(t *testing.T, delay time.Duration) *slowResolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &slowResolver{pc: pc, from: map[netip.Addr]int{}}
	r.delay.Store(int64(delay))
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			r.mu.Lock()
			r.from[from.(*net.UDPAddr).AddrPort().Addr().Unmap()]++
			r.mu.Unlock()
			m := new(dns.Msg)
			m.SetRcode(q, dns.RcodeRefused)
			b, _ := m.Pack()
			go func() {
				time.Sleep(time.Duration(r.delay.Load()))
				pc.WriteTo(b, from)
			}()
		}
	}()
	return r
}

func (r *slowResolver) port() uint16 { return uint16(r.pc.LocalAddr().(*net.UDPAddr).Port) }

func (r *slowResolver) queriesFrom(a string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.from[netip.MustParseAddr(a)]
}

// ldnsMonitor is an ldns-* monitor on a port, as `set lb monitor ldns-dns
// LDNS-DNS -destPort N -interval ... -resptimeout ...` makes it.
func ldnsMonitor(typ string, port uint16, interval, timeout time.Duration) *config.MonitorInfo {
	return &config.MonitorInfo{Name: "ldns-x", Type: typ, DestPort: port, Interval: interval, RespTimeout: timeout, Query: "."}
}

func newProber(t *testing.T, set LDNSSettings) (*LDNSProber, chan RTTResult) {
	ch := make(chan RTTResult, 100)
	p := NewLDNSProber(LDNSOptions{Workers: 2, Result: func(_ netip.Prefix, r RTTResult) { ch <- r }})
	t.Cleanup(p.Close)
	p.Update(set)
	return p, ch
}

func next(t *testing.T, ch chan RTTResult) RTTResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no measurement within 10s")
	}
	return RTTResult{}
}

// TestLDNSProbeDNS: a resolver is measured at once and then every
// interval; the DNS probe's timing follows the resolver's delay, a
// REFUSED answer counts, and probes leave from the source address.
func TestLDNSProbeDNS(t *testing.T) {
	res := newSlowResolver(t, 80*time.Millisecond)
	p, ch := newProber(t, LDNSSettings{Order: []string{"DNS"}, Source: netip.MustParseAddr("127.0.0.2"),
		Monitors: map[string]*config.MonitorInfo{"DNS": ldnsMonitor("LDNS-DNS", res.port(), 100*time.Millisecond, time.Second)}})
	p.Add(netip.MustParsePrefix("127.0.0.1/32"))
	r := next(t, ch)
	if r.Unreachable || r.Method != "DNS" || r.RTT < 80*time.Millisecond || r.RTT > 2*time.Second {
		t.Fatalf("measurement %+v, want DNS at 80ms or more", r)
	}
	res.delay.Store(int64(5 * time.Millisecond))
	deadline := time.Now().Add(10 * time.Second)
	for r = next(t, ch); r.RTT >= 80*time.Millisecond; r = next(t, ch) {
		if time.Now().After(deadline) {
			t.Fatalf("still %v after the delay went down", r.RTT)
		}
	}
	if res.queriesFrom("127.0.0.2") == 0 || res.queriesFrom("127.0.0.1") != 0 {
		t.Fatalf("queries came from %v, want 127.0.0.2", res.from)
	}
	p.Remove(netip.MustParsePrefix("127.0.0.1/32"))
	if p.Len() != 0 {
		t.Fatal("removed resolver still measured")
	}
}

// TestLDNSProbeOrder: a probe without a reply gives way to the next in
// -ldnsProbeOrder: a TCP RST from a closed port is a reply; with no probe
// answering the resolver is unreachable.
func TestLDNSProbeOrder(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	dnsMon := ldnsMonitor("LDNS-DNS", uint16(silent.LocalAddr().(*net.UDPAddr).Port), time.Hour, 200*time.Millisecond)
	p1, ch1 := newProber(t, LDNSSettings{Order: []string{"DNS", "TCP"},
		Monitors: map[string]*config.MonitorInfo{"DNS": dnsMon, "TCP": ldnsMonitor("LDNS-TCP", closed, time.Hour, time.Second)}})
	p2, ch2 := newProber(t, LDNSSettings{Order: []string{"DNS"}, Monitors: map[string]*config.MonitorInfo{"DNS": dnsMon}})
	for _, pr := range []*LDNSProber{p1, p2} {
		pr.Add(netip.MustParsePrefix("127.0.0.1/32"))
	}
	if r := next(t, ch1); r.Unreachable || r.Method != "TCP" || r.RTT >= time.Second {
		t.Fatalf("closed TCP port after a silent DNS: %+v, want TCP", r)
	}
	if r := next(t, ch2); !r.Unreachable || r.Method != "" {
		t.Fatalf("silent resolver: %+v, want unreachable", r)
	}
}
