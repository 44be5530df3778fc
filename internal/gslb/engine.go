package gslb

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/zone"
)

func key(name string) string { return strings.ToLower(name) }

// Options configure an Engine. The zero value is usable.
type Options struct {
	// Logger receives state changes (nil: discard).
	Logger *slog.Logger
	// MaxUDPSize is the EDNS buffer size gslbd advertises and the most it
	// sends over UDP (default 1232, the DNS flag day 2020 value: no IP
	// fragmentation on common paths; larger answers go to TCP).
	MaxUDPSize int
	// MetricMaxAge is how old a load metric may be before a metric method
	// treats it as missing and falls back (default 15s: three NetScaler
	// default monitor intervals).
	MetricMaxAge time.Duration
	// MetricRefresh is the least time between two rebuilds caused only by
	// new load metrics (default 500ms): thousands of services reporting
	// every second cost one rebuild per period, not one per report. State
	// changes rebuild at once.
	MetricRefresh time.Duration
	// MaxLDNS bounds the RTT method's LDNS table (0: DefaultMaxLDNS).
	MaxLDNS int
	// Events receives service and vserver state changes (nil: none).
	Events *events.Log
}

// Engine answers DNS queries for a configuration. It is safe for
// concurrent use: ServeDNS runs lock-free on an immutable table; Load and
// Report build a new table and swap it atomically.
type Engine struct {
	opts  Options
	log   *slog.Logger
	table atomic.Pointer[table]

	mu    sync.Mutex // serialises writers
	snap  *config.Snapshot
	zones *zone.Set
	// wire is zones' static answers precomputed (built with zones).
	wire   *zone.Wire
	states map[string]*svcState // by lower-case service name; cells are never replaced
	// memo keeps each vserver's entry and answers with what they were
	// computed from, so that a rebuild recomputes only the vservers whose
	// inputs changed (see buildTable).
	memo map[string]*vsMemo
	// recomputed counts the vservers the last rebuild computed again;
	// buildGen counts rebuilds (vsMemo.gen).
	recomputed int
	buildGen   uint64
	// dirty are the state cells changed since the last rebuild.
	dirty    []*svcState
	counters map[string]*counter // by lower-case vserver name
	// serviceHits and domainHits count answers per service and queries
	// per domain (lower case), kept across rebuilds.
	serviceHits, domainHits map[string]*counter
	// primaryOff holds vservers switched off by -disablePrimaryOnDown,
	// with the EnableSeq they had then, until an administrator enables
	// them again (enable gslb vserver: a higher EnableSeq).
	primaryOff map[string]uint64
	hashCache  map[string]hashCacheEntry
	persist    *persistTable
	ldns       *ldnsTable
	// locs is static proximity's database: fileLocs (the location files,
	// nil: none) with the snapshot's custom ranges laid over it.
	locs, fileLocs *location.DB
	timer          *time.Timer
	gen            uint64
	// metricCells are the states whose metrics can change a decision
	// (svcState.metricUser).
	metricCells []*svcState
	lastBuild   time.Time
	refresh     *time.Timer // pending metric-only rebuild
}

type hashCacheEntry struct {
	sig   string
	table []uint16
}

// New returns an engine with no configuration: it refuses every query
// until Load.
func New(opts Options) *Engine {
	if opts.MaxUDPSize == 0 {
		opts.MaxUDPSize = 1232
	}
	if opts.MetricMaxAge == 0 {
		opts.MetricMaxAge = 15 * time.Second
	}
	if opts.MetricRefresh == 0 {
		opts.MetricRefresh = 500 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		opts: opts, log: log.With("component", "gslb"),
		states: map[string]*svcState{}, memo: map[string]*vsMemo{}, counters: map[string]*counter{}, serviceHits: map[string]*counter{}, domainHits: map[string]*counter{}, primaryOff: map[string]uint64{},
		hashCache: map[string]hashCacheEntry{}, persist: newPersistTable(), ldns: newLDNSTable(opts.MaxLDNS),
	}
	e.table.Store(&table{zones: zone.NewSet(), maxUDP: opts.MaxUDPSize, ldns: e.ldns, persist: e.persist})
	return e
}

var _ health.Sink = (*Engine)(nil)

