// Package monitor probes GSLB services with the lb monitors bound to them
// and reports their state and response time to a health.Sink.
//
// One scheduler goroutine keeps every (service, monitor) binding in a heap
// ordered by its next start time and starts each probe in its own
// goroutine, so a slow target delays nothing else, and a binding is back in
// the heap only when its probe has finished, so it never overlaps itself.
// Plain TCP probes (a non-blocking connect, then reset) start in the
// scheduler itself and get a goroutine only if the connection is still
// pending after the connect call.
// First start times are spread over the interval by a hash of the binding,
// so that thousands of bindings with the same interval do not probe at once.
package monitor

import (
	"container/heap"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// Options configure a Manager.
type Options struct {
	Logger *slog.Logger
	Sink   health.Sink // receives state and metric reports (required)
	// Gate says whether the monitors of another site's service may run
	// now (-triggerMonitor MEPDOWN runs them only while the exchange with
	// the site is down). nil: they always run.
	Gate Gate
}

// Gate decides when the monitors of a remote service run (health.Store).
type Gate interface {
	Probing(service string) bool
}

// Manager runs the monitors of a configuration.
type Manager struct {
	log    *slog.Logger
	sink   health.Sink
	gate   Gate
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	jobs     map[jobKey]*job
	services map[string]*svcEntry
	// last is the service list of the last Update (updated: there was
	// one), gen counts Updates (mark and sweep of jobs and services).
	last    []*config.ServiceInfo
	updated bool
	gen     uint64
	queue   jobHeap
	pending []health.Report
	late    histogram
	// took counts how long probes took, per monitor type.
	took   map[string]*durations
	probes uint64

	wake   chan struct{} // the heap's head changed
	notify chan struct{} // reports are pending
}

type svcEntry struct {
	name string
	// units are what is probed: the service itself (one unit), or the
	// services of the LB vserver it points at (config.HealthVServer: one
	// unit each, and the service is UP while one of them is).
	units                 []*unit
	vserver               bool // the units are an LB vserver's services
	note                  string
	reported, reportedEff health.State
	// reportedReason is the reason last reported with it.
	reportedReason string
	info           *config.ServiceInfo // what it was made from
	gen            uint64              // last Update that saw it
}

// unit is one address probed by its monitors.
type unit struct {
	name        string // the backend's name ("" for the service itself)
	refs        []config.MonitorRef
	jobs        []*job // parallel to refs
	threshold   int
	disabled    bool // never UP
	unmonitored bool // always UP
	backup      bool // of the vserver's -backupVServer chain: counts for the effective state only
}

// jobKey names a binding: service, backend (or "") and monitor, lower-cased.
type jobKey struct{ svc, backend, mon string }

type job struct {
	key    jobKey
	monSig string // the monitor's settings (monitorSignature)
	svc    *svcEntry
	unit   *unit
	mon    *config.MonitorInfo
	dst    netip.AddrPort
	probe  prober
	inline bool // a bare connect, started by the scheduler itself
	b      binding
	due    time.Time
	// dueN is due as nanoseconds since monoEpoch (monotonic), set as the
	// job enters the queue: the heap compares integers.
	dueN   int64
	source string // "monitor <name>", the reports' source
	index  int    // in the heap, -1 when not queued (also while probing)
	gone   bool   // dropped by Update, or never probed (disabled)
	gen    uint64
}

// New starts a manager with no monitors.
func New(opts Options) *Manager {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{log: log.With("component", "monitor"), sink: opts.Sink, gate: opts.Gate, ctx: ctx, cancel: cancel,
		jobs: map[jobKey]*job{}, services: map[string]*svcEntry{},
		wake: make(chan struct{}, 1), notify: make(chan struct{}, 1)}
	m.wg.Add(2)
	go m.schedule()
	go m.report()
	return m
}

// Close stops probing and waits for running probes to end.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

func lower(s string) string { return strings.ToLower(s) }

// monitorSignature identifies a monitor's settings: a binding whose
// monitor settings and target are unchanged keeps its state across a
// reload. It is computed once per monitor per Update (thousands of
// services share a monitor), and bindings compare it with their target
// without building a string each.
func monitorSignature(mon *config.MonitorInfo) string {
	return fmt.Sprintf("%+v", *mon)
}

// backendTarget is where a monitor probes a service of an LB vserver:
// -destIP/-destPort if set, else the service's own address.
func backendTarget(mon *config.MonitorInfo, ap netip.AddrPort) netip.AddrPort {
	ip, port := ap.Addr(), ap.Port()
	if mon.Type == "LOAD" || mon.Type == "SNMP" {
		port = 161
	}
	if mon.DestIP.IsValid() {
		ip = mon.DestIP
	}
	if mon.DestPort != 0 {
		port = mon.DestPort
	}
	return netip.AddrPortFrom(ip, port)
}

// target is where a monitor probes a service: -destIP/-destPort if set,
// else the service's real address and port (SNMP: port 161).
func target(mon *config.MonitorInfo, s *config.ServiceInfo) (netip.AddrPort, bool) {
	ip := s.RealIP
	if mon.DestIP.IsValid() {
		ip = mon.DestIP
	}
	port := s.Port
	if mon.Type == "LOAD" || mon.Type == "SNMP" {
		port = 161
	}
	if mon.DestPort != 0 {
		port = mon.DestPort
	}
	return netip.AddrPortFrom(ip, port), ip.IsValid()
}

// Update switches to the monitors of a new configuration. Bindings whose
// monitor and target are unchanged keep their state and schedule. A
// service whose info is the same as in the last configuration (the
// incremental config build keeps unchanged ones) is skipped, and a
// snapshot with the same service list costs nothing: an API change to one
// vserver does not walk 10,000 services.
func (m *Manager) Update(s *config.Snapshot) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.updated && len(s.Services) == len(m.last) && (len(s.Services) == 0 || &s.Services[0] == &m.last[0]) {
		return
	}
	m.updated, m.last = true, s.Services
	m.gen++
	gen := m.gen
	var changed []*svcEntry
	monSigs := map[*config.MonitorInfo]string{}
	for _, si := range s.Services {
		if !si.Monitored || si.Disabled || len(si.Monitors) == 0 && si.Health != config.HealthVServer {
			continue
		}
		old := m.services[lower(si.Name)]
		if old != nil && old.info == si {
			old.gen = gen
			for _, u := range old.units {
				for _, j := range u.jobs {
					j.gen = gen
				}
			}
			continue
		}
		se := &svcEntry{name: si.Name, info: si, gen: gen, vserver: si.Health == config.HealthVServer, note: si.HealthNote}
		if old != nil {
			se.reported, se.reportedEff, se.reportedReason = old.reported, old.reportedEff, old.reportedReason
		}
		if se.vserver {
			for _, b := range si.Backends {
				se.units = append(se.units, &unit{name: b.Name, refs: b.Monitors, threshold: b.MonThreshold,
					disabled: b.Disabled, unmonitored: b.Unmonitored, backup: b.Backup})
			}
		} else {
			se.units = []*unit{{refs: si.Monitors, threshold: si.MonThreshold}}
		}
		for i, u := range se.units {
			for _, ref := range u.refs {
				var dst netip.AddrPort
				ok := true
				if se.vserver {
					dst = backendTarget(ref.Monitor, si.Backends[i].Addr)
				} else {
					dst, ok = target(ref.Monitor, si)
				}
				k := jobKey{lower(si.Name), lower(u.name), lower(ref.Monitor.Name)}
				if !ok {
					// A CNAME service has no address: only -destIP can probe it.
					m.log.Warn("monitor has no address to probe (set -destIP)", "service", si.Name, "monitor", ref.Monitor.Name)
					u.jobs = append(u.jobs, &job{key: k, svc: se, unit: u, mon: ref.Monitor, index: -1, gone: true, gen: gen})
					continue
				}
				ms, ok := monSigs[ref.Monitor]
				if !ok {
					ms = monitorSignature(ref.Monitor)
					monSigs[ref.Monitor] = ms
				}
				// Same monitor settings and target: the binding keeps its state.
				j := m.jobs[k]
				if j == nil || j.monSig != ms || j.dst != dst || ref.Monitor.Disabled || ref.Disabled || u.disabled || u.unmonitored {
					if j != nil {
						m.drop(j)
					}
					j = &job{key: k, monSig: ms, mon: ref.Monitor, dst: dst, probe: proberFor(ref.Monitor),
						inline: connectOnly(ref.Monitor), index: -1, source: "monitor " + ref.Monitor.Name}
					if ref.Monitor.Disabled || ref.Disabled || u.disabled || u.unmonitored {
						j.gone = true // never probed; does not count
					} else {
						j.due = now.Add(spread(k, ref.Monitor.Interval))
						m.jobs[k] = j
						heap.Push(&m.queue, j)
					}
				}
				j.svc, j.unit = se, u
				j.b.mon = ref.Monitor
				j.gen = gen
				u.jobs = append(u.jobs, j)
			}
		}
		m.services[lower(si.Name)] = se
		changed = append(changed, se)
	}
	for _, j := range m.jobs {
		if j.gen != gen {
			m.drop(j)
		}
	}
	// Services that lost every monitor are UP again (nothing says otherwise).
	for k, old := range m.services {
		if old.gen == gen {
			continue
		}
		delete(m.services, k)
		if old.reported != health.Unknown && old.reported != health.Up {
			m.queueReport(health.Report{Service: old.name, State: health.Up, Reason: "no monitor probes it any more", Source: "monitor"})
		}
	}
	for _, se := range changed {
		m.evaluate(se)
	}
	m.kick()
}

