package dnstest

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// SlowResolver stands in for a client's resolver (LDNS) that a probe
// times: a UDP DNS responder that answers REFUSED (any reply gives a
// timing) after a delay chosen per source address, the delay injected in
// userspace (tc netem is not available), and that counts the queries
// from each source.
type SlowResolver struct {
	pc     net.PacketConn
	mu     sync.Mutex
	delay  time.Duration                // for sources without their own
	delays map[netip.Addr]time.Duration // by source
	from   map[netip.Addr]int
}

// NewSlowResolver listens on addr (ip:port, port 0: a free one) until
// the test ends.
func NewSlowResolver(t testing.TB, addr string) *SlowResolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r := &SlowResolver{pc: pc, delays: map[netip.Addr]time.Duration{}, from: map[netip.Addr]int{}}
	t.Cleanup(func() { pc.Close() })
	go r.serve()
	return r
}

func (r *SlowResolver) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := new(dns.Msg)
		if q.Unpack(buf[:n]) != nil {
			continue
		}
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeRefused)
		b, _ := m.Pack()
		src := from.(*net.UDPAddr).AddrPort().Addr().Unmap()
		r.mu.Lock()
		r.from[src]++
		d, ok := r.delays[src]
		if !ok {
			d = r.delay
		}
		r.mu.Unlock()
		time.AfterFunc(d, func() { r.pc.WriteTo(b, from) })
	}
}

// SetDelay sets the delay of sources without their own.
func (r *SlowResolver) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// SetDelays sets the delay of each source address.
func (r *SlowResolver) SetDelays(delays map[string]time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ip, d := range delays {
		r.delays[netip.MustParseAddr(ip)] = d
	}
}

// Port is the port it listens on.
func (r *SlowResolver) Port() uint16 { return uint16(r.pc.LocalAddr().(*net.UDPAddr).Port) }

// Queries is how many queries came from a source address.
func (r *SlowResolver) Queries(from string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.from[netip.MustParseAddr(from)]
}