// Load switches to a new configuration. Service states are kept by name.
// The new table is complete before it is swapped in, so a query sees
// either the old configuration or the new one, never a mix.
func (e *Engine) Load(s *config.Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.snap
	e.snap = s
	for k, seq := range e.primaryOff {
		if vs := s.VServer(k); vs == nil || vs.EnableSeq > seq {
			delete(e.primaryOff, k)
			if vs != nil {
				e.log.Info("vserver enabled again after disablePrimaryOnDown", "vserver", vs.Name)
			}
		}
	}
	// A service removed loses its hit counter: added again, it counts from
	// zero. An incremental config build keeps the service list when no
	// service changed, and then nothing is scanned.
	if old != nil && !sameList(old.Services, s.Services) {
		for k := range e.serviceHits {
			if s.Service(k) == nil {
				delete(e.serviceHits, k)
			}
		}
	}
	// Zones are built again only when the snapshot's zones or the zone of
	// a GSLB domain changed (an incremental config build keeps both).
	if e.zones == nil || old == nil || !s.SameZones(old) {
		e.zones = buildZones(s)
		e.wire = e.zones.Compile()
	}
	if old == nil || !slices.Equal(old.Locations.Custom, s.Locations.Custom) {
		e.overlayLocations()
	}
	e.rebuild(time.Now())
}

// sameList reports whether a and b are the same slice.
func sameList[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// touch marks a state cell changed: the vservers that read it are
// computed again at the next rebuild.
func (e *Engine) touch(st *svcState) {
	if !st.dirty {
		st.dirty = true
		e.dirty = append(e.dirty, st)
	}
}

// cell returns the state cell of a service, made on first use.
func (e *Engine) cell(k string) *svcState {
	st := e.states[k]
	if st == nil {
		st = &svcState{}
		e.states[k] = st
	}
	return st
}

// Report takes health and load observations (health.Sink). A state change
// is in the answers when Report returns; new metrics are within
// MetricRefresh (Flush applies them at once).
func (e *Engine) Report(rs ...health.Report) {
	e.mu.Lock()
	defer e.mu.Unlock()
	stateChanged, metricsChanged := false, false
	for _, r := range rs {
		k := key(r.Service)
		st := e.cell(k)
		if r.State != health.Unknown && r.Effective != st.effective {
			st.effective = r.Effective
			stateChanged = true
			e.touch(st)
		}
		if r.State != health.Unknown && r.State != st.state {
			e.log.Info("service state changed", "service", r.Service, "from", st.state.String(), "to", r.State.String(),
				"reason", r.Reason, "source", r.Source)
			if st.state != health.Unknown {
				st.transitions++
			}
			e.opts.Events.Add(events.Event{Kind: events.Service, Name: r.Service, From: st.state.String(), To: r.State.String(),
				Reason: r.Reason, Source: r.Source})
			st.state = r.State
			st.reason = r.Reason
			stateChanged = true
			e.touch(st)
		} else if r.State != health.Unknown && r.Reason != "" {
			st.reason = r.Reason // same state, new reason: nothing to rebuild
		}
		if r.Metrics != nil {
			st.merge(r.Metrics, e.opts.MetricMaxAge)
			metricsChanged = metricsChanged || st.metricUser
			e.touch(st)
		}
	}
	if e.snap == nil {
		return
	}
	now := time.Now()
	switch {
	case stateChanged:
		e.rebuild(now)
	case metricsChanged && e.refresh == nil:
		wait := e.lastBuild.Add(e.opts.MetricRefresh).Sub(now)
		if wait <= 0 {
			e.rebuild(now)
			return
		}
		e.refresh = time.AfterFunc(wait, e.Flush)
	}
}

// Flush applies metrics reported since the last rebuild now.
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.snap != nil {
		e.rebuild(time.Now())
	}
}

// isOff reports whether a vserver is switched off by
// -disablePrimaryOnDown (e.mu held); Load turns it on again.
func (e *Engine) isOff(x *config.VServerInfo) bool {
	_, ok := e.primaryOff[key(x.Name)]
	return ok
}

// VServerStatus is the live state of a vserver (NetScaler show gslb vserver).
type VServerStatus struct {
	Name    string
	State   string // UP, DOWN, OUT OF SERVICE
	Serving string // vserver whose services are answered ("" when none)
	// AllDown says how the vserver answers when no service of its own
	// or of its backup chain is UP (fail open, backup IPs, EDR); "" while
	// one is.
	AllDown        string
	Method         string // method in use
	LBRRReason     int
	LBRRReasonText string
	ActiveServices int
	TotalServices  int
	Hits           uint64 // answers decided since the vserver was added (tothits)
	BackupHits     uint64 // of those, answered with a backup vserver's services
	// ProximityFallbacks counts the choices RTT or STATICPROXIMITY could
	// not make (an unmeasured resolver, a client without a location or
	// agreeing with no service): the backup method answered, or
	// -dropLdnsReq dropped the query.
	ProximityFallbacks uint64
}

