package monitor

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/miekg/dns"
)

// This file holds the resolver (LDNS) probes of the RTT method
// (docs/proximity.md, "RTT"): this site's round trip to each resolver
// the RTT method saw, measured with the built-in monitors ldns-ping,
// ldns-dns and ldns-tcp in -ldnsProbeOrder, each tried when the one
// before got no reply. Unlike a service monitor, any reply gives a
// timing: a DNS answer of any rcode, a TCP SYN-ACK or RST.

// RTTResult is one measurement of a resolver.
type RTTResult struct {
	RTT time.Duration
	// Method is the probe that got a reply: PING, DNS or TCP ("" when
	// none did: Unreachable).
	Method      string
	Unreachable bool
	At          time.Time
}

// LDNSOptions configure an LDNSProber.
type LDNSOptions struct {
	Logger *slog.Logger
	// Result receives each measurement (from the prober's workers).
	Result func(ldns netip.Prefix, r RTTResult)
	// Workers bounds concurrent probes (0: 16).
	Workers int
}

// LDNSSettings are what the probes follow: the gslb parameter's
// -ldnsProbeOrder, the ldns-* monitors (their interval, response
// timeout, destination port; a `set lb monitor ldns-dns ...` changes
// them) and the address probes leave from (the site IP when it is this
// host's; invalid: the kernel chooses).
type LDNSSettings struct {
	Order    []string
	Monitors map[string]*config.MonitorInfo // by probe method: PING, DNS, TCP
	Source   netip.Addr
}

// LDNSSettingsOf takes the settings from a snapshot.
func LDNSSettingsOf(s *config.Snapshot, source netip.Addr) LDNSSettings {
	st := LDNSSettings{Order: s.Param.LDNSProbeOrder, Monitors: map[string]*config.MonitorInfo{}, Source: source}
	for _, m := range []string{"PING", "DNS", "TCP"} {
		if mi := s.Monitors["ldns-"+strings.ToLower(m)]; mi != nil {
			st.Monitors[m] = mi
		}
	}
	return st
}

// LDNSProber measures this site's RTT to resolvers: each added resolver
// at once, then every interval of the first probe's monitor, until it is
// removed.
type LDNSProber struct {
	opts LDNSOptions
	log  *slog.Logger
	work chan netip.Prefix
	wake chan struct{}
	ctx  context.Context // ends with Close: the scheduler, the workers and probes in flight stop
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	set     LDNSSettings
	due     dueHeap
	entries map[netip.Prefix]*dueEntry // by the masked prefix; Addr() of the key as seen
	busy    map[netip.Prefix]bool
	closed  bool
}

type dueEntry struct {
	p   netip.Prefix // the resolver as seen (unmasked address) with its mask length
	at  time.Time
	idx int
}

type dueHeap []*dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].idx = i; h[j].idx = j }
func (h *dueHeap) Push(x any)        { e := x.(*dueEntry); e.idx = len(*h); *h = append(*h, e) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	e.idx = -1
	return e
}

// NewLDNSProber starts a prober with no resolver.
func NewLDNSProber(opts LDNSOptions) *LDNSProber {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &LDNSProber{opts: opts, log: log.With("component", "ldns-probe"), work: make(chan netip.Prefix), wake: make(chan struct{}, 1),
		entries: map[netip.Prefix]*dueEntry{}, busy: map[netip.Prefix]bool{}}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.wg.Add(1 + opts.Workers)
	go p.schedule()
	for range opts.Workers {
		go p.worker()
	}
	return p
}

// Update changes the settings; measurements in flight finish with the
// old ones.
func (p *LDNSProber) Update(s LDNSSettings) {
	p.mu.Lock()
	p.set = s
	p.mu.Unlock()
	p.poke()
}

// Add measures resolvers (as seen: the address is the one probed, the
// mask length keys it) now, and then every interval. A resolver already
// measured is left on its schedule.
func (p *LDNSProber) Add(ps ...netip.Prefix) {
	p.mu.Lock()
	now := time.Now()
	for _, x := range ps {
		k := x.Masked()
		if _, ok := p.entries[k]; ok || p.closed {
			continue
		}
		e := &dueEntry{p: x, at: now}
		p.entries[k] = e
		heap.Push(&p.due, e)
	}
	p.mu.Unlock()
	p.poke()
}