func (m *Manager) drop(j *job) {
	j.gone = true
	if j.index >= 0 {
		heap.Remove(&m.queue, j.index)
	}
	delete(m.jobs, j.key)
}

// spread is a binding's first-start offset within its interval.
func spread(key jobKey, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key.svc))
	h.Write([]byte{0})
	if key.backend != "" {
		h.Write([]byte(key.backend))
		h.Write([]byte{0})
	}
	h.Write([]byte(key.mon))
	return time.Duration(h.Sum64() % uint64(interval))
}

func (m *Manager) kick() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// quantum is the scheduler's shortest sleep: a probe starts at most this
// late because of batching.
const quantum = 5 * time.Millisecond

// metricBatch is how long metric reports wait to be handed over together;
// state changes go at once. The engine applies metrics at most every
// 500 ms anyway (gslb.Options.MetricRefresh).
const metricBatch = 100 * time.Millisecond

// schedule starts probes when they are due.
func (m *Manager) schedule() {
	defer m.wg.Done()
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var inline []*job
	for {
		m.mu.Lock()
		now := time.Now()
		inline = inline[:0]
		for len(m.queue) > 0 && !m.queue[0].due.After(now) {
			j := heap.Pop(&m.queue).(*job)
			if m.held(j, now) {
				continue
			}
			if j.inline {
				inline = append(inline, j)
				continue
			}
			m.wg.Add(1)
			go m.run(j, j.due)
		}
		wait := time.Hour
		if len(m.queue) > 0 {
			// Probes due within a quantum start together: thousands of
			// bindings cost a few hundred wake-ups a second, not one each.
			wait = max(m.queue[0].due.Sub(now), quantum)
		}
		m.mu.Unlock()
		for _, j := range inline {
			m.connect(j)
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-m.wake:
		case <-m.ctx.Done():
			return
		}
	}
}

