package gslb

import (
	"fmt"
	"hash/fnv"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/location"
)

// mode is what a vserver answers with.
type mode uint8

const (
	modeServe   mode = iota // select among cands
	modeAllDown             // every service down: backup IP, EDR or fail open (per domain)
	modeEmpty               // disabled with no backup: empty answer
)

// LB round-robin reasons (NetScaler lbrrreason, docs §3.4).
const (
	rrNone       = 0
	rrMEPDown    = 1  // MEP is DOWN: a remote service's metrics are stale
	rrNoDecision = 12 // no decision possible
)

// cand is an eligible service with its weight.
type cand struct {
	svc    *config.ServiceInfo
	weight int
	lname  string // lower-case service name (persistence and index key)
	st     *svcState
}

// decision is a vserver's answer plan, computed at rebuild.
type decision struct {
	mode    mode
	method  config.Method // method actually used
	cands   []cand
	seq     []uint16 // weighted round-robin order over cands
	hash    []uint16 // SOURCEIPHASH slots -> cand index
	index   map[string]int
	served  string // vserver whose services are served (itself or a backup)
	reason  int    // lbrrreason
	why     string // human text for the reason
	counter *counter
	// rtt: the RTT method chooses per query from the LDNS table, by the
	// site each candidate's RTT is measured from (rttSite, computed from
	// sites, the snapshot's), within tolerance of the lowest; when no
	// site has measured the client's resolver, seq or hash (the backup
	// method) decide, or the query is dropped (dropLDNS). ldnsV4 and
	// ldnsV6 mask the resolver address.
	rtt            bool
	rttSite        []string
	sites          []*config.SiteInfo
	tolerance      time.Duration
	ldnsV4, ldnsV6 int
	dropLDNS       bool
	// static: STATICPROXIMITY chooses per query by the location of the
	// client (its ECS subnet or address) against each candidate's
	// (svcLoc, nil: the service's address has none and matches any),
	// from locs; no location or no match: seq or hash decide.
	static bool
	svcLoc []*location.Location
	locs   *location.DB
}

// counter is a per-vserver round-robin position and the vserver's hit
// counts, kept across rebuilds and padded so that two vservers' counters
// never share a cache line. Services and domains count their hits in the
// same type (hits only).
type counter struct {
	n          uint64 // round-robin position
	hits       uint64 // answers decided (tothits; a service: times chosen; a domain: queries)
	backupHits uint64 // answers given with a backup vserver's services
	// fallbacks: choices RTT or STATICPROXIMITY could not make (the
	// resolver not measured, no location, no agreement), left to the
	// backup method or dropped.
	fallbacks uint64
	_         [32]byte
}

// svcState is what the engine knows of one service at run time. Each
// metric keeps its own time, as different sources report different ones.
type svcState struct {
	state health.State
	// effective is the effective state a source reported (Unknown: the
	// same as state): considerEffectiveState reads it.
	effective health.State
	reason    string
	// transitions counts the state changes after the first report.
	transitions uint64
	metrics     health.Metrics
	exp         [health.NumMetrics]time.Time // when each metric goes stale
	// users are the vservers (lower-case) whose computed answers read
	// this state; dirty: changed since the last rebuild (in Engine.dirty).
	users    []string
	usersSet map[string]bool // users as a set once there are many (a service in 1,000 vservers)
	dirty    bool
	// metricUser: a vserver with a metric method, or the service's
	// -maxClient, read its metrics (set once, kept: a stale flag costs a
	// spare rebuild, not a wrong answer).
	metricUser bool
}

// merge takes the metrics present in m, valid for m.MaxAge (or maxAge).
func (st *svcState) merge(m *health.Metrics, maxAge time.Duration) {
	if m.MaxAge > 0 {
		maxAge = m.MaxAge
	}
	for k := range health.Metric(health.NumMetrics) {
		if m.Present(k) {
			st.metrics = st.metrics.With(k, m.Value(k))
			st.exp[k] = m.At.Add(maxAge)
		}
	}
	if m.Present(health.Load) {
		st.metrics.Overloaded = m.Overloaded
	}
}

