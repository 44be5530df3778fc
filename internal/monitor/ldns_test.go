package monitor

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnstest"
)

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
	res := dnstest.NewSlowResolver(t, "127.0.0.1:0")
	res.SetDelay(80 * time.Millisecond)
	p, ch := newProber(t, LDNSSettings{Order: []string{"DNS"}, Source: netip.MustParseAddr("127.0.0.2"),
		Monitors: map[string]*config.MonitorInfo{"DNS": ldnsMonitor("LDNS-DNS", res.Port(), 100*time.Millisecond, time.Second)}})
	p.Add(netip.MustParsePrefix("127.0.0.1/32"))
	r := next(t, ch)
	if r.Unreachable || r.Method != "DNS" || r.RTT < 80*time.Millisecond || r.RTT > 2*time.Second {
		t.Fatalf("measurement %+v, want DNS at 80ms or more", r)
	}
	res.SetDelay(5 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for r = next(t, ch); r.RTT >= 80*time.Millisecond; r = next(t, ch) {
		if time.Now().After(deadline) {
			t.Fatalf("still %v after the delay went down", r.RTT)
		}
	}
	if res.Queries("127.0.0.2") == 0 || res.Queries("127.0.0.1") != 0 {
		t.Fatalf("%d queries from 127.0.0.2 and %d from 127.0.0.1, want all from 127.0.0.2", res.Queries("127.0.0.2"), res.Queries("127.0.0.1"))
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
