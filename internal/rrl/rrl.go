// Package rrl is response rate limiting as BIND and Knot define it: the
// UDP responses a client network (a /24, a /56) gets for one answer are
// counted in a token bucket of their own, and beyond the configured rate
// they are dropped, or every Slip-th one is sent truncated so that a real
// client asks again over TCP (which is never limited), while a spoofed
// victim receives little. Positive answers (and NODATA) are counted per
// name and type, NXDOMAIN per zone, errors together; each kind has its
// rate.
//
// The table is a fixed array of buckets with no lock: a bucket is one
// 64-bit word (a tag of its key, the second it was last credited, its
// balance) changed with compare-and-swap, so concurrent workers never
// wait for each other. Two keys meeting in one bucket share it until one
// of them takes it over; the table is sized so that this is rare.
package rrl

import (
	"hash/maphash"
	"net/netip"
	"slices"
	"sync/atomic"
)

// Config is the limiter's settings. Zero rates do not limit that kind.
type Config struct {
	ResponsesPerSecond int // positive answers and NODATA, per name and type
	NXDomainsPerSecond int // NXDOMAIN, per zone
	ErrorsPerSecond    int // SERVFAIL, FORMERR, REFUSED, NOTIMP...
	// Window is how many seconds of debt a bucket may run up (1-3600,
	// default 15): a flood must stop that long before its answers flow
	// again.
	Window int
	// Slip: every Slip-th limited response is sent truncated (0: none,
	// all dropped; 1: all truncated). BIND's default, and the
	// configuration's, is 2.
	Slip int
	// IPv4PrefixLen and IPv6PrefixLen group clients (defaults 24 and 56).
	IPv4PrefixLen, IPv6PrefixLen int
	// LogOnly counts what would be limited and limits nothing.
	LogOnly bool
	// Exempt clients are never limited.
	Exempt []netip.Prefix
	// Buckets is the table's size, rounded up to a power of two
	// (default 65,536).
	Buckets int
	// NXDomainThreshold is NetScaler's -NXDOMAINRateLimitThreshold:
	// NXDOMAIN responses per second to everyone together; beyond it they
	// are dropped (0: no such limit). Exempt clients are not counted.
	NXDomainThreshold int
}

// Enabled reports whether c limits anything.
func (c Config) Enabled() bool {
	return c.NXDomainThreshold > 0 || c.ResponsesPerSecond > 0 || c.NXDomainsPerSecond > 0 || c.ErrorsPerSecond > 0
}

// Equal reports whether two configurations are the same.
func (c Config) Equal(o Config) bool {
	return c.ResponsesPerSecond == o.ResponsesPerSecond && c.NXDomainsPerSecond == o.NXDomainsPerSecond &&
		c.ErrorsPerSecond == o.ErrorsPerSecond && c.Window == o.Window && c.Slip == o.Slip &&
		c.IPv4PrefixLen == o.IPv4PrefixLen && c.IPv6PrefixLen == o.IPv6PrefixLen && c.LogOnly == o.LogOnly &&
		c.Buckets == o.Buckets && c.NXDomainThreshold == o.NXDomainThreshold && slices.Equal(c.Exempt, o.Exempt)
}

// Verdict is what to do with a response.
type Verdict uint8

const (
	Send     Verdict = iota // as it is
	Drop                    // limited: nothing is sent
	Truncate                // limited, slipped: sent truncated (TC, no records)
)

// Kind is what a response is counted as.
type Kind uint8

const (
	Positive Kind = iota
	NXDomain
	Error
	NumKinds
)

// Limiter applies a Config. Check is safe for concurrent use.
type Limiter struct {
	cfg     Config
	rate    [NumKinds]int64
	seed    maphash.Seed
	buckets []bucket
	mask    uint64
	// Limited counts, per kind, responses over the rate (dropped,
	// truncated, or in LogOnly mode let through); Truncated those of
	// them sent truncated.
	Limited   [NumKinds]atomic.Uint64
	Truncated atomic.Uint64
	// nx counts this second's NXDOMAIN responses for NXDomainThreshold:
	// the second (high 32 bits) and the count.
	nx atomic.Uint64
}

