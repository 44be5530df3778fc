package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/gslb"
	"github.com/gslbd/gslbd/internal/handover"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/load"
	"github.com/gslbd/gslbd/internal/metrics"
	"github.com/gslbd/gslbd/internal/monitor"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/querylog"
	"github.com/gslbd/gslbd/internal/rrl"
	"github.com/gslbd/gslbd/internal/webhook"
)

// Loaded is a parsed, applied and checked configuration.
type Loaded struct {
	Config   *config.Config
	Snapshot *config.Snapshot
	Warnings []*nsconf.Error
}

// Load parses, applies and checks a configuration. The error, if any, is
// an nsconf.ErrorList with every problem of the source.
func Load(name string, r io.Reader) (*Loaded, error) {
	return LoadAs(name, r, "")
}

// LoadAs is Load for the process that is site self ("": the file's
// LOCAL site).
func LoadAs(name string, r io.Reader, self string) (*Loaded, error) {
	c, snap, warnings, err := config.LoadAs(name, r, self)
	if err != nil {
		return &Loaded{Warnings: warnings}, err
	}
	return &Loaded{Config: c, Snapshot: snap, Warnings: warnings}, nil
}

// LoadFile is Load on a file.
func LoadFile(path string) (*Loaded, error) { return LoadFileAs(path, "") }

// LoadFileAs is LoadAs on a file.
func LoadFileAs(path, self string) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadAs(path, f, self)
}

// Options configure a Daemon.
type Options struct {
	// ConfigPath is the ns.conf to serve and to re-read on Reload.
	ConfigPath string
	// ConfigText, if set, is served instead of reading ConfigPath (the
	// embedded demo). Reload then re-reads the same text.
	ConfigText []byte
	// Listen overrides the ADNS services' addresses: each is host:port,
	// served on UDP and TCP. Port 0 picks a free port (tests).
	Listen []string
	// Logger (nil: discard).
	Logger *slog.Logger
	// SaveVersions is how many previous files Save keeps (0: 5; negative:
	// none).
	SaveVersions int
	// NITROCredentials is the file of appliance logins that -loadSource
	// NITRO uses (host -> user, password, CA); read at start and on each
	// reload. "": none.
	NITROCredentials string
	// Site is the site this process is (`gslbd run -site`): it is local
	// and every other site remote, whatever -type says. "": the file's
	// LOCAL site.
	Site string
	// MEP configures the metric exchange.
	MEP MEPOptions
	// LocationFile is static proximity's location database (a NetScaler
	// location file, or an .mmdb file), read at start and on each reload;
	// LocationFormat its -format ("": netscaler, or mmdb by the name).
	LocationFile, LocationFormat string
	// DNSTap is the query log: every query and response as dnstap to a
	// collector (Addr "": off).
	DNSTap querylog.Options
	// Inherit are listening DNS sockets a predecessor handed over
	// (package handover), by key ("udp 127.0.0.1:53", as Sockets names
	// them): the first configuration uses them instead of opening its
	// own; those it does not name are closed.
	Inherit []handover.Socket
	// Engine and Server options.
	Engine gslb.Options
	Server dnsserver.Options
}

// Daemon is a running gslbd.
type Daemon struct {
	// events are what changed (states, links, configuration); hooks send
	// them to the configured webhooks.
	events  *events.Log
	hooks   *webhook.Sender
	opts    Options
	log     *slog.Logger
	engine  *gslb.Engine
	server  *dnsserver.Server
	tap     *querylog.Tap // nil: no query log
	monitor *monitor.Manager
	load    *load.Manager
	// health is where monitors, load sources and the site exchange
	// report; it hands effective states to the engine.
	health *health.Store
	// healthSnap is the snapshot the store was last updated from.
	healthSnap *config.Snapshot
	// mep is the exchange with the other sites.
	mep exchange
	// rtt measures resolvers for the RTT method.
	rtt rtt
	// rrl is the response rate limiter of rrlConf (nil: off); kept while
	// the settings stay, so that its accounts survive unrelated changes.
	rrl     *rrl.Limiter
	rrlConf rrl.Config

	change sync.Mutex // serialises Change and Save
	// changeTimes counts how long each Change took, lock wait included;
	// results counts changes and reloads by source and result.
	changeTimes timings
	results     resultCounts
	mu          sync.Mutex
	current     *Loaded
	// loc is the location database read; locReread makes the next apply
	// read its files again (start, reload).
	loc       locState
	locReread bool
	socks     map[sockKey]io.Closer
	addrs     []net.Addr
	// inherit are the sockets handed over, until the first apply.
	inherit []handover.Socket
}

