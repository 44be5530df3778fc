package mep

import (
	"net/netip"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds the network metrics (docs/mep.md, "RTT proximity"):
// a parent that first sees a resolver (LDNS) names it to the other
// parents at once (NW_LDNS_NEW), so that every parent measures its round
// trip to it; each parent sends the RTTs it measured, when they moved by
// more than -RTTTolerance, every few seconds (NW_METRICS). Both ends'
// -nwMetricExchange must be ENABLED; children take no part.

// RTT is one site's round trip to a resolver.
type RTT struct {
	LDNS netip.Prefix // the masked resolver address
	RTT  time.Duration
	// Method is the probe that measured it: PING, DNS or TCP.
	Method string
	// Unreachable: no probe got a reply (RTT is then meaningless).
	Unreachable bool
	Age         time.Duration
}

// maxPendingRTTs bounds the RTTs waiting for the next batch; more are
// dropped (the next change of that resolver's RTT sends it again).
const maxPendingRTTs = 100000

// maxLDNSPerFrame bounds the resolvers or RTTs one frame carries
// (about 40 bytes each: well under the frame cap).
const maxLDNSPerFrame = 8192

var probeMethods = map[string]wire.ProbeMethod{"PING": wire.ProbeMethod_PROBE_PING, "DNS": wire.ProbeMethod_PROBE_DNS, "TCP": wire.ProbeMethod_PROBE_TCP}

// nwPeers returns the connected parent peers network metrics go to.
func (n *Node) nwPeers() []*conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	var to []*conn
	for _, l := range n.links {
		if l.peer.Role != wire.Role_PARENT || !l.peer.NWMetrics {
			continue
		}
		l.mu.Lock()
		if c := l.cur; c != nil {
			to = append(to, c)
		}
		l.mu.Unlock()
	}
	return to
}

func ldnsOf(p netip.Prefix) *wire.LDNS {
	return &wire.LDNS{Addr: p.Addr().AsSlice(), Bits: uint32(p.Bits())}
}

// prefixOf checks a resolver from the wire: 4 or 16 bytes, a mask length
// that fits, the address already masked.
func prefixOf(l *wire.LDNS) (netip.Prefix, bool) {
	if l == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(l.Addr)
	if !ok || int(l.Bits) > a.BitLen() {
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(a, int(l.Bits))
	if p.Masked() != p {
		return netip.Prefix{}, false
	}
	return p, true
}

// AnnounceLDNS names resolvers this site first saw (or still sees) to
// the other parents, at once.
func (n *Node) AnnounceLDNS(ps []netip.Prefix) {
	to := n.nwPeers()
	if len(to) == 0 || len(ps) == 0 {
		return
	}
	for len(ps) > 0 {
		chunk := ps[:min(len(ps), maxLDNSPerFrame)]
		ps = ps[len(chunk):]
		m := &wire.NWLDNSNew{Ldns: make([]*wire.LDNS, len(chunk))}
		for i, p := range chunk {
			m.Ldns[i] = ldnsOf(p)
		}
		for _, c := range to {
			c.send(wire.TypeNWLDNSNew, m) // a failed write closes the connection
		}
	}
}

// ShareRTTs queues RTTs this site measured for the other parents (sent
// every Timers.Sessions).
func (n *Node) ShareRTTs(rs []RTT) {
	n.mu.Lock()
	defer n.mu.Unlock()
	room := maxPendingRTTs - len(n.rtts)
	if room <= 0 {
		return
	}
	n.rtts = append(n.rtts, rs[:min(len(rs), room)]...)
}

// flushRTTs sends the queued RTTs to every connected parent peer with
// -nwMetricExchange.
func (n *Node) flushRTTs() {
	n.mu.Lock()
	rs := n.rtts
	n.rtts = nil
	self := n.cfg.Site
	n.mu.Unlock()
	if len(rs) == 0 {
		return
	}
	to := n.nwPeers()
	for len(rs) > 0 && len(to) > 0 {
		chunk := rs[:min(len(rs), maxLDNSPerFrame)]
		rs = rs[len(chunk):]
		m := &wire.NWMetrics{Site: self, Rtts: make([]*wire.RTT, len(chunk))}
		for i, r := range chunk {
			m.Rtts[i] = &wire.RTT{Ldns: ldnsOf(r.LDNS), RttUs: uint32(min(r.RTT.Microseconds(), 1<<32-1)), Method: probeMethods[r.Method],
				AgeMs: uint32(min(r.Age.Milliseconds(), 1<<32-1)), Unreachable: r.Unreachable}
		}
		for _, c := range to {
			c.send(wire.TypeNWMetrics, m)
		}
	}
}

// nwReceived takes a parent peer's NW_LDNS_NEW or NW_METRICS. A frame
// that does not decode ends the connection; entries that make no sense
// (an address of the wrong length, unmasked bits, another site's
// measurement) are skipped.
func (c *conn) nwReceived(f wire.Frame) error {
	n := c.l.n
	site := c.l.peer.Name
	ignore := c.l.peer.Role != wire.Role_PARENT || !c.l.peer.NWMetrics
	if f.Type == wire.TypeNWLDNSNew {
		var m wire.NWLDNSNew
		if err := wire.Decode(f, &m); err != nil {
			return err
		}
		if ignore || n.opts.OnLDNSNew == nil {
			return nil
		}
		out := make([]netip.Prefix, 0, len(m.Ldns))
		for _, l := range m.Ldns {
			if p, ok := prefixOf(l); ok {
				out = append(out, p)
			}
		}
		if len(out) > 0 {
			n.opts.OnLDNSNew(site, out)
		}
		return nil
	}
	var m wire.NWMetrics
	if err := wire.Decode(f, &m); err != nil {
		return err
	}
	if ignore || n.opts.OnRTT == nil || m.Site != "" && !strings.EqualFold(m.Site, site) {
		return nil
	}
	out := make([]RTT, 0, len(m.Rtts))
	for _, r := range m.Rtts {
		p, ok := prefixOf(r.GetLdns())
		if !ok {
			continue
		}
		x := RTT{LDNS: p, RTT: time.Duration(r.RttUs) * time.Microsecond, Unreachable: r.Unreachable, Age: time.Duration(r.AgeMs) * time.Millisecond}
		switch r.Method {
		case wire.ProbeMethod_PROBE_PING:
			x.Method = "PING"
		case wire.ProbeMethod_PROBE_DNS:
			x.Method = "DNS"
		case wire.ProbeMethod_PROBE_TCP:
			x.Method = "TCP"
		}
		out = append(out, x)
	}
	if len(out) > 0 {
		n.opts.OnRTT(site, out)
	}
	return nil
}