type bucket struct {
	state atomic.Uint64 // tag (24 bits) | second (16) | balance (24, signed)
	slips atomic.Uint32
	_     [4]byte
}

// New returns a limiter for cfg, its defaults filled in.
func New(cfg Config) *Limiter {
	if cfg.Window <= 0 {
		cfg.Window = 15
	}
	cfg.Window = min(cfg.Window, 3600)
	if cfg.Slip < 0 {
		cfg.Slip = 0
	}
	if cfg.IPv4PrefixLen <= 0 || cfg.IPv4PrefixLen > 32 {
		cfg.IPv4PrefixLen = 24
	}
	if cfg.IPv6PrefixLen <= 0 || cfg.IPv6PrefixLen > 128 {
		cfg.IPv6PrefixLen = 56
	}
	want := cfg.Buckets
	if want <= 0 {
		want = 1 << 16
	}
	n := 1
	for n < min(want, 1<<24) {
		n <<= 1
	}
	l := &Limiter{cfg: cfg, seed: maphash.MakeSeed(), buckets: make([]bucket, n), mask: uint64(n - 1)}
	l.rate[Positive], l.rate[NXDomain], l.rate[Error] = int64(cfg.ResponsesPerSecond), int64(cfg.NXDomainsPerSecond), int64(cfg.ErrorsPerSecond)
	for k := range l.rate {
		l.rate[k] = min(l.rate[k], 1<<20/int64(cfg.Window)) // the balance fits its 24 bits
	}
	return l
}

// Config is the limiter's settings with their defaults.
func (l *Limiter) Config() Config { return l.cfg }

// Check counts a UDP response to src (resp the whole message, q the
// query it answers) at second now (any monotonic count of seconds) and
// says what to send.
func (l *Limiter) Check(src netip.Addr, resp []byte, now int64) Verdict {
	kind, name, qtype, ok := classify(resp)
	if !ok || l.rate[kind] == 0 && (kind != NXDomain || l.cfg.NXDomainThreshold == 0) {
		return Send
	}
	for _, p := range l.cfg.Exempt {
		if p.Contains(src) {
			return Send
		}
	}
	if kind == NXDomain && l.cfg.NXDomainThreshold > 0 && !l.nxUnder(now) {
		l.Limited[kind].Add(1)
		if l.cfg.LogOnly {
			return Send
		}
		return Drop
	}
	if l.rate[kind] == 0 {
		return Send
	}
	h := l.key(src, kind, name, qtype)
	b := &l.buckets[h&l.mask]
	if l.take(b, uint32(h>>40), l.rate[kind], now) {
		return Send
	}
	l.Limited[kind].Add(1)
	if l.cfg.LogOnly {
		return Send
	}
	if l.cfg.Slip > 0 && b.slips.Add(1)%uint32(l.cfg.Slip) == 0 {
		l.Truncated.Add(1)
		return Truncate
	}
	return Drop
}

// nxUnder counts an NXDOMAIN response in this second and reports whether
// it is within NXDomainThreshold.
func (l *Limiter) nxUnder(now int64) bool {
	sec := uint64(uint32(now))
	for {
		old := l.nx.Load()
		n := uint64(0)
		if old>>32 == sec {
			n = old & 0xffffffff
		}
		if n >= uint64(l.cfg.NXDomainThreshold) {
			return false
		}
		if l.nx.CompareAndSwap(old, sec<<32|(n+1)) {
			return true
		}
	}
}