// held reports whether the gate keeps a due binding from probing; such a
// binding starts again from nothing (its last verdict is not current when
// it runs again) and is due again after an interval (m.mu held).
func (m *Manager) held(j *job, now time.Time) bool {
	if m.gate == nil || j.svc.info.Local || m.gate.Probing(j.svc.name) {
		return false
	}
	j.b = binding{mon: j.b.mon}
	j.svc.reported, j.svc.reportedReason = health.Unknown, ""
	j.due = now.Add(max(j.mon.Interval, quantum))
	heap.Push(&m.queue, j)
	return true
}

// Activate makes the bindings of services due now: the gate has just let
// them run (health.Options.OnProbe).
func (m *Manager) Activate(services []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	for _, name := range services {
		se := m.services[lower(name)]
		if se == nil {
			continue
		}
		for _, u := range se.units {
			for _, j := range u.jobs {
				if j.index >= 0 && j.due.After(now) {
					j.setDue(now)
					heap.Fix(&m.queue, j.index)
				}
			}
		}
	}
	m.kick()
}

// run performs one probe and feeds its result to the binding.
func (m *Manager) run(j *job, due time.Time) {
	defer m.wg.Done()
	start := time.Now()
	ctx, cancel := context.WithTimeout(m.ctx, j.mon.RespTimeout)
	r := j.probe(ctx, j.mon, j.dst)
	cancel()
	m.finish(j, due, start, r)
}