type sockKey struct {
	addr string
	tcp  bool
}

// proto is "tcp" or "udp".
func (k sockKey) proto() string {
	if k.tcp {
		return "tcp"
	}
	return "udp"
}

// String is the key's name in a handover: "udp 127.0.0.1:53".
func (k sockKey) String() string { return k.proto() + " " + k.addr }

// Start loads the configuration, opens the listeners and starts serving.
func Start(opts Options) (*Daemon, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Engine.Logger == nil {
		opts.Engine.Logger = log
	}
	if opts.Server.Logger == nil {
		opts.Server.Logger = log
	}
	d := &Daemon{opts: opts, log: log.With("component", "daemon"), socks: map[sockKey]io.Closer{}, inherit: opts.Inherit}
	d.events = events.New(0)
	d.hooks = webhook.New(d.events, webhook.Options{Logger: log})
	opts.Engine.Events = d.events
	d.engine = gslb.New(opts.Engine)
	ld, err := d.read()
	if err != nil {
		return nil, err
	}
	if opts.DNSTap.Addr != "" {
		to := opts.DNSTap
		if to.Logger == nil {
			to.Logger = log
		}
		if d.tap, err = querylog.New(to); err != nil {
			return nil, err
		}
		opts.Server.Tap = d.tap
	}
	d.server = dnsserver.New(d.engine, opts.Server)
	d.health = health.NewStore(health.Options{Logger: log, Out: d.engine, Events: d.events, OnProbe: func(svcs []string) { d.monitor.Activate(svcs) }})
	d.monitor = monitor.New(monitor.Options{Logger: log, Sink: d.health, Gate: d.health})
	creds, err := d.credentials()
	if err != nil {
		return nil, err
	}
	d.load = load.New(load.Options{Logger: log, Sink: d.health, Credentials: creds})
	d.startRTT()
	d.locReread = true
	if err := d.apply(ld); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) read() (*Loaded, error) {
	var ld *Loaded
	var err error
	if d.opts.ConfigText != nil {
		name := d.opts.ConfigPath
		if name == "" {
			name = "demo.conf"
		}
		ld, err = LoadAs(name, bytes.NewReader(d.opts.ConfigText), d.opts.Site)
	} else {
		ld, err = LoadFileAs(d.opts.ConfigPath, d.opts.Site)
	}
	if ld != nil {
		for _, w := range ld.Warnings {
			d.log.Warn("configuration warning", "where", w.Pos.String(), "msg", w.Msg)
		}
	}
	return ld, err
}

// wanted returns the sockets a configuration asks for.
func (d *Daemon) wanted(s *config.Snapshot) []sockKey {
	var out []sockKey
	if len(d.opts.Listen) > 0 {
		for _, a := range d.opts.Listen {
			out = append(out, sockKey{a, false}, sockKey{a, true})
		}
		return out
	}
	for _, l := range s.Listeners {
		a := l.Addr.String()
		if l.UDP {
			out = append(out, sockKey{a, false})
		}
		if l.TCP {
			out = append(out, sockKey{a, true})
		}
	}
	return out
}

