package health

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/events"
)

// This file holds Store: where every source's view of a service meets.

// ServiceConfig is what the Store needs to know of one GSLB service.
type ServiceConfig struct {
	Name      string
	Site      string
	Local     bool // a service of this site
	Disabled  bool
	Monitored bool // monitors (explicit or default) probe it
}

// SiteConfig is what the Store needs to know of one GSLB site.
type SiteConfig struct {
	Name    string
	Local   bool
	Trigger Trigger
	// Exchange: -metricExchange ENABLED (the default).
	Exchange bool
	// Grace is how long the site's last reported state is kept once its
	// exchange is lost, beyond DelayTime: the adoption grace of another
	// parent's child (a backup parent may adopt it meanwhile).
	Grace time.Duration
}

// Config is the Store's view of a configuration.
type Config struct {
	Services []ServiceConfig
	Sites    []SiteConfig
	// DelayTime is -GSLBSvcStateDelayTime.
	DelayTime time.Duration
}

// Options configure a Store.
type Options struct {
	Logger *slog.Logger
	// Out receives effective states (the answer engine). Required.
	Out Sink
	// OnProbe is told the services whose monitors have just been
	// allowed to run, so that they probe now rather than at their next
	// interval (nil: nothing is told). It is called without the Store's
	// lock held.
	OnProbe func(services []string)
	// Events receives site link changes (nil: none).
	Events *events.Log
}

// PeerState is what a site reports of one of its services over MEP.
type PeerState struct {
	Service   string
	State     State
	Effective State
	Metrics   *Metrics
}

// Store holds each service's state per source (this site's monitors and
// load sources, the service's site over MEP, the administrator through
// the configuration) and hands the effective state (Effective) to the
// answer engine when it changes. It is safe for concurrent use.
type Store struct {
	log     *slog.Logger
	out     Sink
	onProbe func([]string)
	events  *events.Log

	mu       sync.Mutex
	services map[string]*cell // lower-case name
	sites    map[string]*site // lower-case name
	delay    time.Duration
	timer    *time.Timer
	timerAt  time.Time
	closed   bool
	// notify is closed when a local service's state or metrics change
	// (Changes).
	notify chan struct{}
}

type site struct {
	cfg   SiteConfig
	link  Link
	since time.Time
	why   string
	cells []*cell
}

type cell struct {
	cfg ServiceConfig
	// site is nil for a service whose site is unknown (treated as local).
	site *site
	// From this site's monitors and load sources.
	mon       State
	monEff    State // the monitors' effective state (Report.Effective)
	monReason string
	monSource string
	// From the service's site over MEP.
	peer, peerEff State
	res           Result
	sent          bool // res has been handed to Out
	// met is a local service's last metrics (what MEP sends).
	met *Metrics
}

// NewStore returns a store with no configuration: every report is taken
// as a local service's.
func NewStore(opts Options) *Store {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{log: log.With("component", "health"), out: opts.Out, onProbe: opts.OnProbe, events: opts.Events,
		services: map[string]*cell{}, sites: map[string]*site{}}
}

func lower(s string) string { return strings.ToLower(s) }

var _ Sink = (*Store)(nil)

// Update switches to a new configuration. States are kept by name; a
// site keeps its link state.
func (s *Store) Update(cfg Config) {
	s.mu.Lock()
	now := time.Now()
	s.delay = cfg.DelayTime
	sites := make(map[string]*site, len(cfg.Sites))
	for _, sc := range cfg.Sites {
		st := s.sites[lower(sc.Name)]
		if st == nil {
			st = &site{}
		}
		st.cfg, st.cells = sc, nil
		switch {
		case sc.Local:
			st.link = LinkNone
		case !sc.Exchange:
			if st.link != LinkDisabled {
				st.link, st.since, st.why = LinkDisabled, now, "-metricExchange DISABLED"
			}
		case st.link == LinkDisabled:
			st.link, st.since, st.why = LinkNone, now, "-metricExchange ENABLED"
		}
		sites[lower(sc.Name)] = st
	}
	s.sites = sites
	services := make(map[string]*cell, len(cfg.Services))
	for _, sc := range cfg.Services {
		c := s.services[lower(sc.Name)]
		if c == nil {
			c = &cell{}
		}
		c.cfg, c.site = sc, sites[lower(sc.Site)]
		if c.site != nil {
			c.site.cells = append(c.site.cells, c)
		}
		services[lower(sc.Name)] = c
	}
	s.services = services
	probe := s.recompute(now, func(yield func(*cell) bool) {
		for _, c := range services {
			if !yield(c) {
				return
			}
		}
	})
	s.changedLocal()
	s.mu.Unlock()
	s.wake(probe)
}