// connect runs a bare-connect probe from the scheduler goroutine: the
// connection usually completes (or is refused) within the connect call,
// which costs far less than a goroutine and a timer per probe. One still
// pending waits in its own goroutine, like any other probe.
func (m *Manager) connect(j *job) {
	due, start := j.due, time.Now()
	fd, err, pending := startConnect(j.dst)
	if !pending {
		m.finish(j, due, start, connectResult(m.ctx, j.mon, start, err))
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		ctx, cancel := context.WithDeadline(m.ctx, start.Add(j.mon.RespTimeout))
		err := waitConnect(ctx, fd)
		m.finish(j, due, start, connectResult(ctx, j.mon, start, err))
		cancel()
	}()
}

// finish feeds a probe's result to its binding and schedules the next one.
func (m *Manager) finish(j *job, due, start time.Time, r Result) {
	if m.ctx.Err() != nil {
		return
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.late.add(start.Sub(due))
	m.probes++
	if m.took == nil {
		m.took = map[string]*durations{}
	}
	d := m.took[j.mon.Type]
	if d == nil {
		d = &durations{}
		m.took[j.mon.Type] = d
	}
	d.add(now.Sub(start))
	if j.gone {
		return
	}
	from := j.b.state
	changed, next := j.b.observe(r, now)
	if changed {
		m.log.Info("monitor state changed", "service", j.svc.name, "monitor", j.mon.Name, "from", from.String(),
			"to", j.b.state.String(), "reason", j.b.reason)
	}
	if changed {
		m.evaluate(j.svc)
	}
	m.metrics(j, r, now)
	if changed {
		j.due = now.Add(next)
	} else {
		j.due = due.Add(next)
		if j.due.Before(now) {
			j.due = now
		}
	}
	heap.Push(&m.queue, j)
	if j.index == 0 {
		m.kick()
	}
}

// evaluate reports a service's combined state when it or its reason
// changes (a vserver's second service coming UP changes "1 of 2 services
// UP" to "2 of 2", not the state).
func (m *Manager) evaluate(se *svcEntry) {
	st, eff, reason := se.state()
	if st == health.Unknown || st == se.reported && eff == se.reportedEff && reason == se.reportedReason {
		return
	}
	se.reported, se.reportedEff, se.reportedReason = st, eff, reason
	m.queueReport(health.Report{Service: se.name, State: st, Effective: eff, Reason: reason, Source: "monitor"})
}

// state combines the service's units: its own monitors, or its LB
// vserver's services, of which one UP makes it UP (a vserver with no
// service UP is DOWN, as on the appliance). The effective state is UP
// while a service of the vserver or of its -backupVServer chain is UP
// (Unknown: the vserver has no backup, it is the state).
func (se *svcEntry) state() (st, eff health.State, reason string) {
	if !se.vserver {
		st, reason = se.units[0].state()
		return st, health.Unknown, reason
	}
	var prim, back tally // the vserver's services, its backup chain's
	for _, u := range se.units {
		t := &prim
		if u.backup {
			t = &back
		}
		t.add(u)
	}
	switch {
	case prim.up > 0:
		st, reason = health.Up, fmt.Sprintf("%s: %d of %d services UP", se.note, prim.up, prim.n)
	case prim.unknown:
		return health.Unknown, health.Unknown, ""
	case prim.n == 0:
		st, reason = health.Down, se.note+" (no service to follow)"
	default:
		st, reason = health.Down, fmt.Sprintf("%s: no service UP (%s)", se.note, strings.Join(prim.downs, "; "))
	}
	switch {
	case back.n == 0:
		eff = health.Unknown
	case st == health.Up:
		eff = health.Up
	case back.up > 0:
		eff = health.Up
		reason += fmt.Sprintf("; effective state UP: %d of %d services of its backup vservers UP", back.up, back.n)
	case back.unknown:
		eff = health.Unknown
	default:
		eff = health.Down
	}
	return st, eff, reason
}

// tally counts units by state.
type tally struct {
	n, up   int
	unknown bool
	downs   []string // "name STATE: why"
}

func (t *tally) add(u *unit) {
	t.n++
	switch st, why := u.state(); st {
	case health.Up:
		t.up++
	case health.Unknown:
		t.unknown = true
	default:
		t.downs = append(t.downs, u.name+" "+st.String()+": "+why)
	}
}

// state combines one unit's monitor bindings.
func (u *unit) state() (health.State, string) {
	switch {
	case u.disabled:
		return health.Down, "disabled"
	case u.unmonitored:
		return health.Up, "-healthMonitor NO"
	}
	bs := make([]*binding, len(u.jobs))
	for i, j := range u.jobs {
		bs[i] = &j.b
	}
	return serviceState(u.refs, bs, u.threshold)
}

// metrics reports the response time of LRTM monitors and the load of LOAD
// monitors.
func (m *Manager) metrics(j *job, r Result, now time.Time) {
	if j.svc.vserver {
		return // the LB vserver's services' figures are not the GSLB service's
	}
	var mt health.Metrics
	switch {
	case r.HasLoad:
		mt = health.Metrics{At: now}.With(health.Load, r.Load)
		mt.Overloaded = r.Over
	case j.mon.LRTM && r.OK && j.mon.Type != "LOAD":
		var sum time.Duration
		n := 0
		for _, o := range j.unit.jobs {
			if o.mon.LRTM && o.b.last.OK && !o.gone && o.mon.Type != "LOAD" {
				sum += o.b.last.RTT
				n++
			}
		}
		mt = health.Metrics{At: now}.With(health.ResponseTime, uint64(sum/time.Duration(n)))
	default:
		return
	}
	mt.MaxAge = 3 * j.mon.Interval
	m.queueReport(health.Report{Service: j.svc.name, Metrics: &mt, Source: j.source})
}

// queueReport queues a report for the reporter goroutine: a state change
// wakes it at once, metrics wait for the next metricBatch tick.
func (m *Manager) queueReport(r health.Report) {
	m.pending = append(m.pending, r)
	if r.Metrics != nil {
		return
	}
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// report hands pending reports to the sink in batches: whatever arrived
// while the sink was busy goes in the next call.
func (m *Manager) report() {
	defer m.wg.Done()
	tick := time.NewTicker(metricBatch)
	defer tick.Stop()
	var batch []health.Report
	for {
		select {
		case <-m.notify:
		case <-tick.C:
		case <-m.ctx.Done():
			return
		}
		m.mu.Lock()
		batch, m.pending = m.pending, batch[:0]
		m.mu.Unlock()
		if len(batch) > 0 && m.sink != nil {
			m.sink.Report(batch...)
		}
		clear(batch)
	}
}

// Status is the state of one monitor binding (show gslb service, stat lb monitor).
type Status struct {
	Service    string
	Backend    string // the LB vserver's service probed for it ("": the service itself)
	Monitor    string
	Type       string
	Target     netip.AddrPort
	State      health.State
	Reason     string // why the binding is in its state
	LastOK     bool
	LastReason string // the last probe's result
	LastRTT    time.Duration
	LastProbe  time.Time
	Changed    time.Time
}

// Status returns every probed binding, by service then monitor.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Status
	for _, j := range m.jobs {
		out = append(out, Status{Service: j.svc.name, Backend: j.unit.name, Monitor: j.mon.Name, Type: j.mon.Type, Target: j.dst,
			State: j.b.state, Reason: j.b.reason, LastOK: j.b.last.OK, LastReason: j.b.last.Reason,
			LastRTT: j.b.last.RTT, LastProbe: j.b.lastAt, Changed: j.b.changed})
	}
	slices.SortFunc(out, func(a, b Status) int {
		return strings.Compare(lower(a.Service)+"\x00"+lower(a.Backend)+"\x00"+lower(a.Monitor),
			lower(b.Service)+"\x00"+lower(b.Backend)+"\x00"+lower(b.Monitor))
	})
	return out
}

// Stats are scheduling figures since the manager started.
type Stats struct {
	Probes   uint64
	Bindings int
	LateP50  time.Duration // probe start after its scheduled time
	LateP99  time.Duration
	LateMax  time.Duration
	// States counts the probed bindings by state.
	States map[health.State]int
}

// Stats returns scheduling figures since start.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := Stats{Probes: m.probes, Bindings: len(m.jobs), LateP50: m.late.quantile(0.5), LateP99: m.late.quantile(0.99),
		LateMax: m.late.max, States: map[health.State]int{}}
	for _, j := range m.jobs {
		st.States[j.b.state]++
	}
	return st
}