// fresh reports whether metric k is present and not stale.
func (st *svcState) fresh(k health.Metric, now time.Time) bool {
	return st.metrics.Present(k) && !now.After(st.exp[k])
}

// eligible reports whether a service can be answered.
func eligible(s *config.ServiceInfo, st *svcState, now time.Time) bool {
	if s.Disabled || st.state == health.Down || st.state == health.OutOfService {
		return false
	}
	if s.MaxClient > 0 && st.fresh(health.Connections, now) && st.metrics.Connections >= s.MaxClient {
		return false
	}
	return true
}

// metricOf maps a dynamic method to the metric it needs.
func metricOf(m config.Method) (health.Metric, bool) {
	switch m {
	case config.LeastConnection:
		return health.Connections, true
	case config.LeastResponseTime:
		return health.ResponseTime, true
	case config.LeastBandwidth:
		return health.Bandwidth, true
	case config.LeastPackets:
		return health.Packets, true
	case config.CustomLoad:
		return health.Load, true
	}
	return 0, false
}

// score returns the load of a candidate for a metric method, divided by its
// weight, and false if a needed metric is missing or stale.
func score(m config.Method, c cand, st *svcState, now time.Time) (float64, bool) {
	k, ok := metricOf(m)
	if !ok {
		return 0, false
	}
	mt := &st.metrics
	if !st.fresh(k, now) {
		return 0, false
	}
	v := float64(mt.Value(k))
	if m == config.LeastResponseTime {
		if !st.fresh(health.Connections, now) {
			return 0, false
		}
		// Seed: active connections x average response time. Deviation:
		// (connections+1), so that an idle fast service beats an idle slow one.
		v = float64(mt.Connections+1) * float64(mt.ResponseTime)
	}
	return v / float64(c.weight), true
}

// plan chooses among the eligible candidates with the vserver's method,
// falling back to the backup method and then to round robin when the
// method cannot decide (no fresh metrics, no location data).
func plan(vs *config.VServerInfo, cands []cand, now time.Time) decision {
	d := decision{mode: modeServe, method: vs.Method, cands: cands}
	methods := []config.Method{vs.Method}
	if vs.BackupMethod != "" && vs.BackupMethod != vs.Method {
		methods = append(methods, vs.BackupMethod)
	}
	// Round robin always decides: it ends every list.
	methods = append(methods, config.RoundRobin)
	for i, m := range methods {
		switch m {
		case config.RoundRobin:
			d.method = m
			d.seq = weightedSequence(cands)
			return d
		case config.SourceIPHash:
			d.method = m
			d.hash = hashTable(cands)
			return d
		case config.RTT:
			// Decided per query (rttChoice); the methods after it
			// decide when the client's resolver has no figure yet.
			d.rtt = true
			continue
		case config.StaticProximity:
			// Decided per query (staticChoice), like RTT.
			d.static = true
			continue
		case config.API:
			if i == 0 {
				d.reason, d.why = rrNoDecision, fmt.Sprintf("%s has no data source yet", m)
			}
			continue
		}
		best := math.Inf(1)
		var idx []int
		var missing *config.ServiceInfo
		// CUSTOMLOAD leaves out services whose LOAD monitor saw a metric
		// reach its threshold, unless all of them did.
		skipOver := false
		if m == config.CustomLoad {
			for _, c := range cands {
				if !c.st.metrics.Overloaded {
					skipOver = true
					break
				}
			}
		}
		for j, c := range cands {
			st := c.st
			s, ok := score(m, c, st, now)
			if !ok {
				missing = c.svc
				break
			}
			if skipOver && st.metrics.Overloaded {
				continue
			}
			switch {
			case s < best:
				best, idx = s, append(idx[:0], j)
			case s == best:
				idx = append(idx, j)
			}
		}
		if missing != nil {
			if i == 0 {
				k, _ := metricOf(m)
				d.reason, d.why = rrNoDecision, fmt.Sprintf("no fresh %s metric for service %q", k, missing.Name)
				if !missing.Local && missing.Site != "" && missing.Load.Kind == "" {
					// A remote service's figures come over MEP unless a
					// load source polls it from here (NetScaler's
					// lbrrreason 1).
					d.reason, d.why = rrMEPDown, fmt.Sprintf("MEP DOWN: no fresh %s metric for service %q from site %q", k, missing.Name, missing.Site)
				}
			}
			continue
		}
		d.method = m
		d.seq = make([]uint16, len(idx))
		for j, x := range idx {
			d.seq[j] = uint16(x)
		}
		return d // with i > 0 a fallback decided and the reason says why
	}
	panic("unreachable: round robin ends the method list")
}

