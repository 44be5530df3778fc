package config

import (
	"slices"
	"strings"

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

// setLoose stores an unknown option of a Loose command, replacing one of
// the same name (compared case-insensitively, as the appliance does) unless
// its value is the same.
func (a *Args) setLoose(v nsconf.Val) {
	for i := range a.Loose {
		if strings.EqualFold(a.Loose[i].Name, v.Name) {
			if !slices.Equal(a.Loose[i].Values, v.Values) || a.Loose[i].Extra != v.Extra {
				a.Loose[i] = v
			}
			return
		}
	}
	a.Loose = append(a.Loose, v)
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

// Config is the mutable configuration model. Apply changes it; Build checks
// and freezes it. Clone before changing a Config that a Snapshot came from.
// Records are shared between clones like table entities: replace a record
// with its clone() before changing it.
type Config struct {
	Features      []string
	NSIPs         []NSIP // appliance-owned addresses (add ns ip), for site auto-detection
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
	// Locations are the custom ranges (add location), LocationParam set
	// locationParameter, LocationFile and LocationFile6 add locationFile(6).
	Locations Table[*CustomLocation]
	// DNSViews, DNSActions, DNSPolicies and DNSGlobal are add dns view,
	// add dns action, add dns policy and bind dns global.
	DNSViews    Table[*DNSView]
	DNSActions  Table[*DNSAction]
	DNSPolicies Table[*DNSPolicy]
	DNSGlobal   Table[*DNSGlobalBinding]
	// Webhooks are add gslb webhook (gslbd's).
	Webhooks      Table[*Webhook]
	LocationParam Args
	// DNSParam is set dns parameter.
	DNSParam      Args
	LocationFile  LocationFile
	LocationFile6 LocationFile
	// Verbatim keeps commands gslbd does not model that are not lines of
	// the Document (a change applied them), re-emitted as written at the
	// end.
	Verbatim []*nsconf.Cmd
	// Self, when set, is the site this process is (`gslbd run -site`):
	// it is local and every other site remote, whatever their -type. It
	// is not part of the file.
	Self string

	doc        *Document        // the file c was loaded from, shared by clones
	ownRecords map[*Record]bool // records this config may change in place
	recIndex   map[string][]*Record

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
		Self:          c.Self,
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
		Locations:     c.Locations.Clone(),
		DNSViews:      c.DNSViews.Clone(),
		DNSActions:    c.DNSActions.Clone(),
		DNSPolicies:   c.DNSPolicies.Clone(),
		DNSGlobal:     c.DNSGlobal.Clone(),
		Webhooks:      c.Webhooks.Clone(),
		LocationParam: c.LocationParam.clone(),
		DNSParam:      c.DNSParam.clone(),
		LocationFile:  c.LocationFile.clone(),
		LocationFile6: c.LocationFile6.clone(),
		parent:        c,
		doc:           c.doc,
	}
	c.ownRecords = nil // shared now: either side copies before a change
	return n
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
