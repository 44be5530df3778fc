package gslb

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// This file holds the LDNS table of the RTT method (docs/proximity.md,
// "RTT"): per resolver (LDNS) address, masked with -ldnsMask /
// -v6ldnsmasklen, the round trip each parent site measured to it. The
// answer path reads it under a shard lock (as the persistence table); a
// first sighting creates the entry and is queued for the prober and the
// other parents; measurements arrive through SetRTT.

// DefaultMaxLDNS bounds the LDNS table: past it, new resolvers are
// answered by the backup method until entries expire (a flood of spoofed
// sources costs bounded memory, about 200 bytes an entry).
const DefaultMaxLDNS = 200000

// SiteRTT is one site's measured round trip to a resolver.
type SiteRTT struct {
	Site string // the measuring site, lower case
	RTT  time.Duration
	// Method is the probe that got the reply: PING, DNS or TCP.
	Method string
	// Unreachable: no probe got a reply; the site is not chosen by RTT
	// for this resolver.
	Unreachable bool
	At          time.Time // when the site measured it
}

// LDNSEntry is a resolver the RTT method knows, as `show gslb
// ldnsentries` lists it.
type LDNSEntry struct {
	LDNS netip.Prefix
	// Seen is the last query from it; the entry goes ldnsEntryTimeout
	// later.
	Seen time.Time
	RTTs []SiteRTT
}

type ldnsTable struct {
	shards [64]ldnsShard
	count  atomic.Int64
	max    int64
	// out receives first sightings, once someone asked for them; full:
	// the sighting is dropped (the next query tries again).
	on  atomic.Bool
	out chan netip.Prefix
}

type ldnsShard struct {
	mu sync.Mutex
	m  map[netip.Prefix]*ldnsEntry
	_  [40]byte
}

type ldnsEntry struct {
	seen      int64 // unix ns of the last query here
	announced int64 // unix ns the other parents were last told of it
	queued    bool  // the first sighting reached the prober
	rtt       []SiteRTT
}

func newLDNSTable(max int) *ldnsTable {
	if max <= 0 {
		max = DefaultMaxLDNS
	}
	t := &ldnsTable{max: int64(max), out: make(chan netip.Prefix, 4096)}
	for i := range t.shards {
		t.shards[i].m = map[netip.Prefix]*ldnsEntry{}
	}
	return t
}

func (t *ldnsTable) shard(p netip.Prefix) *ldnsShard {
	b := p.Addr().As16()
	return &t.shards[(b[15]^b[14]^b[13]^b[11]^b[7])&63]
}

// LDNSKey masks a resolver address as the LDNS table keys it.
func LDNSKey(ip netip.Addr, v4bits, v6bits int) netip.Prefix {
	ip = ip.Unmap()
	bits := v6bits
	if ip.Is4() {
		bits = v4bits
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.PrefixFrom(ip, ip.BitLen())
	}
	return p
}

// entry returns the entry of p, creating it when there is room (created:
// it is new). Called with the shard locked.
func (t *ldnsTable) entry(s *ldnsShard, p netip.Prefix, now int64) (e *ldnsEntry, created bool) {
	if e = s.m[p]; e != nil {
		return e, false
	}
	if t.count.Load() >= t.max {
		return nil, false
	}
	t.count.Add(1)
	e = &ldnsEntry{seen: now, announced: now}
	s.m[p] = e
	return e, true
}

// queue hands a first sighting to the prober (non-blocking): p is the
// resolver as seen (its address unmasked) with the mask length.
func (t *ldnsTable) queue(e *ldnsEntry, p netip.Prefix) {
	if e.queued || !t.on.Load() {
		return
	}
	select {
	case t.out <- p:
		e.queued = true
	default:
	}
}

