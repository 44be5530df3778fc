package config

import (
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
	b.s.Warnings = append(b.s.Warnings, &nsconf.Error{Pos: pos, Code: code, Msg: fmt.Sprintf(format, args...)})
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
		b.s.Monitors, b.s.Warnings = ps.Monitors, ps.Warnings
	} else {
		b.parameter()
		owned := b.listeners()
		b.sites(owned)
		b.s.Monitors = b.monitors()
	}
	svcs := b.services()
	b.vservers(svcs)
	b.zones()
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

func (b *builder) parameter() {
	p := &b.c.Parameter
	g := "gslb parameter"
	sec := func(name string) time.Duration { return time.Duration(getInt(p, g, name)) * time.Second }
	b.s.Param = Parameter{
		LDNSEntryTimeout:     sec("ldnsEntryTimeout"),
		RTTTolerance:         time.Duration(getInt(p, g, "RTTTolerance")) * time.Millisecond,
		SvcStateDelayTime:    sec("GSLBSvcStateDelayTime"),
		SvcStateLearningTime: sec("SvcStateLearningTime"),
		MEPKeepAliveTimeout:  sec("MEPKeepAliveTimeout"),
		DropLDNSReq:          enabled(p, g, "dropLdnsReq"),
		LDNSMaskBits:         maskBits(get(p, g, "ldnsMask")),
		V6Bits:               getInt(p, g, "v6ldnsmasklen"),
		AutomaticConfigSync:  enabled(p, g, "AutomaticConfigSync"),
	}
}