// Status returns the state of every vserver.
func (e *Engine) Status() []VServerStatus {
	t := e.table.Load()
	out := make([]VServerStatus, 0, len(t.vservers))
	for _, v := range t.vservers {
		st := v.status
		st.Hits, st.BackupHits = atomic.LoadUint64(&v.hits.hits), atomic.LoadUint64(&v.hits.backupHits)
		st.ProximityFallbacks = atomic.LoadUint64(&v.hits.fallbacks)
		out = append(out, st)
	}
	return out
}

// DomainHits returns the queries answered per GSLB domain (lower case,
// without the final dot) since the domain was bound.
func (e *Engine) DomainHits() map[string]uint64 {
	t := e.table.Load()
	out := make(map[string]uint64, t.domains.Len())
	for name, d := range t.domains.All() { // keys: lower case, no final dot
		out[name] = atomic.LoadUint64(&d.hits.hits)
	}
	return out
}

// ServiceStatus is what the engine knows of a GSLB service.
type ServiceStatus struct {
	Name    string
	State   health.State // Unknown: nothing reported; answered as UP
	Reason  string
	Metrics health.Metrics
	Hits    uint64 // times chosen for an answer (vsvrservicehits)
	// Transitions counts the state changes since the first state known.
	Transitions uint64
}

// ServiceStatus returns the state of every configured service.
func (e *Engine) ServiceStatus() []ServiceStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.snap == nil {
		return nil
	}
	out := make([]ServiceStatus, 0, len(e.snap.Services))
	for _, s := range e.snap.Services {
		st := e.states[key(s.Name)]
		if st == nil {
			st = &svcState{}
		}
		var hits uint64
		if c := e.serviceHits[key(s.Name)]; c != nil {
			hits = atomic.LoadUint64(&c.hits)
		}
		out = append(out, ServiceStatus{Name: s.Name, State: st.state, Reason: st.reason, Metrics: st.metrics, Hits: hits, Transitions: st.transitions})
	}
	return out
}

// rebuild recomputes every decision and answer; e.mu is held.
func (e *Engine) rebuild(now time.Time) {
	e.gen++
	e.lastBuild = now
	if e.refresh != nil {
		e.refresh.Stop()
		e.refresh = nil
	}
	t := e.buildTable(now)
	e.table.Store(t)
	e.scheduleExpiry(t.nextExpiry)
}

// scheduleExpiry rebuilds when the freshest metric used by a decision
// becomes stale, so that falling back needs no query-time clock checks.
func (e *Engine) scheduleExpiry(at time.Time) {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	if at.IsZero() {
		return
	}
	gen := e.gen
	e.timer = time.AfterFunc(time.Until(at)+time.Millisecond, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.gen == gen && e.snap != nil {
			e.rebuild(time.Now())
		}
	})
}

// Close stops timers.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.refresh != nil {
		e.refresh.Stop()
	}
	e.snap = nil
}

func (e *Engine) counter(vs string) *counter { return hitsOf(e.counters, key(vs)) }

// hitsOf returns m's counter for k, made on first use.
func hitsOf(m map[string]*counter, k string) *counter {
	c := m[k]
	if c == nil {
		c = &counter{}
		m[k] = c
	}
	return c
}

// SetLocations replaces the static-proximity database read from the
// location files (nil: none); the configuration's custom ranges (add
// location) are laid over it. The vservers that use it are computed
// again.
func (e *Engine) SetLocations(db *location.DB) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fileLocs = db
	if e.snap != nil {
		e.overlayLocations()
		e.rebuild(time.Now())
	}
}

// overlayLocations lays the snapshot's custom ranges over the files'
// database.
func (e *Engine) overlayLocations() {
	custom := e.snap.Locations.Custom
	if len(custom) == 0 {
		e.locs = e.fileLocs
		return
	}
	db, err := e.fileLocs.WithCustom(custom)
	if err != nil { // checked by the configuration
		e.log.Error("custom locations not used", "err", err)
		db = e.fileLocs
	}
	e.locs = db
}