// Changes returns a channel that is closed at the next change of a local
// service's state or metrics, or of the configuration (what MEP sends
// to the other sites).
func (s *Store) Changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.notify == nil {
		s.notify = make(chan struct{})
	}
	return s.notify
}

// changedLocal wakes the Changes waiters (s.mu held).
func (s *Store) changedLocal() {
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
}

// Report takes observations of this site's monitors and load sources
// (Sink). A report for a remote service whose monitors are not allowed to
// run now (-triggerMonitor) is ignored: it comes from a probe started
// before they stopped.
func (s *Store) Report(rs ...Report) {
	s.mu.Lock()
	now := time.Now()
	var out []Report
	local := false
	for _, r := range rs {
		c := s.services[lower(r.Service)]
		if c == nil {
			// Not (yet) in the configuration: a local service, as before
			// the Store knew sites.
			c = &cell{cfg: ServiceConfig{Name: r.Service, Local: true, Monitored: true}}
			s.services[lower(r.Service)] = c
		}
		if r.State != Unknown {
			if !c.local() && !c.res.Probe {
				continue
			}
			c.mon, c.monEff, c.monReason, c.monSource = r.State, r.Effective, r.Reason, r.Source
		}
		o, changed, _ := s.eval(c, now)
		if r.Metrics != nil {
			o.Metrics, changed = r.Metrics, true
			if c.local() {
				c.met = r.Metrics
			}
		}
		if changed {
			out = append(out, o)
			local = local || c.local()
		}
	}
	s.send(out)
	if local {
		s.changedLocal()
	}
	s.mu.Unlock()
}