// rttChoice picks among dec's candidates by the RTT their sites
// measured to the client's resolver: the lowest, with round robin among
// those within the vserver's -tolerance of it. ok false: no site has a
// figure for the resolver (a first sighting is queued for measuring);
// the caller uses the backup method.
func (t *ldnsTable) rttChoice(dec *decision, r *request) (int, bool) {
	client := r.Src
	p := LDNSKey(client, dec.ldnsV4, dec.ldnsV6)
	s := t.shard(p)
	n := r.Now.UnixNano()
	s.mu.Lock()
	var e *ldnsEntry
	if r.dry {
		e = s.m[p] // an explained query is no sighting
	} else {
		e, _ = t.entry(s, p, n)
	}
	if e == nil {
		s.mu.Unlock()
		if r.trace != nil {
			r.note("RTT: the resolver %s (%s) is not measured yet (its first query queues the probes): the backup method", client, p)
		}
		return 0, false
	}
	if !r.dry {
		e.seen = n
		t.queue(e, netip.PrefixFrom(client.Unmap(), p.Bits()))
	}
	best := time.Duration(math.MaxInt64)
	var rtt [maxRTTCands]time.Duration
	k := min(len(dec.rttSite), maxRTTCands)
	for j := range k {
		rtt[j] = -1
		for i := range e.rtt {
			if r := &e.rtt[i]; r.Site == dec.rttSite[j] {
				if !r.Unreachable {
					rtt[j] = r.RTT
					best = min(best, r.RTT)
				}
				break
			}
		}
	}
	s.mu.Unlock()
	if r.trace != nil {
		for j := range k {
			fig := "no figure"
			if rtt[j] >= 0 {
				fig = rtt[j].String()
			}
			r.note("RTT: site %s measured %s to %s for %s", dec.rttSite[j], fig, p, dec.cands[j].svc.Name)
		}
	}
	if best == math.MaxInt64 {
		return 0, false
	}
	limit := best + dec.tolerance
	within := 0
	for j := range k {
		if rtt[j] >= 0 && rtt[j] <= limit {
			within++
		}
	}
	if r.trace != nil {
		r.note("RTT: lowest %s; %d within the tolerance of %s, in turn", best, within, dec.tolerance)
	}
	pick := int(r.next(&dec.counter.n) % uint64(within))
	for j := range k {
		if rtt[j] >= 0 && rtt[j] <= limit {
			if pick == 0 {
				return j, true
			}
			pick--
		}
	}
	panic("unreachable: within counts the candidates")
}

// maxRTTCands bounds the candidates the RTT method compares (the rest
// are not chosen by RTT; a vserver binds a few services per site).
const maxRTTCands = 64

// set stores a site's measurement of p. tolerance > 0 (this site's own
// probes): a figure within tolerance of the stored one is not stored,
// and stored reports false (nothing to tell the other parents).
func (t *ldnsTable) set(p netip.Prefix, r SiteRTT, tolerance time.Duration, now time.Time) (stored bool) {
	s := t.shard(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, _ := t.entry(s, p, now.UnixNano())
	if e == nil {
		return false
	}
	for i := range e.rtt {
		old := &e.rtt[i]
		if old.Site != r.Site {
			continue
		}
		if tolerance > 0 && old.Unreachable == r.Unreachable && (r.Unreachable || (old.RTT-r.RTT).Abs() <= tolerance) {
			return false
		}
		*old = r
		return true
	}
	e.rtt = append(e.rtt, r)
	return true
}

// add creates entries for resolvers another parent names (no sighting is
// queued: the caller measures them); it returns those that were new.
func (t *ldnsTable) add(ps []netip.Prefix, now time.Time) []netip.Prefix {
	var out []netip.Prefix
	n := now.UnixNano()
	for _, p := range ps {
		s := t.shard(p)
		s.mu.Lock()
		if e, created := t.entry(s, p, n); created {
			e.queued = true
			out = append(out, p)
		}
		s.mu.Unlock()
	}
	return out
}

// sweep drops the entries without a query for timeout (gone) and
// returns those queried here since the other parents were last told,
// a third of a timeout ago or more (renew: they keep measuring them).
func (t *ldnsTable) sweep(now time.Time, timeout time.Duration) (gone, renew []netip.Prefix) {
	n := now.UnixNano()
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for p, e := range s.m {
			switch {
			case n-e.seen > int64(timeout):
				delete(s.m, p)
				t.count.Add(-1)
				gone = append(gone, p)
			case e.seen > e.announced && n-e.announced >= int64(timeout/3):
				e.announced = n
				renew = append(renew, p)
			}
		}
		s.mu.Unlock()
	}
	return gone, renew
}