// weightedSequence is smooth weighted round robin (as nginx): each service
// appears weight times per cycle, interleaved.
func weightedSequence(cands []cand) []uint16 {
	total := 0
	same := true
	for _, c := range cands {
		total += c.weight
		if c.weight != cands[0].weight {
			same = false
		}
	}
	if same {
		seq := make([]uint16, len(cands))
		for i := range seq {
			seq[i] = uint16(i)
		}
		return seq
	}
	cur := make([]int, len(cands))
	seq := make([]uint16, 0, total)
	for range total {
		best := 0
		for i, c := range cands {
			cur[i] += c.weight
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq = append(seq, uint16(best))
	}
	return seq
}

// hashSlots is the size of a SOURCEIPHASH table (a prime).
const hashSlots = 4093

// hashTable maps each slot to a candidate by weighted rendezvous hashing:
// the same client lands on the same service on every site and after every
// restart (the table depends only on the services' stable keys and
// weights), and when a service leaves only its own slots move.
func hashTable(cands []cand) []uint16 {
	keys := make([]uint64, len(cands))
	for i, c := range cands {
		keys[i] = serviceKey(c.svc)
	}
	t := make([]uint16, hashSlots)
	for slot := range t {
		best, bestScore := 0, math.Inf(-1)
		for i, c := range cands {
			u := float64(mix64(uint64(slot)^keys[i])>>11) / (1 << 53)
			if u == 0 {
				u = 1.0 / (1 << 53)
			}
			s := -float64(c.weight) / math.Log(u)
			if s > bestScore {
				best, bestScore = i, s
			}
		}
		t[slot] = uint16(best)
	}
	return t
}

// serviceKey is a service's stable hash key: its -hashId, else its name.
func serviceKey(s *config.ServiceInfo) uint64 {
	if s.HashID != 0 {
		return mix64(uint64(s.HashID))
	}
	h := fnv.New64a()
	h.Write([]byte(key(s.Name)))
	return h.Sum64()
}

// mix64 is the SplitMix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// clientSlot hashes a client address masked to bits (v4) or v6bits.
func clientSlot(ip netip.Addr, v4bits, v6bits int) int {
	p := maskAddr(ip, v4bits, v6bits)
	// FNV-1a over the 16-byte form, without allocating.
	b := p.As16()
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int(mix64(h) % hashSlots)
}

// maskAddr masks a client address to v4bits or v6bits (a length that
// does not fit leaves it whole).
func maskAddr(ip netip.Addr, v4bits, v6bits int) netip.Addr {
	return LDNSKey(ip, v4bits, v6bits).Addr()
}

// addUser records that vserver u read this state.
func (st *svcState) addUser(u string) {
	if st.usersSet != nil {
		if !st.usersSet[u] {
			st.usersSet[u] = true
			st.users = append(st.users, u)
		}
		return
	}
	if slices.Contains(st.users, u) {
		return
	}
	st.users = append(st.users, u)
	if len(st.users) > 16 {
		st.usersSet = make(map[string]bool, len(st.users))
		for _, x := range st.users {
			st.usersSet[x] = true
		}
	}
}
