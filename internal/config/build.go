package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"sync"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
	"github.com/gslbd/gslbd/internal/schema"
)

// Limits from the seed and docs §3.1.
const (
	MaxPeerSites  = 32
	MaxChildSites = 1024
	MaxARecords   = 25
	MaxAAAARecord = 5
)

// defaults are the schema's defaults by group and canonical argument
// name, from add, else set, else bind: Build asks for them hundreds of
// thousands of times at 10,000 services.
var defaults = sync.OnceValue(func() map[[2]string]string {
	m := map[[2]string]string{}
	for _, g := range schema.Groups() {
		for _, verb := range []string{"bind", "set", "add"} { // later verbs win
			if c := schema.Lookup(verb, g); c != nil {
				for _, a := range c.Opts {
					m[[2]string{g, a.Name}] = a.Default
				}
			}
		}
	}
	return m
})

// get returns the stored value or the schema default of a named argument
// (name in its canonical spelling).
func get(args *Args, group, name string) string {
	if v := args.Get(name); v != "" {
		return v
	}
	return defaults()[[2]string{group, name}]
}

func getInt(args *Args, group, name string) int {
	n, _ := strconv.Atoi(get(args, group, name))
	return n
}

func enabled(args *Args, group, name string) bool {
	v := get(args, group, name)
	return v == "ENABLED" || v == "YES"
}

func maskBits(mask string) int {
	ip, err := netip.ParseAddr(mask)
	if err != nil {
		return 32
	}
	b := ip.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for m&0x80000000 != 0 {
		n++
		m <<= 1
	}
	return n
}

type builder struct {
	c    *Config
	s    *Snapshot
	errs nsconf.ErrorList
	// prev is the snapshot of c's parent when only services, service
	// groups, vservers, zones and records changed since: what did not
	// change is taken from it instead of being typed again.
	prev *Snapshot
	pc   *Config // prev's configuration
	// domains is the domain index while vservers are typed (Snapshot.Domains after).
	domains *IndexEdit[*DomainInfo]
	// warn is where warnings go: the snapshot's own, a vserver's (kept
	// with it when an incremental build reuses it) or the zones'.
	warn *[]*nsconf.Error
}

func (b *builder) errf(pos nsconf.Pos, code nserr.Code, format string, args ...any) {
	b.errs = append(b.errs, &nsconf.Error{Pos: pos, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// warnf records something that works, but not as the file may expect.
func (b *builder) warnf(pos nsconf.Pos, format string, args ...any) {
	b.warnCode(pos, 0, format, args...)
}

// warnCode is warnf with NetScaler's code for the warning.
func (b *builder) warnCode(pos nsconf.Pos, code nserr.Code, format string, args ...any) {
	w := b.warn
	if w == nil {
		w = &b.s.baseWarnings
	}
	*w = append(*w, &nsconf.Error{Pos: pos, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// Build checks the whole configuration and returns a frozen Snapshot, or
// every problem found as an ErrorList.
//
// When c is a Clone of a configuration that was built, Build is
// incremental: an entity whose pointer did not change (see Table) keeps
// the info built for it, and only what depends on changed entities is
// typed again; the checks across entities (duplicates, backup chains,
// zones) run over the whole configuration as before. So an API change to a
// configuration of 10,000 services costs about what it touches. Anything
// that many entities depend on (sites, servers, ADNS services, monitors,
// metric tables, the gslb parameter, NS IPs) changing makes a full build.
func Build(c *Config) (*Snapshot, error) {
	b := &builder{c: c, s: &Snapshot{Config: c}}
	if p := c.parent; p != nil && p.snap != nil && !c.Sites.changed && !c.Servers.changed && !c.AppServices.changed &&
		!c.Monitors.changed && !c.MetricTables.changed && slices.Equal(c.NSIPs, p.NSIPs) &&
		slices.EqualFunc(c.Parameter.vals, p.Parameter.vals, sameVal) {
		b.prev, b.pc = p.snap, p
	}
	if b.prev != nil {
		ps := b.prev
		b.s.Param, b.s.Listeners, b.s.Sites, b.s.LocalSite = ps.Param, ps.Listeners, ps.Sites, ps.LocalSite
		b.s.Monitors, b.s.baseWarnings = ps.Monitors, ps.baseWarnings
	} else {
		b.parameter()
		owned := b.listeners()
		b.sites(owned)
		b.s.Monitors = b.monitors()
	}
	svcs := b.services()
	b.vservers(svcs)
	b.zones()
	b.locations()
	b.dnsParameter()
	b.dnsViews()
	b.webhooks()
	b.s.Warnings = slices.Clone(b.s.baseWarnings)
	for _, v := range b.s.VServers {
		b.s.Warnings = append(b.s.Warnings, v.warnings...)
	}
	b.s.Warnings = append(b.s.Warnings, b.s.zoneWarnings...)
	b.errs.Sort()
	if len(b.errs) > 0 {
		return nil, b.errs
	}
	c.snap, c.parent = b.s, nil // the parent's snapshot is not needed any more
	return b.s, nil
}

// sameVal compares two stored arguments.
func sameVal(a, b nsconf.Val) bool {
	return a.Name == b.Name && a.Pos == b.Pos && slices.Equal(a.Values, b.Values) && a.Extra == b.Extra
}

// sameMap reports whether a and b are the same map (not just equal).
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
