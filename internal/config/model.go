package config

import (
	"slices"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// Args holds an entity's named arguments as given (normalised), by the
// canonical schema name. Values equal to defaults are kept; the writer omits
// them. Loose holds unknown options of partly modelled commands, in order.
// An entity has a handful of arguments, so they are a small slice searched
// in order: a map each cost about 1 KiB per entity (29 MB at 10,000
// services).
type Args struct {
	vals  []nsconf.Val
	Loose []nsconf.Val
}

func (a *Args) find(name string) int {
	for i := range a.vals {
		if a.vals[i].Name == name {
			return i
		}
	}
	return -1
}

// Get returns the first value of an argument, or "".
func (a *Args) Get(name string) string {
	v, ok := a.Val(name)
	if !ok || len(v.Values) == 0 {
		return ""
	}
	return v.Values[0]
}

// Val returns the stored argument.
func (a *Args) Val(name string) (nsconf.Val, bool) {
	if i := a.find(name); i >= 0 {
		return a.vals[i], true
	}
	return nsconf.Val{}, false
}

// All returns the arguments set, in the order first set; callers must not
// change them.
func (a *Args) All() []nsconf.Val { return a.vals }

// Has reports whether an argument is set.
func (a *Args) Has(name string) bool { return a.find(name) >= 0 }

// Set stores an argument.
func (a *Args) Set(v nsconf.Val) {
	if i := a.find(v.Name); i >= 0 {
		a.vals[i] = v
		return
	}
	a.vals = append(a.vals, v)
}

// SetValue stores a single value under a canonical name.
func (a *Args) SetValue(name, value string, pos nsconf.Pos) {
	a.Set(nsconf.Val{Name: name, Values: []string{value}, Pos: pos})
}

// Unset removes an argument.
func (a *Args) Unset(name string) {
	if i := a.find(name); i >= 0 {
		a.vals = slices.Delete(a.vals, i, i+1)
	}
}

// Pos returns where an argument was given (zero Pos if unset).
func (a *Args) Pos(name string) nsconf.Pos {
	v, _ := a.Val(name)
	return v.Pos
}

func (a Args) clone() Args {
	return Args{vals: slices.Clone(a.vals), Loose: slices.Clone(a.Loose)}
}

// Server is `add server`: a name for an address.
type Server struct {
	Name string
	Addr string // IP address or domain
	Args Args
	Pos  nsconf.Pos
}

// AppService is an `add service` line. ADNS / ADNS_TCP services are the DNS
// listeners; other types are kept and re-emitted.
type AppService struct {
	Name   string
	Target string // IP or server name
	Type   string
	Port   int
	Args   Args
	Rest   []string
	Pos    nsconf.Pos
}

// Site is a GSLB site.
type Site struct {
	Name string
	Type string // LOCAL, REMOTE, or "" for auto-detect
	IP   string
	Args Args
	Pos  nsconf.Pos
}

// MonitorBinding binds an lb monitor to a GSLB service or service group.
type MonitorBinding struct {
	Monitor string
	Args    Args
	Pos     nsconf.Pos
}

// ViewBinding is `bind gslb service -viewName v ip`.
type ViewBinding struct {
	View string
	IP   string
	Pos  nsconf.Pos
}

// Service is a GSLB service.
type Service struct {
	Name     string
	Target   string // IP or server name ("" for a CNAME service)
	Type     string
	Port     int
	Args     Args
	Monitors []MonitorBinding
	Views    []ViewBinding
	Pos      nsconf.Pos
}

// Member is a GSLB service group member.
type Member struct {
	Target string
	Port   int
	Args   Args
	Pos    nsconf.Pos
}

// ServiceGroup is a GSLB service group.
type ServiceGroup struct {
	Name     string
	Type     string
	Args     Args
	Members  []*Member
	Monitors []MonitorBinding
	Pos      nsconf.Pos
}

// ServiceBinding binds a GSLB service to a vserver.
type ServiceBinding struct {
	Service string
	Args    Args // weight, order
	Pos     nsconf.Pos
}

// GroupBinding binds a GSLB service group to a vserver.
type GroupBinding struct {
	Group string
	Args  Args
	Pos   nsconf.Pos
}

// DomainBinding binds a domain to a vserver.
type DomainBinding struct {
	Domain string
	Args   Args // TTL, backupIP, cookieDomain, cookieTimeout, sitedomainTTL
	Pos    nsconf.Pos
}

// PolicyBinding is kept as given (accepted, no effect yet).
type PolicyBinding struct {
	Policy string
	Args   Args
	Pos    nsconf.Pos
}

// VServer is a GSLB virtual server.
type VServer struct {
	Name     string
	Type     string
	Args     Args
	Services []*ServiceBinding
	Groups   []*GroupBinding
	Domains  []*DomainBinding
	Policies []*PolicyBinding
	Pos      nsconf.Pos
}

// Record is one `add dns <kind>` line: Kind is the schema group's second
// word ("soaRec", "addRec"...), Name the owner, Data the further positionals.
type Record struct {
	Kind string
	Name string
	Data []string
	Args Args
	Pos  nsconf.Pos
}

// Zone is `add dns zone`.
type Zone struct {
	Name string
	Args Args
	Pos  nsconf.Pos
}

// Config is the mutable configuration model. Apply changes it; Build checks
// and freezes it. Clone before changing a Config that a Snapshot came from.
// Records are shared between clones like table entities: replace a record
// with its clone() before changing it.
type Config struct {
	Features      []string
	NSIPs         []string // appliance-owned addresses (add ns ip), for site auto-detection
	Parameter     Args
	Servers       Table[*Server]
	AppServices   Table[*AppService]
	Sites         Table[*Site]
	Services      Table[*Service]
	ServiceGroups Table[*ServiceGroup]
	VServers      Table[*VServer]
	Zones         Table[*Zone]
	Records       []*Record
	Monitors      Table[*Monitor]
	MetricTables  Table[*MetricTable]
	// Verbatim keeps commands gslbd does not model, re-emitted as written.
	Verbatim []*nsconf.Cmd

	parent *Config   // what Clone copied, until Build used it
	snap   *Snapshot // what Build made of this configuration
}

// Clone returns a copy to change: tables share their entities until one
// is edited (see Table), slices are copied. The copy remembers c as its
// parent, so that Build can reuse what c's snapshot built for unchanged
// entities.
func (c *Config) Clone() *Config {
	n := &Config{
		Features:      slices.Clone(c.Features),
		NSIPs:         slices.Clone(c.NSIPs),
		Parameter:     c.Parameter.clone(),
		Verbatim:      slices.Clone(c.Verbatim),
		Records:       slices.Clone(c.Records),
		Servers:       c.Servers.Clone(),
		AppServices:   c.AppServices.Clone(),
		Sites:         c.Sites.Clone(),
		Services:      c.Services.Clone(),
		ServiceGroups: c.ServiceGroups.Clone(),
		VServers:      c.VServers.Clone(),
		Zones:         c.Zones.Clone(),
		Monitors:      c.Monitors.Clone(),
		MetricTables:  c.MetricTables.Clone(),
		parent:        c,
	}
	return n
}

func (s *Server) clone() *Server { x := *s; x.Args = s.Args.clone(); return &x }

func (s *AppService) clone() *AppService {
	x := *s
	x.Args = s.Args.clone()
	x.Rest = slices.Clone(s.Rest)
	return &x
}

func (s *Site) clone() *Site { x := *s; x.Args = s.Args.clone(); return &x }

func (s *Service) clone() *Service {
	x := *s
	x.Args = s.Args.clone()
	x.Monitors = cloneMonitors(s.Monitors)
	x.Views = slices.Clone(s.Views)
	return &x
}

func (g *ServiceGroup) clone() *ServiceGroup {
	x := *g
	x.Args = g.Args.clone()
	x.Members = cloneEach(g.Members, func(m *Member) *Args { return &m.Args })
	x.Monitors = cloneMonitors(g.Monitors)
	return &x
}

func (v *VServer) clone() *VServer {
	x := *v
	x.Args = v.Args.clone()
	x.Services = cloneEach(v.Services, func(b *ServiceBinding) *Args { return &b.Args })
	x.Groups = cloneEach(v.Groups, func(b *GroupBinding) *Args { return &b.Args })
	x.Domains = cloneEach(v.Domains, func(b *DomainBinding) *Args { return &b.Args })
	x.Policies = cloneEach(v.Policies, func(b *PolicyBinding) *Args { return &b.Args })
	return &x
}

func (m *Monitor) clone() *Monitor {
	x := *m
	x.Args = m.Args.clone()
	x.Metrics = slices.Clone(m.Metrics)
	for i := range x.Metrics {
		x.Metrics[i].Args = m.Metrics[i].Args.clone()
	}
	return &x
}

func (t *MetricTable) clone() *MetricTable { x := *t; x.Metrics = slices.Clone(t.Metrics); return &x }

func (z *Zone) clone() *Zone { x := *z; x.Args = z.Args.clone(); return &x }

func (r *Record) clone() *Record {
	x := *r
	x.Args = r.Args.clone()
	x.Data = slices.Clone(r.Data)
	return &x
}

// cloneEach deep-copies a slice of bindings and their Args.
func cloneEach[T any](in []*T, args func(*T) *Args) []*T {
	var out []*T
	for _, b := range in {
		c := *b
		a := args(&c)
		*a = a.clone()
		out = append(out, &c)
	}
	return out
}

func cloneMonitors(in []MonitorBinding) []MonitorBinding {
	out := slices.Clone(in)
	for i := range out {
		out[i].Args = in[i].Args.clone()
	}
	return out
}