// take debits a bucket, crediting it first with rate per second since it
// was last credited (at most rate in store); false: over the rate.
func (l *Limiter) take(b *bucket, tag uint32, rate, now int64) bool {
	floor := -rate * int64(l.cfg.Window)
	sec := uint64(now) & 0xffff
	for {
		old := b.state.Load()
		oTag, oSec, bal := uint32(old>>40), old>>24&0xffff, int64(int32(uint32(old&0xffffff)<<8)>>8)
		switch {
		case old == 0 || oTag != tag:
			bal = rate // a new account starts full
		default:
			if el := int64((sec - oSec) & 0xffff); el > 0 {
				bal = min(rate, bal+el*rate)
			}
		}
		bal--
		ok := bal >= 0
		bal = max(bal, floor)
		next := uint64(tag)<<40 | sec<<24 | uint64(uint32(bal)&0xffffff)
		if b.state.CompareAndSwap(old, next) {
			return ok
		}
	}
}

// key hashes the account: the client's network, the kind and, for
// positive answers, the name and type; for NXDOMAIN the zone's name.
func (l *Limiter) key(src netip.Addr, kind Kind, name []byte, qtype uint16) uint64 {
	bits := l.cfg.IPv4PrefixLen
	if src.Is6() && !src.Is4In6() {
		bits = l.cfg.IPv6PrefixLen
	}
	p, _ := src.Unmap().Prefix(bits)
	a := p.Addr().As16()
	var buf [16 + 3 + 255]byte
	k := append(buf[:0], a[:]...)
	k = append(k, byte(kind), byte(qtype>>8), byte(qtype))
	for _, c := range name[:min(len(name), 255)] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k = append(k, c)
	}
	return maphash.Bytes(l.seed, k) | 1<<63 // a bucket in use is never 0
}

// classify reads what a response is counted as: its kind, and the name
// its account is for (the question's; for NXDOMAIN the zone's, the
// owner of the SOA in the authority section, when it can be found) with
// the question's type. ok is false for what is not a response to one
// question.
func classify(resp []byte) (kind Kind, name []byte, qtype uint16, ok bool) {
	if len(resp) < 12 || resp[2]&0x80 == 0 || resp[4] != 0 || resp[5] != 1 {
		return 0, nil, 0, false
	}
	qEnd := skipName(resp, 12)
	if qEnd < 0 || qEnd+4 > len(resp) {
		return 0, nil, 0, false
	}
	name, qtype = resp[12:qEnd], uint16(resp[qEnd])<<8|uint16(resp[qEnd+1])
	switch resp[3] & 0x0f {
	case 0:
		return Positive, name, qtype, true
	case 3:
		if zone := nxZone(resp, qEnd+4); zone != nil {
			return NXDomain, zone, 0, true
		}
		return NXDomain, name, 0, true
	}
	return Error, nil, 0, true
}

// skipName returns the offset after the name at off (-1: malformed).
func skipName(b []byte, off int) int {
	for steps := 0; off < len(b) && steps < 128; steps++ {
		switch c := int(b[off]); {
		case c == 0:
			return off + 1
		case c&0xc0 == 0xc0:
			if off+2 > len(b) {
				return -1
			}
			return off + 2
		case c&0xc0 != 0:
			return -1
		default:
			off += 1 + c
		}
	}
	return -1
}

// nxZone finds an NXDOMAIN's zone: the owner name of the first authority
// record, as the bytes of the question's name it points into (nil when
// it is written otherwise).
func nxZone(b []byte, off int) []byte {
	an := int(b[6])<<8 | int(b[7])
	for range an { // NXDOMAIN may carry a CNAME chain
		if off = skipName(b, off); off < 0 || off+10 > len(b) {
			return nil
		}
		off += 10 + (int(b[off+8])<<8 | int(b[off+9]))
	}
	if int(b[8])<<8|int(b[9]) == 0 || off+2 > len(b) {
		return nil
	}
	qEnd := skipName(b, 12)
	switch c := b[off]; {
	case c&0xc0 == 0xc0:
		p := int(c&0x3f)<<8 | int(b[off+1])
		if p >= 12 && p < qEnd {
			return b[p:qEnd]
		}
	case c == 0:
		return b[off : off+1] // the root
	}
	return nil
}