// Remove stops measuring resolvers (by their masked prefix).
func (p *LDNSProber) Remove(ps ...netip.Prefix) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range ps {
		k := x.Masked()
		if e, ok := p.entries[k]; ok {
			delete(p.entries, k)
			if e.idx >= 0 {
				heap.Remove(&p.due, e.idx)
			}
		}
	}
}

// RemoveAll stops measuring every resolver.
func (p *LDNSProber) RemoveAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.entries)
	p.due = p.due[:0]
}

// Len is the number of resolvers measured.
func (p *LDNSProber) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Close stops the prober and waits for its probes.
func (p *LDNSProber) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.stop()
	p.wg.Wait()
}

func (p *LDNSProber) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// interval is how often a resolver is measured: the first probe's
// monitor interval (5 s for ldns-ping).
func (s *LDNSSettings) interval() time.Duration {
	for _, m := range s.Order {
		if mi := s.Monitors[m]; mi != nil && mi.Interval > 0 {
			return mi.Interval
		}
	}
	return 5 * time.Second
}

// schedule hands due resolvers to the workers, one at a time, and puts
// each back on the heap an interval later.
func (p *LDNSProber) schedule() {
	defer p.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		p.mu.Lock()
		var next netip.Prefix
		wait := time.Hour
		if len(p.due) > 0 {
			e := p.due[0]
			if d := time.Until(e.at); d > 0 {
				wait = d
			} else {
				next = e.p
				e.at = time.Now().Add(p.set.interval())
				heap.Fix(&p.due, 0)
				if p.busy[next.Masked()] {
					next = netip.Prefix{} // still measuring: skip this round
				}
			}
		}
		p.mu.Unlock()
		if next.IsValid() {
			select {
			case p.work <- next:
			case <-p.ctx.Done():
				return
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

func (p *LDNSProber) worker() {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case x := <-p.work:
			k := x.Masked()
			p.mu.Lock()
			set := p.set
			_, live := p.entries[k]
			p.busy[k] = true
			p.mu.Unlock()
			if !live {
				p.mu.Lock()
				delete(p.busy, k)
				p.mu.Unlock()
				continue
			}
			r := measure(p.ctx, set, x.Addr())
			p.mu.Lock()
			delete(p.busy, k)
			_, live = p.entries[k]
			p.mu.Unlock()
			if live && p.opts.Result != nil {
				p.opts.Result(k, r)
			}
		}
	}
}

// measure tries each probe in order and returns the first that got a
// reply (ctx ends with the prober).
func measure(ctx context.Context, s LDNSSettings, addr netip.Addr) RTTResult {
	for _, method := range s.Order {
		m := s.Monitors[method]
		if m == nil {
			continue
		}
		timeout := m.RespTimeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		rtt, ok := probeLDNS(pctx, method, m, addr, s.Source)
		cancel()
		if ok {
			return RTTResult{RTT: rtt, Method: method, At: time.Now()}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return RTTResult{Unreachable: true, At: time.Now()}
}

// probeLDNS times one probe of a resolver; ok: it replied.
func probeLDNS(ctx context.Context, method string, m *config.MonitorInfo, addr, source netip.Addr) (time.Duration, bool) {
	port := m.DestPort
	if port == 0 {
		port = 53
	}
	dst := netip.AddrPortFrom(addr, port)
	src := source.IsValid() && source.Is4() == addr.Unmap().Is4()
	switch method {
	case "PING":
		r := probePing(ctx, m, dst)
		return r.RTT, r.OK
	case "DNS":
		// Any reply counts: NOERROR, REFUSED, SERVFAIL all time the path.
		q := new(dns.Msg)
		name := m.Query
		if name == "" {
			name = "."
		}
		q.SetQuestion(dns.Fqdn(name), dns.TypeA)
		c := &dns.Client{Net: "udp"}
		if src {
			c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: source.AsSlice()}}
		}
		start := time.Now()
		_, _, err := c.ExchangeContext(ctx, q, dst.String())
		return time.Since(start), err == nil
	case "TCP":
		// A SYN-ACK or a RST: either is the resolver's round trip.
		var d net.Dialer
		if src {
			d.LocalAddr = &net.TCPAddr{IP: source.AsSlice()}
		}
		start := time.Now()
		c, err := d.DialContext(ctx, "tcp", dst.String())
		rtt := time.Since(start)
		if err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
			return rtt, true
		}
		return rtt, errors.Is(err, syscall.ECONNREFUSED)
	}
	return 0, false
}