// Lateness returns how many probes started, the sum of their lateness
// (start after the scheduled time), and for each bound how many started
// less than that late, to the millisecond: a Prometheus histogram.
func (m *Manager) Lateness(bounds []time.Duration) (count uint64, sum time.Duration, cumulative []uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cumulative = make([]uint64, len(bounds))
	for i, b := range bounds {
		cumulative[i] = m.late.below(b)
	}
	return m.late.n, m.late.sum, cumulative
}

// DurationBounds are the buckets of ProbeDurations.
var DurationBounds = [...]time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second}

// durations counts probe durations in DurationBounds' buckets.
type durations struct {
	below [len(DurationBounds)]uint64 // cumulative: took at most the bound
	n     uint64
	sum   time.Duration
}

func (d *durations) add(t time.Duration) {
	d.n++
	d.sum += t
	for i, b := range DurationBounds {
		if t <= b {
			d.below[i]++
		}
	}
}

// ProbeDuration is one monitor type's probe durations: a Prometheus
// histogram over DurationBounds (Cumulative[i]: at most DurationBounds[i]).
type ProbeDuration struct {
	Count      uint64
	Sum        time.Duration
	Cumulative []uint64
}

// ProbeDurations returns how long probes took, per monitor type (TCP,
// HTTP-ECV, ...), from the probe's start to its result.
func (m *Manager) ProbeDurations() map[string]ProbeDuration {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]ProbeDuration, len(m.took))
	for t, d := range m.took {
		out[t] = ProbeDuration{Count: d.n, Sum: d.sum, Cumulative: slices.Clone(d.below[:])}
	}
	return out
}

// histogram counts durations in 1 ms buckets up to 10 s.
type histogram struct {
	buckets [10001]uint64
	n       uint64
	max     time.Duration
	sum     time.Duration
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := min(int(d/time.Millisecond), len(h.buckets)-1)
	h.buckets[i]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// below counts the durations under b, to the millisecond.
func (h *histogram) below(b time.Duration) uint64 {
	var n uint64
	for _, c := range h.buckets[:min(int(b/time.Millisecond), len(h.buckets))] {
		n += c
	}
	return n
}

func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := uint64(q * float64(h.n))
	var acc uint64
	for i, c := range h.buckets {
		acc += c
		if acc > want {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return h.max
}

// jobHeap orders jobs by due time.
type jobHeap []*job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].dueN < h[j].dueN }

// monoEpoch is the origin of job.dueN.
var monoEpoch = time.Now()

// setDue sets when j is due, in both forms.
func (j *job) setDue(t time.Time) {
	j.due = t
	j.dueN = int64(t.Sub(monoEpoch))
}
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *jobHeap) Push(x any) {
	j := x.(*job)
	j.dueN = int64(j.due.Sub(monoEpoch))
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	j.index = -1
	return j
}