// apply opens missing sockets, swaps the configuration in, then closes the
// sockets the new configuration no longer names. A socket that cannot be
// opened fails the whole change before anything is swapped.
func (d *Daemon) apply(ld *Loaded) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	want := d.wanted(ld.Snapshot)
	if len(want) == 0 {
		return errors.New("no DNS listener: add an ADNS service (add service <name> <IP> ADNS 53) or give -listen")
	}
	opened := map[sockKey]io.Closer{}
	var addrs []net.Addr
	fail := func(err error) error {
		for _, c := range opened {
			c.Close()
		}
		return err
	}
	for _, k := range want {
		if c, ok := d.socks[k]; ok {
			opened[k] = nil // kept
			addrs = append(addrs, localAddr(c))
			continue
		}
		if _, ok := opened[k]; ok {
			continue // opened as the pair of a port-0 UDP socket
		}
		if c, err := d.inherited(k); c != nil || err != nil {
			if err != nil {
				return fail(err)
			}
			opened[k] = c
			addrs = append(addrs, localAddr(c))
			continue
		}
		if ap, err := netip.ParseAddrPort(k.addr); err == nil && ap.Port() == 0 && !k.tcp {
			// Port 0: pick one free port for both UDP and TCP.
			pc, l, err := listenPair(k.addr)
			if err != nil {
				return fail(err)
			}
			opened[k], opened[sockKey{k.addr, true}] = pc, l
			addrs = append(addrs, pc.LocalAddr(), l.Addr())
			continue
		}
		if k.tcp {
			l, err := net.Listen("tcp", k.addr)
			if err != nil {
				return fail(listenErr("tcp", k.addr, err))
			}
			opened[k] = l
			addrs = append(addrs, l.Addr())
		} else {
			pc, err := net.ListenPacket("udp", k.addr)
			if err != nil {
				return fail(listenErr("udp", k.addr, err))
			}
			opened[k] = pc
			addrs = append(addrs, pc.LocalAddr())
		}
	}
	// The location database before the snapshot, so that a new
	// STATICPROXIMITY vserver is built with it.
	if err := d.updateLocations(ld.Snapshot, d.locReread); err != nil {
		if d.current == nil {
			return fail(err) // -location-file does not read at start
		}
		d.log.Error("location database not read again; the previous one stays in use", "err", err)
	}
	d.locReread = false
	d.engine.Load(ld.Snapshot)
	if !sameHealthInputs(d.healthSnap, ld.Snapshot) {
		d.health.Update(healthConfig(ld.Snapshot))
		d.healthSnap = ld.Snapshot
	}
	if err := d.updateMEP(ld.Snapshot); err != nil {
		d.log.Error("metric exchange", "err", err)
	}
	d.monitor.Update(ld.Snapshot)
	d.load.Update(ld.Snapshot)
	var hooks []webhook.Hook
	for _, h := range ld.Snapshot.Webhooks {
		hooks = append(hooks, webhook.Hook{Name: h.Name, URL: h.URL, Secret: h.Secret, Kinds: h.Events})
	}
	d.hooks.Update(hooks)
	d.updateRTT(ld.Snapshot)
	d.updateRRL(ld.Snapshot.RateLimit)
	for k, c := range opened {
		if c == nil {
			continue
		}
		d.socks[k] = c
		switch s := c.(type) {
		case *net.UDPConn:
			d.server.ServeUDP(s)
		case net.Listener:
			d.server.ServeTCP(s)
		}
		d.log.Info("listening", "addr", localAddr(c).String(), "proto", k.proto())
	}
	for k, c := range d.socks {
		if _, ok := opened[k]; !ok {
			c.Close()
			delete(d.socks, k)
			d.log.Info("listener closed", "addr", k.addr)
		}
	}
	d.current = ld
	d.addrs = addrs
	for _, so := range d.inherit {
		so.File.Close() // used (its socket now has a descriptor of ours) or not named
	}
	d.inherit = nil
	return nil
}

// updateRRL gives the server the limiter set dns parameter asks for.
func (d *Daemon) updateRRL(r rrl.Config) {
	on := r.Enabled()
	if (d.rrl != nil) == on && (!on || r.Equal(d.rrlConf)) {
		d.rrlConf = r // off and staying off, or the same limits: nothing to say
		return
	}
	d.rrlConf, d.rrl = r, nil
	if on {
		d.rrl = rrl.New(r)
		d.log.Info("response rate limiting", "responses_per_second", r.ResponsesPerSecond, "nxdomains_per_second", r.NXDomainsPerSecond,
			"errors_per_second", r.ErrorsPerSecond, "nxdomain_threshold", r.NXDomainThreshold, "slip", r.Slip, "window", r.Window, "log_only", r.LogOnly)
	} else {
		d.log.Info("response rate limiting off")
	}
	d.server.SetRRL(d.rrl)
}

// RRL is the response rate limiter in use (nil: none).
func (d *Daemon) RRL() *rrl.Limiter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rrl
}

// listenErr explains the usual cause: the ADNS address of a configuration
// brought from an appliance is not an address of this host.
func listenErr(network, addr string, err error) error {
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("listen %s %s: %w (the ADNS service address is not on this host; give -listen host:port to serve elsewhere)", network, addr, err)
	}
	return fmt.Errorf("listen %s %s: %w", network, addr, err)
}

// listenPair opens UDP and TCP on the same free port.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		pc, err = net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		var l net.Listener
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
	}
	return nil, nil, fmt.Errorf("listen %s: no free port for both UDP and TCP: %w", addr, err)
}

func localAddr(c io.Closer) net.Addr {
	switch s := c.(type) {
	case net.PacketConn:
		return s.LocalAddr()
	case net.Listener:
		return s.Addr()
	}
	return nil
}

