package gslb

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
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
}

// Engine answers DNS queries for a configuration. It is safe for
// concurrent use: ServeDNS runs lock-free on an immutable table; Load and
// Report build a new table and swap it atomically.
type Engine struct {
	opts  Options
	log   *slog.Logger
	table atomic.Pointer[table]

	mu       sync.Mutex // serialises writers
	snap     *config.Snapshot
	zones    *zone.Set
	states   map[string]svcState // by lower-case service name
	counters map[string]*counter // by lower-case vserver name
	// primaryOff holds vservers switched off by -disablePrimaryOnDown until
	// an administrator enables them again.
	primaryOff map[string]bool
	hashCache  map[string]hashCacheEntry
	persist    *persistTable
	timer      *time.Timer
	gen        uint64
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
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		opts: opts, log: log.With("component", "gslb"),
		states: map[string]svcState{}, counters: map[string]*counter{}, primaryOff: map[string]bool{},
		hashCache: map[string]hashCacheEntry{}, persist: newPersistTable(),
	}
	e.table.Store(&table{domains: map[string]*domainEntry{}, zones: zone.NewSet(), maxUDP: opts.MaxUDPSize})
	return e
}

var _ health.Sink = (*Engine)(nil)

// Load switches to a new configuration. Service states are kept by name.
// The new table is complete before it is swapped in, so a query sees
// either the old configuration or the new one, never a mix.
func (e *Engine) Load(s *config.Snapshot) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.snap = s
	e.zones = buildZones(s)
	e.rebuild(time.Now())
}

// Report takes health and load observations (health.Sink).
func (e *Engine) Report(rs ...health.Report) {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := false
	for _, r := range rs {
		k := key(r.Service)
		st := e.states[k]
		if r.State != health.Unknown && r.State != st.state {
			e.log.Info("service state changed", "service", r.Service, "from", st.state.String(), "to", r.State.String(),
				"reason", r.Reason, "source", r.Source)
			st.state = r.State
			st.reason = r.Reason
			changed = true
		}
		if r.Metrics != nil {
			st.metrics = *r.Metrics
			changed = true
		}
		e.states[k] = st
	}
	if changed && e.snap != nil {
		e.rebuild(time.Now())
	}
}

// EnableVServer clears a -disablePrimaryOnDown switch-off, as
// `enable gslb vserver` does on the appliance.
func (e *Engine) EnableVServer(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.primaryOff[key(name)] {
		delete(e.primaryOff, key(name))
		e.log.Info("vserver enabled again after disablePrimaryOnDown", "vserver", name)
		if e.snap != nil {
			e.rebuild(time.Now())
		}
	}
}

// VServerStatus is the live state of a vserver (NetScaler show gslb vserver).
type VServerStatus struct {
	Name           string
	State          string // UP, DOWN, OUT OF SERVICE
	Serving        string // vserver whose services are answered ("" when none)
	Method         string // method in use
	LBRRReason     int
	LBRRReasonText string
	ActiveServices int
	TotalServices  int
}

// Status returns the state of every vserver.
func (e *Engine) Status() []VServerStatus {
	t := e.table.Load()
	out := make([]VServerStatus, 0, len(t.vservers))
	for _, v := range t.vservers {
		out = append(out, v.status)
	}
	return out
}

// rebuild recomputes every decision and answer; e.mu is held.
func (e *Engine) rebuild(now time.Time) {
	e.gen++
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
	e.snap = nil
}

func (e *Engine) counter(vs string) *counter {
	c := e.counters[key(vs)]
	if c == nil {
		c = &counter{}
		e.counters[key(vs)] = c
	}
	return c
}