// entries lists the table, sorted by resolver.
func (t *ldnsTable) entries() []LDNSEntry {
	var out []LDNSEntry
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for p, e := range s.m {
			out = append(out, LDNSEntry{LDNS: p, Seen: time.Unix(0, e.seen), RTTs: slices.Clone(e.rtt)})
		}
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b LDNSEntry) int { return a.LDNS.Addr().Compare(b.LDNS.Addr()) })
	return out
}

// remove drops one resolver's entry (ok: it existed), or all of them
// with an invalid prefix.
func (t *ldnsTable) remove(p netip.Prefix) (ok bool) {
	if p.IsValid() {
		s := t.shard(p)
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok = s.m[p]; ok {
			delete(s.m, p)
			t.count.Add(-1)
		}
		return ok
	}
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		t.count.Add(-int64(len(s.m)))
		clear(s.m)
		s.mu.Unlock()
	}
	return false
}

// rttSites returns, per candidate, the site whose RTT stands for it
// (lower case): its own site, or the parent of a child site (children
// do not measure: a child's services use its parent's RTT).
func rttSites(s *config.Snapshot, cands []cand) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		site := c.svc.Site
		for _, si := range s.Sites {
			if strings.EqualFold(si.Name, site) {
				if si.Parent != "" {
					site = si.Parent
				}
				break
			}
		}
		out[i] = key(site)
	}
	return out
}

// NewLDNS returns the resolvers first seen by the RTT method, to measure
// and to name to the other parents: Addr() is the resolver as seen (the
// address to probe), Masked() its entry. Until it is called, none are
// queued.
func (e *Engine) NewLDNS() <-chan netip.Prefix {
	e.ldns.on.Store(true)
	return e.ldns.out
}

// AddLDNS takes resolvers another parent first saw: it returns those
// this site did not know, to measure.
func (e *Engine) AddLDNS(ps []netip.Prefix) []netip.Prefix {
	ks := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		ks[i] = p.Masked()
	}
	return e.ldns.add(ks, time.Now())
}

// RTTOf returns what site measured to a resolver (ok false: nothing).
func (e *Engine) RTTOf(p netip.Prefix, site string) (SiteRTT, bool) {
	p, site = p.Masked(), key(site)
	s := e.ldns.shard(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if en := s.m[p]; en != nil {
		for _, r := range en.rtt {
			if r.Site == site {
				return r, true
			}
		}
	}
	return SiteRTT{}, false
}

// SetRTT stores a site's round trip to a resolver. With tolerance > 0
// (this site's own probes, -RTTTolerance) a change within it is not
// stored and SetRTT reports false: nothing new to tell the other
// parents.
func (e *Engine) SetRTT(p netip.Prefix, r SiteRTT, tolerance time.Duration) bool {
	r.Site = key(r.Site)
	return e.ldns.set(p.Masked(), r, tolerance, time.Now())
}

// SweepLDNS drops the resolvers without a query for timeout
// (-ldnsEntryTimeout) and returns them, and those still queried here
// that the other parents should hear of again.
func (e *Engine) SweepLDNS(timeout time.Duration) (gone, renew []netip.Prefix) {
	return e.ldns.sweep(time.Now(), timeout)
}

// LDNSEntries lists the resolvers the RTT method knows (show gslb
// ldnsentries).
func (e *Engine) LDNSEntries() []LDNSEntry { return e.ldns.entries() }

// RemoveLDNS drops one resolver (rm gslb ldnsentry), or every one with
// an invalid prefix (clear gslb ldnsentries); ok: it was there.
func (e *Engine) RemoveLDNS(p netip.Prefix) bool { return e.ldns.remove(p) }