// Reload re-reads the configuration. On any error the old configuration
// keeps serving and the error (an nsconf.ErrorList for config problems)
// is returned and logged.
func (d *Daemon) Reload() error {
	d.change.Lock()
	defer d.change.Unlock()
	d.reloadIdentity()
	d.locReread = true // the files may have changed
	ld, err := d.read()
	var creds *load.Credentials
	if err == nil {
		creds, err = d.credentials()
	}
	if err == nil {
		d.load.SetCredentials(creds)
		err = d.apply(ld)
	}
	d.results.add("reload", err)
	if err != nil {
		d.log.Error("reload rejected; the previous configuration keeps serving", "err", err)
		d.events.Add(events.Event{Kind: events.Config, Name: "reload refused", Source: "reload (SIGHUP)", Reason: errorLine(err)})
		return err
	}
	d.log.Info("configuration reloaded", "vservers", len(ld.Snapshot.VServers), "domains", ld.Snapshot.Domains.Len())
	d.events.Add(events.Event{Kind: events.Config, Name: "reload", Source: "reload (SIGHUP)",
		Detail: fmt.Sprintf("%d vservers, %d domains", len(ld.Snapshot.VServers), ld.Snapshot.Domains.Len())})
	return nil
}

// credentials reads the NITRO load sources' logins.
func (d *Daemon) credentials() (*load.Credentials, error) {
	if d.opts.NITROCredentials == "" {
		return nil, nil
	}
	return load.LoadCredentials(d.opts.NITROCredentials)
}

// ChangeBounds are the bounds ChangeTimes counts within.
var ChangeBounds = []time.Duration{500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond,
	5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	500 * time.Millisecond, time.Second}

// timings counts durations within ChangeBounds.
type timings struct {
	mu         sync.Mutex
	n          uint64
	sum        time.Duration
	cumulative [16]uint64 // per bound of ChangeBounds
}

func (t *timings) add(d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	t.sum += d
	for i, b := range ChangeBounds {
		if d <= b {
			t.cumulative[i]++
		}
	}
}

// ChangeTimes returns how many changes were made, their total time and,
// per bound of ChangeBounds, how many took at most that long (validation
// and apply, waiting for the change before included).
func (d *Daemon) ChangeTimes() (count uint64, sum time.Duration, cumulative []uint64) {
	t := &d.changeTimes
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, t.sum, slices.Clone(t.cumulative[:len(ChangeBounds)])
}

// Engine returns the answer engine (health reports go to it).
func (d *Daemon) Engine() *gslb.Engine { return d.engine }

// Current returns the configuration being served.
func (d *Daemon) Current() *Loaded {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// UDPAddr returns the first UDP address served; TCPAddr the first TCP one.
func (d *Daemon) UDPAddr() string { return d.addr("udp") }

// TCPAddr returns the first TCP address served.
func (d *Daemon) TCPAddr() string { return d.addr("tcp") }

func (d *Daemon) addr(network string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.addrs {
		if a.Network() == network {
			return a.String()
		}
	}
	return ""
}

// Addrs returns every address served.
func (d *Daemon) Addrs() []net.Addr {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.addrs)
}

// Health returns the store where every source's view of a service meets.
func (d *Daemon) Health() *health.Store { return d.health }

// Monitors returns the health monitor manager.
func (d *Daemon) Monitors() *monitor.Manager { return d.monitor }

// errorLine is an error's first line (a configuration's errors are one
// per line).
func errorLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// resultCounts counts configuration changes and reloads by source and
// result ("ok", "refused").
type resultCounts struct {
	mu sync.Mutex
	m  map[[2]string]uint64
}

func (r *resultCounts) add(source string, err error) {
	res := "ok"
	if err != nil {
		res = "refused"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[[2]string]uint64{}
	}
	r.m[[2]string{source, res}]++
}

// ChangeResults returns the configuration changes and reloads counted
// by {source, result}: source "nitro" (the API and gslbctl), another
// change's name, or "reload"; result "ok" or "refused".
func (d *Daemon) ChangeResults() map[[2]string]uint64 {
	d.results.mu.Lock()
	defer d.results.mu.Unlock()
	return maps.Clone(d.results.m)
}