// SetLink records the state of the metric exchange with a site (the MEP
// link, or the relay of a child's parent) and why it changed.
func (s *Store) SetLink(siteName string, l Link, why string) {
	s.mu.Lock()
	st := s.sites[lower(siteName)]
	if st == nil || st.link == l {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	s.log.Info("site link state changed", "site", st.cfg.Name, "from", st.link.String(), "to", l.String(), "reason", why)
	s.events.Add(events.Event{Kind: events.Site, Name: st.cfg.Name, From: st.link.String(), To: l.String(), Reason: why})
	st.link, st.since, st.why = l, now, why
	if l == LinkConnecting || l == LinkLearning {
		// A new connection: what the site said before is not current.
		for _, c := range st.cells {
			c.peer, c.peerEff = Unknown, Unknown
		}
	}
	probe := s.recompute(now, slices.Values(st.cells))
	s.mu.Unlock()
	s.wake(probe)
}

// FromPeer takes what a site reported of its services over MEP. With full
// (a complete snapshot), its services not in states are taken as not
// reported. Services that are not the site's are dropped; their number is
// returned.
func (s *Store) FromPeer(siteName string, full bool, states []PeerState) (dropped int) {
	s.mu.Lock()
	st := s.sites[lower(siteName)]
	if st == nil {
		s.mu.Unlock()
		return len(states)
	}
	now := time.Now()
	if full {
		for _, c := range st.cells {
			c.peer, c.peerEff = Unknown, Unknown
		}
	}
	var out []Report
	for _, ps := range states {
		c := s.services[lower(ps.Service)]
		if c == nil || c.site != st {
			dropped++
			continue
		}
		c.peer, c.peerEff = ps.State, ps.Effective
		if !full {
			if o, changed, _ := s.eval(c, now); changed || ps.Metrics != nil {
				o.Metrics = ps.Metrics
				out = append(out, o)
			}
		}
	}
	var probe []string
	if full {
		probe = s.evalAll(now, slices.Values(st.cells), &out)
	}
	s.send(out)
	s.mu.Unlock()
	s.wake(probe)
	return dropped
}

// Probing reports whether a service's monitors should run now (the
// monitor manager asks before each probe). A service the Store does not
// know is probed.
func (s *Store) Probing(service string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.services[lower(service)]
	return c == nil || c.local() || c.res.Probe
}

// local reports whether a service is this site's (or of no known site).
func (c *cell) local() bool { return c.cfg.Local || c.site == nil || c.site.cfg.Local }

// ServiceState is a service's effective state with its sources.
type ServiceState struct {
	Name    string
	Result  Result
	Monitor State // this site's monitors
	Peer    State // the service's site over MEP
	Link    Link  // the exchange with its site
	// Metrics are a local service's last load figures (nil: none).
	Metrics *Metrics
	// Monitored: monitors probe it (else UNKNOWN stays answered as UP).
	Monitored bool
}

// Local returns the state of this site's services, what MEP sends to the
// other sites.
func (s *Store) Local() []ServiceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ServiceState
	for _, c := range s.services {
		if c.cfg.Local {
			out = append(out, c.state())
		}
	}
	slices.SortFunc(out, func(a, b ServiceState) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Service returns one service's state (false: not known).
func (s *Store) Service(name string) (ServiceState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.services[lower(name)]
	if c == nil {
		return ServiceState{}, false
	}
	return c.state(), true
}

func (c *cell) state() ServiceState {
	ss := ServiceState{Name: c.cfg.Name, Result: c.res, Monitor: c.mon, Peer: c.peer, Metrics: c.met, Monitored: c.cfg.Monitored}
	if c.site != nil {
		ss.Link = c.site.link
	}
	return ss
}

// Close stops the Store's timer.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
}

// inputs gathers a service's sources (s.mu held).
func (s *Store) inputs(c *cell, now time.Time) Inputs {
	in := Inputs{Local: c.local(), Disabled: c.cfg.Disabled, Monitored: c.cfg.Monitored,
		Monitor: c.mon, MonitorEffective: c.monEff, Peer: c.peer, PeerEffective: c.peerEff, Hold: s.delay, Now: now}
	if c.site != nil {
		in.Hold = max(in.Hold, c.site.cfg.Grace)
		in.Trigger, in.Link, in.LinkSince = c.site.cfg.Trigger, c.site.link, c.site.since
	}
	return in
}

// eval recomputes a cell. It returns the report for Out, whether it
// differs from what Out was last given, and whether its monitors were
// just allowed to run (s.mu held).
func (s *Store) eval(c *cell, now time.Time) (Report, bool, bool) {
	old := c.res
	r := Effective(s.inputs(c, now))
	if !r.Probe && old.Probe {
		// Monitors stop: their last verdict is not current when they
		// start again.
		c.mon, c.monEff, c.monReason, c.monSource = Unknown, Unknown, "", ""
	}
	c.res = r
	o := Report{Service: c.cfg.Name, State: r.State, Effective: r.Effective, Reason: r.Reason, Source: "health"}
	if r.State != Unknown && r.State == c.mon && (c.cfg.Local || r.Probe) {
		o.Reason, o.Source = c.monReason, c.monSource
	}
	changed := !c.sent || r.State != old.State || r.Effective != old.Effective || o.Reason != old.Reason
	if r.State == Unknown && !c.sent {
		changed = false // nothing to say yet
	}
	if changed {
		c.sent = true
		c.res.Reason = o.Reason
		if !c.local() && r.State != old.State {
			s.log.Info("service state changed", "service", c.cfg.Name, "site", c.cfg.Site, "from", old.State.String(), "to", r.State.String(), "reason", o.Reason)
		}
	} else {
		c.res.Reason = old.Reason
	}
	if !r.Until.IsZero() {
		s.arm(r.Until, now)
	}
	return o, changed, r.Probe && !old.Probe && !c.local()
}

// recompute evaluates cells and hands the changes to Out; it returns the
// services whose monitors may now run (s.mu held).
func (s *Store) recompute(now time.Time, cells func(func(*cell) bool)) []string {
	var out []Report
	probe := s.evalAll(now, cells, &out)
	s.send(out)
	return probe
}

// evalAll evaluates cells, adding their changes to out (s.mu held).
func (s *Store) evalAll(now time.Time, cells func(func(*cell) bool), out *[]Report) []string {
	var probe []string
	for c := range cells {
		o, changed, started := s.eval(c, now)
		if changed {
			*out = append(*out, o)
		}
		if started {
			probe = append(probe, c.cfg.Name)
		}
	}
	return probe
}

// send hands reports to Out. s.mu is held, which keeps reports in the
// order their causes happened; Out must not call the Store.
func (s *Store) send(out []Report) {
	if len(out) > 0 {
		s.out.Report(out...)
	}
}

// arm makes sure the timer fires by at (the end of a hold), s.mu held.
func (s *Store) arm(at, now time.Time) {
	if s.closed || !s.timerAt.IsZero() && !at.Before(s.timerAt) {
		return
	}
	s.timerAt = at
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(at.Sub(now), s.expire)
}

// expire recomputes the services whose hold has ended.
func (s *Store) expire() {
	s.mu.Lock()
	now := time.Now()
	s.timerAt = time.Time{}
	if s.closed {
		s.mu.Unlock()
		return
	}
	var due []*cell
	for _, st := range s.sites {
		for _, c := range st.cells {
			switch u := c.res.Until; {
			case u.IsZero():
			case !u.After(now):
				due = append(due, c)
			default:
				s.arm(u, now)
			}
		}
	}
	probe := s.recompute(now, slices.Values(due))
	s.mu.Unlock()
	s.wake(probe)
}

func (s *Store) wake(services []string) {
	if len(services) > 0 && s.onProbe != nil {
		slices.Sort(services)
		s.onProbe(services)
	}
}