// resolveTarget returns the address of an IP or a server name.
func (b *builder) resolveTarget(target string, pos nsconf.Pos, what string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(target); err == nil {
		return ip, true
	}
	srv, ok := b.c.Servers.Get(target)
	if !ok {
		b.errf(pos, nserr.NoEnt, "%s: unknown server %q", what, target)
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(srv.Addr)
	if err != nil {
		b.errf(pos, nserr.InvalidIP, "%s: server %q has no IP address (%q); domain-based servers are not supported", what, target, srv.Addr)
		return netip.Addr{}, false
	}
	return ip, true
}

// listeners collects ADNS services and returns the set of addresses the
// box owns (for auto-detecting the local site).
func (b *builder) listeners() map[netip.Addr]bool {
	owned := map[netip.Addr]bool{}
	for _, s := range b.c.NSIPs {
		if ip, err := netip.ParseAddr(s); err == nil {
			owned[ip] = true
		}
	}
	idx := map[netip.AddrPort]int{}
	for _, svc := range b.c.AppServices.All() {
		if svc.Type != "ADNS" && svc.Type != "ADNS_TCP" {
			continue
		}
		ip, ok := b.resolveTarget(svc.Target, svc.Pos, fmt.Sprintf("service %q", svc.Name))
		if !ok {
			continue
		}
		owned[ip] = true
		if svc.Args.Get("state") == "DISABLED" {
			continue
		}
		ap := netip.AddrPortFrom(ip, uint16(svc.Port))
		i, ok := idx[ap]
		if !ok {
			i = len(b.s.Listeners)
			idx[ap] = i
			b.s.Listeners = append(b.s.Listeners, Listener{Service: svc.Name, Addr: ap})
		}
		// Deviation: an ADNS service answers on UDP and TCP (NetScaler needs
		// a separate ADNS_TCP service for TCP, which truncated answers need).
		b.s.Listeners[i].TCP = true
		if svc.Type == "ADNS" {
			b.s.Listeners[i].UDP = true
		}
	}
	return owned
}

func (b *builder) sites(owned map[netip.Addr]bool) {
	var v4, v6 bool
	ips := map[netip.Addr]string{}
	peers, children := 0, 0
	for _, s := range b.c.Sites.All() {
		ip, _ := netip.ParseAddr(s.IP)
		info := &SiteInfo{Name: s.Name, IP: ip, Parent: s.Args.Get("parentSite")}
		info.PublicIP, _ = netip.ParseAddr(s.Args.Get("publicIP"))
		switch s.Type {
		case "LOCAL":
			info.Local = true
		case "":
			info.Local = owned[ip]
		}
		if info.Local {
			if b.s.LocalSite != "" {
				b.errf(s.Pos, nserr.LocalSiteExists, "gslb site %q: a local site already exists (%q)", s.Name, b.s.LocalSite)
			} else {
				b.s.LocalSite = s.Name
			}
			if t := s.Args.Get("triggerMonitor"); t != "" && t != "ALWAYS" {
				b.warnCode(s.Args.Pos("triggerMonitor"), nserr.TriggerMonitorLocal,
					"gslb site %q: -triggerMonitor %s has no meaning for the local site: its monitors always probe", s.Name, t)
			}
		}
		if other, dup := ips[ip]; dup {
			b.errf(s.Pos, nserr.SiteIPExists, "gslb site %q: site IP %s is already used by site %q", s.Name, ip, other)
		}
		ips[ip] = s.Name
		if ip.Is4() {
			v4 = true
		} else {
			v6 = true
		}
		if v4 && v6 {
			b.errf(s.Pos, nserr.MixedSiteFamily, "gslb site %q: IPv4 and IPv6 site IPs cannot be mixed", s.Name)
			v4, v6 = ip.Is4(), ip.Is6()
		}
		if info.Parent != "" {
			children++
			p, ok := b.c.Sites.Get(info.Parent)
			switch {
			case !ok:
				b.errf(s.Args.Pos("parentSite"), nserr.SiteNotFound, "gslb site %q: unknown parent site %q", s.Name, info.Parent)
			case p.Args.Get("parentSite") != "":
				b.errf(s.Args.Pos("parentSite"), nserr.Inval, "gslb site %q: parent site %q is itself a child site", s.Name, info.Parent)
			default:
				info.Parent = p.Name
			}
			for _, k := range []string{"nwMetricExchange", "sessionExchange"} {
				if s.Args.Get(k) == "ENABLED" {
					b.errf(s.Args.Pos(k), 3017, "gslb site %q: -%s cannot be enabled on a child site", s.Name, k)
				}
			}
		} else {
			peers++
		}
		if v, ok := s.Args.Val("backupParentlist"); ok {
			for _, p := range v.Values {
				if _, ok := b.c.Sites.Get(p); !ok && !strings.EqualFold(p, "None") {
					b.errf(v.Pos, nserr.SiteNotFound, "gslb site %q: unknown backup parent site %q", s.Name, p)
				}
			}
		}
		b.s.Sites = append(b.s.Sites, info)
	}
	if peers > MaxPeerSites {
		b.errf(nsconf.Pos{File: b.fileName()}, nserr.MaxSites, "at most %d parent/peer sites are allowed, found %d", MaxPeerSites, peers)
	}
	if children > MaxChildSites {
		b.errf(nsconf.Pos{File: b.fileName()}, nserr.MaxChildSites, "at most %d child sites are allowed, found %d", MaxChildSites, children)
	}
}

func (b *builder) fileName() string {
	for _, s := range b.c.Sites.All() {
		return s.Pos.File
	}
	return ""
}

func (b *builder) site(name string) *SiteInfo {
	for _, s := range b.s.Sites {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// services types the GSLB services and expands service group members.
func (b *builder) services() map[string]*ServiceInfo {
	c, prev := b.c, b.prev
	if prev != nil && !c.Services.changed && !c.ServiceGroups.changed {
		b.s.Services, b.s.svcIndex = prev.Services, prev.svcIndex
		return prev.svcIndex
	}
	out := make(map[string]*ServiceInfo, len(c.Services.order))
	b.s.Services = make([]*ServiceInfo, 0, len(c.Services.order))
	public := map[netip.AddrPort]string{}
	for _, s := range c.Services.All() {
		var info *ServiceInfo
		if prev != nil {
			if old, ok := b.pc.Services.Get(s.Name); ok && old == s {
				info = prev.svcIndex[key(s.Name)]
			}
		}
		if info == nil {
			if info = b.service(s); info == nil {
				continue
			}
		}
		if s.Args.Has("publicIP") && info.CNAME == "" {
			pp := info.Port
			if p := s.Args.Get("publicPort"); p != "" {
				n, _ := strconv.Atoi(p)
				pp = uint16(n)
			}
			ap := netip.AddrPortFrom(info.IP, pp)
			if other, dup := public[ap]; dup {
				b.errf(s.Args.Pos("publicIP"), nserr.PublicIPInUse, "gslb service %q: public IP and port %s already used by gslb service %q", s.Name, ap, other)
			}
			public[ap] = s.Name
		}
		out[key(s.Name)] = info
		b.s.Services = append(b.s.Services, info)
	}
	for _, grp := range c.ServiceGroups.All() {
		if prev != nil && !c.ServiceGroups.changed {
			for _, m := range grp.Members {
				name := memberName(grp, m)
				if info := prev.svcIndex[key(name)]; info != nil {
					out[key(name)] = info
					b.s.Services = append(b.s.Services, info)
				}
			}
			continue
		}
		b.group(grp, out)
	}
	b.s.svcIndex = out
	return out
}

func memberName(g *ServiceGroup, m *Member) string {
	return fmt.Sprintf("%s:%s:%d", g.Name, m.Target, m.Port)
}

// service types one GSLB service (nil: it has errors that leave no info).
func (b *builder) service(s *Service) *ServiceInfo {
	what := fmt.Sprintf("gslb service %q", s.Name)
	g := "gslb service"
	info := &ServiceInfo{Name: s.Name, Type: s.Type, Port: uint16(s.Port), CNAME: s.Args.Get("cnameEntry"),
		Disabled: s.Args.Get("state") == "DISABLED", Monitored: enabled(&s.Args, g, "healthMonitor")}
	site := b.site(s.Args.Get("siteName"))
	if site == nil {
		b.errf(s.Args.Pos("siteName"), nserr.SiteNotFound, "%s: unknown site %q", what, s.Args.Get("siteName"))
	} else {
		info.Site, info.Local = site.Name, site.Local
	}
	if info.CNAME == "" {
		ip, ok := b.resolveTarget(s.Target, s.Pos, what)
		if !ok {
			return nil
		}
		info.RealIP, info.IP = ip, ip
		if p := s.Args.Get("publicIP"); p != "" {
			pub, _ := netip.ParseAddr(p)
			if pub.Is4() != ip.Is4() {
				b.errf(s.Args.Pos("publicIP"), nserr.MixedFamily, "%s: -publicIP %s and IP %s are of different families", what, pub, ip)
			}
			info.IP = pub
		}
	}
	if sp := s.Args.Get("sitePersistence"); sp != "" && sp != "NONE" {
		if s.Type != "HTTP" && s.Type != "SSL" {
			b.errf(s.Args.Pos("sitePersistence"), nserr.SitePersistType, "%s: -sitePersistence is only for HTTP and SSL services", what)
		}
		if sp == "HTTPRedirect" && !s.Args.Has("sitePrefix") {
			b.errf(s.Args.Pos("sitePersistence"), nserr.SitePrefixNeeded, "%s: -sitePersistence HTTPRedirect needs -sitePrefix", what)
		}
	}
	mc, _ := strconv.ParseUint(get(&s.Args, g, "maxClient"), 10, 64)
	info.MaxClient = mc
	info.MaxBW, _ = strconv.ParseUint(s.Args.Get("maxBandwidth"), 10, 64)
	info.Monitors = b.bindMonitors(b.s.Monitors, what, s.Monitors)
	info.MonThreshold = getInt(&s.Args, g, "monThreshold")
	info.Load = b.loadSource(&s.Args, what)
	if h := s.Args.Get("hashId"); h != "" {
		n, _ := strconv.ParseUint(h, 10, 32)
		info.HashID = uint32(n)
	}
	return info
}

// group types the members of a service group into out.
func (b *builder) group(grp *ServiceGroup, out map[string]*ServiceInfo) {
	what := fmt.Sprintf("gslb serviceGroup %q", grp.Name)
	mons := b.bindMonitors(b.s.Monitors, what, grp.Monitors)
	site := b.site(grp.Args.Get("siteName"))
	if site == nil {
		b.errf(grp.Pos, nserr.SiteNotFound, "%s: unknown site %q", what, grp.Args.Get("siteName"))
		return
	}
	if site.Parent != "" {
		b.errf(grp.Pos, 1841, "%s: service groups are not allowed in a parent-child topology", what)
	}
	for _, m := range grp.Members {
		ip, ok := b.resolveTarget(m.Target, m.Pos, what)
		if !ok {
			continue
		}
		name := memberName(grp, m)
		info := &ServiceInfo{Name: name, Site: site.Name, Local: site.Local, Type: grp.Type, RealIP: ip, IP: ip,
			Port: uint16(m.Port), Group: grp.Name, Monitored: enabled(&grp.Args, "gslb serviceGroup", "healthMonitor"),
			Disabled: grp.Args.Get("state") == "DISABLED" || m.Args.Get("state") == "DISABLED"}
		if p := m.Args.Get("publicIP"); p != "" {
			info.IP, _ = netip.ParseAddr(p)
		}
		info.Monitors = mons
		info.MonThreshold = getInt(&grp.Args, "gslb serviceGroup", "monThreshold")
		if h := m.Args.Get("hashId"); h != "" {
			n, _ := strconv.ParseUint(h, 10, 32)
			info.HashID = uint32(n)
		}
		out[key(name)] = info
		b.s.Services = append(b.s.Services, info)
	}
}

func (b *builder) vservers(svcs map[string]*ServiceInfo) {
	if b.prev != nil && sameMap(svcs, b.prev.svcIndex) && !b.c.ServiceGroups.changed {
		b.vserversDelta(svcs)
		return
	}
	b.s.persistIDs = map[int]string{}
	vsx := Index[*VServerInfo]{}.Edit()
	b.domains = Index[*DomainInfo]{}.Edit()
	b.s.VServers = make([]*VServerInfo, 0, b.c.VServers.Len())
	for _, v := range b.c.VServers.All() {
		info := b.reusedVServer(v, svcs)
		if info == nil {
			info = b.vserver(v, svcs)
		}
		vsx.Set(key(v.Name), info)
		// Checks across vservers run for reused ones too.
		b.crossChecks(v, info)
		if v.Args.Has("backupVServer") {
			b.s.backupUsers = append(b.s.backupUsers, key(v.Name))
		}
		b.s.VServers = append(b.s.VServers, info)
	}
	slices.Sort(b.s.backupUsers)
	b.s.vsIndex, b.s.Domains = vsx.Index(), b.domains.Index()
	b.backupLoops()
}

// vserversDelta is vservers when no service changed: it starts from the
// previous snapshot's indexes and types only the vservers the change
// touched, so that an API change to one vserver among 1,000 costs one.
// The checks across vservers compare the touched ones with all others;
// backups are checked again for every vserver that has one.
func (b *builder) vserversDelta(svcs map[string]*ServiceInfo) {
	prev, t := b.prev, &b.c.VServers
	touched := map[string]bool{}
	for _, k := range t.touched {
		touched[k] = true
	}
	keys := slices.Sorted(maps.Keys(touched)) // errors in a stable order
	var vsx *IndexEdit[*VServerInfo]
	vsx, b.domains, b.s.persistIDs = prev.vsIndex.Edit(), prev.Domains.Edit(), maps.Clone(prev.persistIDs)
	for k := range touched {
		old, ok := prev.vsIndex.Get(k)
		if !ok {
			continue
		}
		vsx.Delete(k)
		for _, d := range old.Domains {
			if cur, _ := b.domains.Get(d.Name); cur == d {
				b.domains.Delete(d.Name)
			}
		}
		if old.PersistID >= 0 && key(b.s.persistIDs[old.PersistID]) == k {
			delete(b.s.persistIDs, old.PersistID)
		}
	}
	for _, k := range prev.backupUsers {
		if !touched[k] {
			b.s.backupUsers = append(b.s.backupUsers, k)
		}
	}
	for _, k := range keys {
		v, ok := t.Get(k)
		if !ok {
			continue
		}
		info := b.vserver(v, svcs)
		vsx.Set(k, info)
		b.crossChecks(v, info)
		if v.Args.Has("backupVServer") {
			b.s.backupUsers = append(b.s.backupUsers, k)
		}
	}
	slices.Sort(b.s.backupUsers)
	for _, k := range b.s.backupUsers {
		if v, ok := t.Get(k); ok && !touched[k] {
			b.checkBackup(v)
		}
	}
	b.s.vsIndex, b.s.Domains = vsx.Index(), b.domains.Index()
	if len(t.order) == len(b.pc.VServers.order) && (len(t.order) == 0 || &t.order[0] == &b.pc.VServers.order[0]) {
		// Same vservers in the same order: replace the touched ones.
		b.s.VServers = slices.Clone(prev.VServers)
		for k := range touched {
			b.s.VServers[slices.Index(t.order, k)] = b.s.VServer(k)
		}
	} else {
		b.s.VServers = make([]*VServerInfo, 0, len(t.order))
		for _, k := range t.order {
			b.s.VServers = append(b.s.VServers, b.s.VServer(k))
		}
	}
	b.backupLoops()
}

// crossChecks checks a vserver against the others seen so far (persistence
// ids, domains bound twice) and its backup, and indexes its domains.
func (b *builder) crossChecks(v *VServer, info *VServerInfo) {
	a := &v.Args
	if a.Has("persistenceId") {
		if other, dup := b.s.persistIDs[info.PersistID]; dup {
			b.errf(a.Pos("persistenceId"), nserr.PersistIDInUse, "gslb vserver %q: -persistenceId %d is already used by gslb vserver %q", v.Name, info.PersistID, other)
		}
		b.s.persistIDs[info.PersistID] = v.Name
	}
	b.checkBackup(v)
	for _, d := range info.Domains {
		if other, dup := b.domains.Get(d.Name); dup {
			b.errf(findDomainBinding(v, d.Name).Pos, nserr.DomainBound, "gslb vserver %q: domain %q is already bound to gslb vserver %q", v.Name, d.Name, other.VServer)
			continue
		}
		b.domains.Set(d.Name, d)
	}
}

// checkBackup checks that a vserver's backup exists with its record type.
func (b *builder) checkBackup(v *VServer) {
	a := &v.Args
	backup := a.Get("backupVServer")
	if backup == "" {
		return
	}
	bv, ok := b.c.VServers.Get(backup)
	if !ok {
		b.errf(a.Pos("backupVServer"), nserr.NoVServer, "gslb vserver %q: unknown backup vserver %q", v.Name, backup)
	} else if recordType(bv) != recordType(v) {
		b.errf(a.Pos("backupVServer"), nserr.BackupRecordType, "gslb vserver %q: backup vserver %q has record type %s, not %s", v.Name, bv.Name, recordType(bv), recordType(v))
	}
}

// reusedVServer returns the previous snapshot's info for v when v and
// every service it binds are unchanged.
func (b *builder) reusedVServer(v *VServer, svcs map[string]*ServiceInfo) *VServerInfo {
	if b.prev == nil || (len(v.Groups) > 0 && b.c.ServiceGroups.changed) {
		return nil
	}
	if old, ok := b.pc.VServers.Get(v.Name); !ok || old != v {
		return nil
	}
	info := b.prev.VServer(v.Name)
	if info == nil {
		return nil
	}
	if !sameMap(svcs, b.prev.svcIndex) { // else every service is the same
		for _, bd := range info.Bindings {
			if svcs[key(bd.Service.Name)] != bd.Service {
				return nil
			}
		}
	}
	return info
}

// vserver types one vserver with its bindings. Domains bound twice and
// the backup vserver are checked by vservers.
func (b *builder) vserver(v *VServer, svcs map[string]*ServiceInfo) *VServerInfo {
	g := "gslb vserver"
	what := fmt.Sprintf("gslb vserver %q", v.Name)
	a := &v.Args
	info := &VServerInfo{
		Name: v.Name, Type: v.Type, RecordType: get(a, g, "dnsRecordType"),
		Method: Method(get(a, g, "lbMethod")), BackupMethod: Method(a.Get("backupLBMethod")),
		NetmaskBits: maskBits(get(a, g, "netmask")), V6NetmaskBits: getInt(a, g, "v6netmasklen"),
		PersistSourceIP: get(a, g, "persistenceType") == "SOURCEIP", PersistID: -1,
		PersistMaskBits: maskBits(get(a, g, "persistMask")), V6PersistMaskBits: getInt(a, g, "v6persistmasklen"),
		PersistTimeout: time.Duration(getInt(a, g, "timeout")) * time.Minute,
		EDR:            enabled(a, g, "EDR"), MIR: enabled(a, g, "MIR"), ECS: enabled(a, g, "ECS"),
		DisablePrimaryOnDown: enabled(a, g, "disablePrimaryOnDown"),
		Disabled:             a.Get("state") == "DISABLED",
		Tolerance:            getInt(a, g, "tolerance"),
	}
	if id := a.Get("persistenceId"); id != "" {
		info.PersistID, _ = strconv.Atoi(id)
	}
	if info.PersistSourceIP && info.PersistID < 0 {
		b.errf(a.Pos("persistenceType"), nserr.PersistIDNeeded, "%s: -persistenceType SOURCEIP needs -persistenceId", what)
	}
	if info.ECS && info.MIR {
		b.errf(a.Pos("MIR"), nserr.ECSMIR, "%s: -ECS and -MIR are mutually exclusive", what)
	}
	if info.RecordType == "CNAME" {
		if info.Method.Dynamic() {
			b.errf(a.Pos("lbMethod"), nserr.CNAMENoDynamic, "%s: a CNAME vserver cannot use the dynamic method %s", what, info.Method)
		}
		if info.MIR {
			b.errf(a.Pos("MIR"), nserr.CNAMENoMIR, "%s: a CNAME vserver cannot use -MIR", what)
		}
	}
	if info.RecordType == "NAPTR" {
		b.errf(a.Pos("dnsRecordType"), nserr.Inval, "%s: -dnsRecordType NAPTR is accepted by the parser but not served yet", what)
	}
	if backup := a.Get("backupVServer"); backup != "" {
		info.Backup = backup
		if bv, ok := b.c.VServers.Get(backup); ok {
			info.Backup = bv.Name
		}
	}
	for _, sb := range v.Services {
		svc, ok := svcs[key(sb.Service)]
		if !ok {
			b.errf(sb.Pos, nserr.NoService, "%s: unknown gslb service %q", what, sb.Service)
			continue
		}
		b.bind(info, v, svc, getInt(&sb.Args, "gslb vserver", "weight"), getInt(&sb.Args, "gslb vserver", "order"), sb.Pos)
	}
	for _, gb := range v.Groups {
		grp, ok := b.c.ServiceGroups.Get(gb.Group)
		if !ok {
			b.errf(gb.Pos, nserr.NoEnt, "%s: unknown gslb serviceGroup %q", what, gb.Group)
			continue
		}
		for _, m := range grp.Members {
			svc, ok := svcs[key(memberName(grp, m))]
			if ok {
				w := getInt(&m.Args, "gslb serviceGroup", "weight")
				if w == 0 {
					w = 1
				}
				b.bind(info, v, svc, w, 0, gb.Pos)
			}
		}
	}
	for _, db := range v.Domains {
		d := &DomainInfo{Name: db.Domain, VServer: v.Name, TTL: 5}
		if t := db.Args.Get("TTL"); t != "" {
			n, _ := strconv.ParseUint(t, 10, 32)
			d.TTL = uint32(n)
		}
		if bip := db.Args.Get("backupIP"); bip == "*" {
			d.BackupAny = true
		} else if bip != "" {
			d.BackupIP, _ = netip.ParseAddr(bip)
			want4 := info.RecordType != "AAAA"
			if info.RecordType == "CNAME" || d.BackupIP.Is4() != want4 {
				b.errf(db.Args.Pos("backupIP"), nserr.BackupIPFamily, "%s: -backupIP %s does not match record type %s", what, bip, info.RecordType)
			}
		}
		info.Domains = append(info.Domains, d)
	}
	return info
}

func (b *builder) bind(info *VServerInfo, v *VServer, svc *ServiceInfo, weight, order int, pos nsconf.Pos) {
	what := fmt.Sprintf("gslb vserver %q", v.Name)
	if weight == 0 {
		weight = 1
	}
	switch {
	case info.RecordType == "CNAME" && svc.CNAME == "":
		b.errf(pos, nserr.CNAMEMix, "%s: a CNAME vserver takes only services with -cnameEntry; %q has none", what, svc.Name)
		return
	case info.RecordType != "CNAME" && svc.CNAME != "":
		b.errf(pos, nserr.CNAMEMix, "%s: service %q has -cnameEntry but the vserver's record type is %s", what, svc.Name, info.RecordType)
		return
	case svc.CNAME == "" && svc.Type != v.Type && v.Type != "ANY":
		b.errf(pos, nserr.TypeMismatch, "%s: service %q is %s but the vserver is %s", what, svc.Name, svc.Type, v.Type)
		return
	case svc.CNAME == "" && (info.RecordType == "AAAA") != svc.IP.Is6():
		b.errf(pos, nserr.MixedFamily, "%s: service %q address %s does not match record type %s", what, svc.Name, svc.IP, info.RecordType)
		return
	}
	for _, o := range info.Bindings {
		if svc.CNAME == "" && o.Service.IP == svc.IP && o.Service.Port == svc.Port {
			b.errf(pos, nserr.SameIPBound, "%s: services %q and %q have the same address %s:%d", what, o.Service.Name, svc.Name, svc.IP, svc.Port)
			return
		}
	}
	info.Bindings = append(info.Bindings, Binding{Service: svc, Weight: weight, Order: order})
}

// backupLoops reports a vserver that reaches itself through -backupVServer.
func (b *builder) backupLoops() {
	for _, k := range b.s.backupUsers {
		v, ok := b.c.VServers.Get(k)
		if !ok {
			continue
		}
		seen := map[string]bool{key(v.Name): true}
		cur := v
		for cur.Args.Get("backupVServer") != "" {
			next, ok := b.c.VServers.Get(cur.Args.Get("backupVServer"))
			if !ok {
				break
			}
			if seen[key(next.Name)] {
				if key(next.Name) == key(v.Name) {
					b.errf(v.Args.Pos("backupVServer"), nserr.BackupConflict, "gslb vserver %q: backup chain loops back to itself", v.Name)
				}
				break
			}
			seen[key(next.Name)] = true
			cur = next
		}
	}
}

// zones builds the authoritative zones: one per `add dns zone` or SOA
// record, plus an implicit zone for each GSLB domain outside all of them.
func (b *builder) zones() {
	if b.prev != nil && !b.c.Zones.changed && slices.Equal(b.c.Records, b.pc.Records) && b.s.Domains.SameKeys(b.prev.Domains) {
		b.s.Zones, b.s.ZoneOf = b.prev.Zones, b.prev.ZoneOf
		return
	}
	apexes := map[string]*ZoneInfo{}
	var order []string
	addZone := func(apex string, implicit bool) *ZoneInfo {
		if z, ok := apexes[apex]; ok {
			return z
		}
		z := &ZoneInfo{Apex: apex, Implicit: implicit}
		apexes[apex] = z
		order = append(order, apex)
		return z
	}
	for _, z := range b.c.Zones.All() {
		if z.Args.Get("proxyMode") == "YES" {
			continue // proxy zones are not authoritative here
		}
		addZone(z.Name, false)
	}
	hasSOA := map[string]bool{}
	for _, r := range b.c.Records {
		if r.Kind == "soaRec" {
			addZone(r.Name, false)
			hasSOA[r.Name] = true
		}
	}
	zoneOf := func(name string) *ZoneInfo {
		for n := name; ; {
			if z, ok := apexes[n]; ok {
				return z
			}
			i := strings.IndexByte(n, '.')
			if i < 0 {
				return nil
			}
			n = n[i+1:]
		}
	}
	// Implicit zones for GSLB domains (NetScaler answers them with SOA/NS of
	// the ADNS service).
	var domains []string
	for d := range b.s.Domains.All() {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	for _, d := range domains {
		if zoneOf(d) == nil {
			addZone(d, true)
		}
	}
	a := map[string]int{}
	aaaa := map[string]int{}
	cnames := map[string]string{}
	owners := map[string]string{} // name -> a non-CNAME type present
	for _, r := range b.c.Records {
		z := zoneOf(r.Name)
		if z == nil {
			// Records outside every zone (root hints of default saved
			// configs) are kept but not served.
			continue
		}
		ttl := uint32(getInt(&r.Args, "dns "+r.Kind, "TTL")) // schema default 3600
		add := func(typ string, data ...string) {
			z.Records = append(z.Records, RecordInfo{Type: typ, Name: r.Name, TTL: ttl, Data: data})
			if typ != "CNAME" {
				owners[r.Name] = typ
			}
		}
		what := fmt.Sprintf("dns %s %q", r.Kind, r.Name)
		switch r.Kind {
		case "soaRec":
			if r.Name != z.Apex {
				continue
			}
			g := "dns soaRec"
			add("SOA", r.Args.Get("originServer"), r.Args.Get("contact"), get(&r.Args, g, "serial"), get(&r.Args, g, "refresh"),
				get(&r.Args, g, "retry"), get(&r.Args, g, "expire"), get(&r.Args, g, "minimum"))
		case "nsRec":
			add("NS", r.Data[0])
		case "addRec", "aaaaRec":
			typ, count, limit, code := "A", a, MaxARecords, nserr.MaxA
			if r.Kind == "aaaaRec" {
				typ, count, limit, code = "AAAA", aaaa, MaxAAAARecord, nserr.MaxAAAA
			}
			for _, ip := range r.Data {
				addr, _ := netip.ParseAddr(ip)
				if (typ == "A") != addr.Is4() {
					b.errf(r.Pos, nserr.InvalidIP, "%s: %s is not an %s address", what, ip, map[bool]string{true: "IPv4", false: "IPv6"}[typ == "A"])
					continue
				}
				count[r.Name]++
				if count[r.Name] == limit+1 {
					b.errf(r.Pos, code, "%s: at most %d addresses per name", what, limit)
				}
				add(typ, ip)
			}
			if d, ok := b.s.Domains.Get(r.Name); ok {
				code := nserr.StaticAConflict
				if typ == "AAAA" {
					code = nserr.StaticAAAAConfl
				}
				b.errf(r.Pos, code, "%s: the name is a GSLB domain of gslb vserver %q", what, d.VServer)
			}
		case "cnameRec":
			if _, ok := b.s.Domains.Get(r.Name); ok {
				b.errf(r.Pos, nserr.StaticAConflict, "%s: the name is a GSLB domain", what)
			}
			cnames[r.Name] = r.Data[0]
			z.Records = append(z.Records, RecordInfo{Type: "CNAME", Name: r.Name, TTL: ttl, Data: r.Data})
		case "mxRec":
			add("MX", r.Args.Get("pref"), r.Args.Get("mx"))
		case "txtRec":
			add("TXT", r.Data...)
		case "srvRec":
			add("SRV", r.Args.Get("priority"), r.Args.Get("weight"), r.Args.Get("port"), r.Data[0])
		case "ptrRec":
			for _, d := range r.Data {
				add("PTR", d)
			}
		}
	}
	for _, r := range b.c.Records {
		if r.Kind != "cnameRec" {
			continue
		}
		if t, ok := owners[r.Name]; ok && t != "" {
			b.errf(r.Pos, nserr.Inval, "dns cnameRec %q: the name also has %s data (RFC 1034 §3.6.2)", r.Name, t)
		}
		// CNAME loops (2006).
		seen := map[string]bool{r.Name: true}
		for n := cnames[r.Name]; n != ""; n = cnames[n] {
			if seen[n] {
				b.errf(r.Pos, nserr.CNAMELoop, "dns cnameRec %q: CNAME chain loops at %q", r.Name, n)
				break
			}
			seen[n] = true
		}
	}
	adns := b.adnsAddrs()
	for _, apex := range order {
		z := apexes[apex]
		if !hasSOA[apex] {
			// Deviation: NetScaler needs an SOA record per zone; gslbd
			// makes one for `add dns zone` without it and for implicit zones.
			z.Records = append(z.Records, RecordInfo{Type: "SOA", Name: apex, TTL: 3600,
				Data: []string{"ns1." + apex, "hostmaster." + apex, "100", "3600", "3", "3600", "5"}})
			hasNS := slices.ContainsFunc(z.Records, func(r RecordInfo) bool { return r.Type == "NS" && r.Name == apex })
			if !hasNS {
				z.Records = append(z.Records, RecordInfo{Type: "NS", Name: apex, TTL: 3600, Data: []string{"ns1." + apex}})
				for _, ip := range adns {
					typ := "A"
					if ip.Is6() {
						typ = "AAAA"
					}
					z.Records = append(z.Records, RecordInfo{Type: typ, Name: "ns1." + apex, TTL: 3600, Data: []string{ip.String()}})
				}
			}
		}
		b.s.Zones = append(b.s.Zones, z)
	}
	b.s.ZoneOf = make(map[string]string, b.s.Domains.Len())
	for _, d := range b.s.Domains.All() {
		if z := zoneOf(d.Name); z != nil {
			b.s.ZoneOf[d.Name] = z.Apex
		}
	}
}

func (b *builder) adnsAddrs() []netip.Addr {
	var out []netip.Addr
	for _, l := range b.s.Listeners {
		if !slices.Contains(out, l.Addr.Addr()) && !l.Addr.Addr().IsUnspecified() {
			out = append(out, l.Addr.Addr())
		}
	}
	return out
}

// sameMap reports whether a and b are the same map (not just equal).
func sameMap[K comparable, V any](a, b map[K]V) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