// Explain is the decision trace of a hypothetical query (gslbctl
// explain, NITRO gslbexplain): qtype a record type name ("": A), client
// the resolver ("": 127.0.0.1), ecs a client subnet ("": none).
func (d *Daemon) Explain(domain, qtype, client, ecs string) (any, error) {
	t := dns.TypeA
	if qtype != "" {
		var ok bool
		if t, ok = dns.StringToType[strings.ToUpper(qtype)]; !ok {
			return nil, fmt.Errorf("type %q: not a record type", qtype)
		}
	}
	src := netip.MustParseAddr("127.0.0.1")
	if client != "" {
		a, err := netip.ParseAddr(client)
		if err != nil {
			return nil, fmt.Errorf("client %q: not an IP address", client)
		}
		src = a.Unmap()
	}
	var sub netip.Prefix
	if ecs != "" {
		p, err := netip.ParsePrefix(ecs)
		if err != nil {
			a, aerr := netip.ParseAddr(ecs)
			if aerr != nil {
				return nil, fmt.Errorf("ecs %q: not a prefix (203.0.113.0/24)", ecs)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		sub = p.Masked()
	}
	return d.engine.Explain(domain, t, src, sub, netip.Addr{}, false)
}

// Events is the stream of what changed.
func (d *Daemon) Events() *events.Log { return d.events }

// DNSStats are the DNS server's counters.
func (d *Daemon) DNSStats() *dnsserver.Stats { return &d.server.Stats }

// VServerHits returns the queries answered per GSLB vserver (lower-case
// name).
func (d *Daemon) VServerHits() map[string]uint64 {
	out := map[string]uint64{}
	for _, v := range d.engine.Status() {
		out[strings.ToLower(v.Name)] = v.Hits
	}
	return out
}

// ServiceHealth lists the GSLB services' states for metrics.
func (d *Daemon) ServiceHealth() []metrics.ServiceHealth {
	snap := d.Current().Snapshot
	var out []metrics.ServiceHealth
	for _, s := range d.engine.ServiceStatus() {
		h := metrics.ServiceHealth{Name: s.Name, State: s.State.String(), Reason: s.Reason, Transitions: s.Transitions}
		if info := snap.Service(s.Name); info != nil {
			h.Site = info.Site
		}
		out = append(out, h)
	}
	return out
}

// VServerHealth lists the GSLB vservers' states for metrics.
func (d *Daemon) VServerHealth() []metrics.VServerHealth {
	var out []metrics.VServerHealth
	for _, v := range d.engine.Status() {
		out = append(out, metrics.VServerHealth{Name: v.Name, State: v.State, Method: v.Method, LBRRReason: v.LBRRReason,
			ActiveServices: v.ActiveServices, BackupAnswers: v.BackupHits, ProxFallbacks: v.ProximityFallbacks,
			Proximity: v.Method == "RTT" || v.Method == "STATICPROXIMITY"})
	}
	return out
}

// DomainHits returns the queries per GSLB domain.
func (d *Daemon) DomainHits() map[string]uint64 { return d.engine.DomainHits() }

// Close stops probing and serving.
func (d *Daemon) Close() error {
	d.closeRTT()
	d.closeMEP()
	d.monitor.Close()
	d.load.Close()
	d.health.Close()
	d.engine.Close()
	d.hooks.Close()
	err := d.server.Close()
	if d.tap != nil {
		d.tap.Close() // after the server: the last answers are logged
	}
	return err
}

// inherited returns the handed-over socket for k as a listener or a
// UDP socket (nil: none handed over). Its address must be k's.
func (d *Daemon) inherited(k sockKey) (io.Closer, error) {
	for _, so := range d.inherit {
		if so.Key != k.String() {
			continue
		}
		var c io.Closer
		var err error
		if k.tcp {
			c, err = net.FileListener(so.File)
		} else {
			c, err = net.FilePacketConn(so.File)
		}
		if err != nil {
			return nil, fmt.Errorf("handed-over socket %s: %w", k, err)
		}
		if _, ok := c.(*net.UDPConn); !k.tcp && !ok {
			c.Close()
			return nil, fmt.Errorf("handed-over socket %s is not a UDP socket", k)
		}
		if ap, err := netip.ParseAddrPort(k.addr); err == nil && ap.Port() != 0 {
			if got := localAddr(c).String(); got != netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String() && got != k.addr {
				c.Close()
				return nil, fmt.Errorf("handed-over socket %s is bound to %s", k, got)
			}
		}
		d.log.Info("listening on a handed-over socket", "addr", localAddr(c).String(), "proto", k.proto())
		return c, nil
	}
	return nil, nil
}

// Sockets returns a descriptor of every listening DNS socket, for a
// successor (package handover); the caller closes the files.
func (d *Daemon) Sockets() ([]handover.Socket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []handover.Socket
	for k, c := range d.socks {
		fc, ok := c.(interface{ File() (*os.File, error) })
		if !ok {
			continue
		}
		f, err := fc.File()
		if err != nil {
			for _, so := range out {
				so.File.Close()
			}
			return nil, fmt.Errorf("socket %s: %w", k, err)
		}
		out = append(out, handover.Socket{Key: k.String(), File: f})
	}
	return out, nil
}

// Drain stops reading DNS queries and answers those read (a successor
// serves the sockets from then on); Close ends the rest.
func (d *Daemon) Drain() { d.server.Drain() }

// DNSTap is the query log's figures (nil: off).
func (d *Daemon) DNSTap() *querylog.Tap { return d.tap }
