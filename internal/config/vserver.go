package config

// This file holds gslb vserver: its model and bindings (services, groups,
// domains, policies), the commands that change it, how Build types and
// checks it (incrementally when only vservers changed), and how it is
// written.

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

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
	// EnableSeq orders the enable gslb vserver commands applied to it
	// (0: none since the file was read): the engine turns a primary that
	// -disablePrimaryOnDown switched off on again when it sees a higher
	// one. It is an event, not a setting: never written.
	EnableSeq uint64
}

// enableSeq numbers enable gslb vserver commands in this process.
var enableSeq atomic.Uint64

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

func (v *VServer) clone() *VServer {
	x := *v
	x.Args = v.Args.clone()
	x.Services = cloneEach(v.Services, func(b *ServiceBinding) *Args { return &b.Args })
	x.Groups = cloneEach(v.Groups, func(b *GroupBinding) *Args { return &b.Args })
	x.Domains = cloneEach(v.Domains, func(b *DomainBinding) *Args { return &b.Args })
	x.Policies = cloneEach(v.Policies, func(b *PolicyBinding) *Args { return &b.Args })
	return &x
}

// addVServer applies add gslb vserver.
func (a *applier) addVServer() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if _, ok := c.VServers.Get(name); ok {
		return a.errf(nserr.Exist, "gslb vserver %q: already exists", name)
	}
	v := &VServer{Name: name, Type: a.pos("serviceType"), Args: a.optArgs(), Pos: cmd.Pos}
	c.VServers.Put(name, v)
	a.owner = v
	return nil
}

func (a *applier) vserver() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	v, ok := c.VServers.Edit(name)
	if !ok {
		return a.errf(nserr.NoVServer, "gslb vserver %q: no such vserver", name)
	}
	a.owner = v
	switch cmd.Spec.Verb {
	case "set":
		// -serviceName s -weight w changes a binding's weight; -domainName d
		// with its options changes a domain binding. Every check comes
		// before any change, so a failed set changes nothing.
		domainOpts := []string{"TTL", "backupIP", "cookieDomain", "cookieTimeout", "sitedomainTTL"}
		var sb *ServiceBinding
		if sn := cmd.Arg("serviceName"); sn != nil {
			if sb = findServiceBinding(v, sn.Value()); sb == nil {
				return a.errf(nserr.NoService, "gslb vserver %q: gslb service %q is not bound", name, sn.Value())
			}
		} else if cmd.Has("weight") {
			return a.errf(nserr.ArgPrereq, "gslb vserver %q: -weight needs -serviceName", name)
		}
		var db *DomainBinding
		if dn := cmd.Arg("domainName"); dn != nil {
			if db = findDomainBinding(v, dn.Value()); db == nil {
				return a.errf(nserr.DomainNotBound, "gslb vserver %q: domain %q is not bound", name, dn.Value())
			}
		} else {
			for _, o := range domainOpts {
				if cmd.Has(o) {
					return a.errf(nserr.ArgPrereq, "gslb vserver %q: -%s needs -domainName", name, o)
				}
			}
		}
		if cmd.Has("dnsRecordType") && cmd.Get("dnsRecordType") != recordType(v) &&
			(len(v.Services) > 0 || len(v.Domains) > 0 || len(v.Groups) > 0 || v.Args.Has("backupVServer")) {
			return a.errf(nserr.Inval, "gslb vserver %q: -dnsRecordType cannot change while services, domains or a backup vserver are bound", name)
		}
		if w := cmd.Arg("weight"); sb != nil && w != nil {
			sb.Args.Set(*w)
		}
		for _, o := range domainOpts {
			if x := cmd.Arg(o); db != nil && x != nil {
				db.Args.Set(*x)
			}
		}
		a.merge(&v.Args, append(domainOpts, "serviceName", "weight", "domainName")...)
	case "unset":
		a.unset(&v.Args)
	case "rm":
		c.VServers.Delete(name)
	case "rename":
		nn := a.pos("newName")
		if _, ok := c.VServers.Get(nn); ok && !strings.EqualFold(nn, name) {
			return a.errf(nserr.Exist, "gslb vserver %q: already exists", nn)
		}
		c.VServers.Rename(name, nn, v)
		v.Name = nn
		for _, o := range c.VServers.All() {
			if strings.EqualFold(o.Args.Get("backupVServer"), name) {
				o, _ = c.VServers.Edit(o.Name)
				renameArg(&o.Args, "backupVServer", nn)
			}
		}
	case "enable":
		v.Args.Unset("state")
		v.EnableSeq = enableSeq.Add(1)
	case "disable":
		v.Args.SetValue("state", "DISABLED", cmd.Pos)
	case "bind":
		return a.bindVServer(v)
	case "unbind":
		return a.unbindVServer(v)
	}
	return nil
}

func recordType(v *VServer) string {
	if t := v.Args.Get("dnsRecordType"); t != "" {
		return t
	}
	return "A"
}

func findServiceBinding(v *VServer, svc string) *ServiceBinding {
	for _, b := range v.Services {
		if strings.EqualFold(b.Service, svc) {
			return b
		}
	}
	return nil
}

func findGroupBinding(v *VServer, g string) *GroupBinding {
	for _, b := range v.Groups {
		if strings.EqualFold(b.Group, g) {
			return b
		}
	}
	return nil
}

func findDomainBinding(v *VServer, d string) *DomainBinding {
	for _, b := range v.Domains {
		if strings.EqualFold(b.Domain, d) {
			return b
		}
	}
	return nil
}

func (a *applier) bindVServer(v *VServer) *nsconf.Error {
	cmd := a.cmd
	kinds := 0
	for _, k := range []string{"serviceName", "serviceGroupName", "domainName", "policyName"} {
		if cmd.Has(k) {
			kinds++
		}
	}
	if kinds != 1 {
		return a.errf(nserr.ArgsMutex, "bind gslb vserver %q: give exactly one of -serviceName, -serviceGroupName, -domainName, -policyName", v.Name)
	}
	args := a.optArgs()
	switch {
	case cmd.Has("serviceName"):
		svc := cmd.Get("serviceName")
		if findServiceBinding(v, svc) != nil {
			return a.errf(nserr.Exist, "gslb vserver %q: gslb service %q already bound", v.Name, svc)
		}
		args.Unset("serviceName")
		v.Services = append(v.Services, &ServiceBinding{Service: svc, Args: args, Pos: cmd.Pos})
	case cmd.Has("serviceGroupName"):
		g := cmd.Get("serviceGroupName")
		for _, b := range v.Groups {
			if strings.EqualFold(b.Group, g) {
				return a.errf(nserr.Exist, "gslb vserver %q: gslb serviceGroup %q already bound", v.Name, g)
			}
		}
		args.Unset("serviceGroupName")
		v.Groups = append(v.Groups, &GroupBinding{Group: g, Args: args, Pos: cmd.Pos})
	case cmd.Has("domainName"):
		d := cmd.Get("domainName")
		if b := findDomainBinding(v, d); b != nil {
			// NetScaler lets a second bind add attributes (backupIP) to an
			// existing domain binding.
			args.Unset("domainName")
			for _, name := range []string{"TTL", "backupIP", "cookieDomain", "cookieTimeout", "sitedomainTTL"} {
				if x, ok := args.Val(name); ok {
					b.Args.Set(x)
				}
			}
			return nil
		}
		args.Unset("domainName")
		v.Domains = append(v.Domains, &DomainBinding{Domain: d, Args: args, Pos: cmd.Pos})
	case cmd.Has("policyName"):
		p := cmd.Get("policyName")
		args.Unset("policyName")
		v.Policies = append(v.Policies, &PolicyBinding{Policy: p, Args: args, Pos: cmd.Pos})
	}
	return nil
}

func (a *applier) unbindVServer(v *VServer) *nsconf.Error {
	cmd := a.cmd
	switch {
	case cmd.Has("serviceName"):
		svc := cmd.Get("serviceName")
		n := len(v.Services)
		v.Services = slices.DeleteFunc(v.Services, func(b *ServiceBinding) bool { return strings.EqualFold(b.Service, svc) })
		if n == len(v.Services) {
			return a.errf(nserr.NoService, "gslb vserver %q: gslb service %q is not bound", v.Name, svc)
		}
	case cmd.Has("serviceGroupName"):
		g := cmd.Get("serviceGroupName")
		n := len(v.Groups)
		v.Groups = slices.DeleteFunc(v.Groups, func(b *GroupBinding) bool { return strings.EqualFold(b.Group, g) })
		if n == len(v.Groups) {
			return a.errf(nserr.NoEnt, "gslb vserver %q: gslb serviceGroup %q is not bound", v.Name, g)
		}
	case cmd.Has("domainName"):
		d := cmd.Get("domainName")
		b := findDomainBinding(v, d)
		if b == nil {
			return a.errf(nserr.DomainNotBound, "gslb vserver %q: domain %q is not bound", v.Name, d)
		}
		// -backupIP / -cookieDomain remove only that attribute.
		if cmd.Has("backupIP") || cmd.Has("cookieDomain") {
			if cmd.Has("backupIP") {
				b.Args.Unset("backupIP")
			}
			if cmd.Has("cookieDomain") {
				b.Args.Unset("cookieDomain")
			}
			return nil
		}
		v.Domains = slices.DeleteFunc(v.Domains, func(x *DomainBinding) bool { return x == b })
	case cmd.Has("policyName"):
		p := cmd.Get("policyName")
		n := len(v.Policies)
		v.Policies = slices.DeleteFunc(v.Policies, func(b *PolicyBinding) bool { return strings.EqualFold(b.Policy, p) })
		if n == len(v.Policies) {
			return a.errf(nserr.NoEnt, "gslb vserver %q: policy %q is not bound", v.Name, p)
		}
	default:
		return a.errf(nserr.ArgMissing, "unbind gslb vserver %q: needs -serviceName, -serviceGroupName, -domainName or -policyName", v.Name)
	}
	return nil
}

// VServerInfo is a typed GSLB vserver.
type VServerInfo struct {
	Name              string
	Type              string
	RecordType        string // A, AAAA, CNAME, NAPTR
	Method            Method
	BackupMethod      Method // "" = none
	NetmaskBits       int    // SOURCEIPHASH IPv4 prefix
	V6NetmaskBits     int
	PersistSourceIP   bool
	PersistID         int
	PersistMaskBits   int
	V6PersistMaskBits int
	PersistTimeout    time.Duration
	EDR, MIR, ECS     bool
	// ECSAddrValidation: an ECS address that is private or not
	// routable is not used; the resolver's address decides instead.
	ECSAddrValidation    bool
	DisablePrimaryOnDown bool
	// ConsiderEffective: -considerEffectiveState STATE_ONLY: when every
	// bound service is DOWN, the services whose effective state is UP
	// (their LB vserver serves through a backup vserver) are answered.
	ConsiderEffective bool
	Disabled          bool
	Backup            string // backup vserver name
	Tolerance         int
	Bindings          []Binding
	Domains           []*DomainInfo
	EnableSeq         uint64          // VServer.EnableSeq
	warnings          []*nsconf.Error // found while typing it
}

// Binding is a service bound to a vserver.
type Binding struct {
	Service *ServiceInfo
	Weight  int
	Order   int
}

// DomainInfo is a domain bound to a vserver.
type DomainInfo struct {
	Name      string // lower-case FQDN without trailing dot
	VServer   string
	TTL       uint32
	BackupIP  netip.Addr // invalid = none
	BackupAny bool       // -backupIP *
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
		ECSAddrValidation:    enabled(a, g, "ecsAddrValidation"),
		ConsiderEffective:    get(a, g, "considerEffectiveState") == "STATE_ONLY",
		Disabled:             a.Get("state") == "DISABLED",
		Tolerance:            getInt(a, g, "tolerance"),
		EnableSeq:            v.EnableSeq,
	}
	b.warn = &info.warnings
	defer func() { b.warn = nil }()
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
	case svc.CNAME == "" && svc.Type != v.Type && v.Type != "ANY" && udp(svc.Type) != udp(v.Type):
		b.errf(pos, nserr.TypeMismatch, "%s: service %q is %s (over %s) but the vserver is %s (over %s)", what, svc.Name,
			svc.Type, transport(svc.Type), v.Type, transport(v.Type))
		return
	case svc.CNAME == "" && svc.Type != v.Type && v.Type != "ANY":
		// Saved appliance files bind SSL services to HTTP vservers (and
		// the like): the appliance takes them, and so does gslbd. The
		// answer is the same; only site persistence reads the type.
		b.warnCode(pos, nserr.TypeMismatch, "%s: service %q is %s but the vserver is %s: accepted, as the appliance does", what, svc.Name, svc.Type, v.Type)
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

// udp reports whether a GSLB service type runs over UDP.
func udp(typ string) bool { return typ == "UDP" || typ == "SIP_UDP" || typ == "RADIUS" }

func transport(typ string) string {
	if udp(typ) {
		return "UDP"
	}
	return "TCP"
}

// backupLoops reports a vserver that reaches itself through -backupVServer.
func (b *builder) backupLoops() {
	// Each vserver has at most one backup: the chains form a functional
	// graph, and one walk that colours what it has seen finds every
	// vserver on a loop in linear time (walking each user's whole chain
	// was quadratic: 4,000 chained vservers took 1.7 s to check).
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	onLoop := map[string]bool{}
	var path []string
	for _, k := range b.s.backupUsers {
		v, ok := b.c.VServers.Get(k)
		if !ok || state[key(v.Name)] != unseen {
			continue
		}
		path = path[:0]
		cur := v
		for {
			ck := key(cur.Name)
			if st := state[ck]; st == onPath {
				// cur is where the walk met itself: from it to the end
				// of the path is a loop.
				for i := len(path) - 1; i >= 0; i-- {
					onLoop[path[i]] = true
					if path[i] == ck {
						break
					}
				}
				break
			} else if st == done {
				break
			}
			state[ck] = onPath
			path = append(path, ck)
			next, ok := b.c.VServers.Get(cur.Args.Get("backupVServer"))
			if cur.Args.Get("backupVServer") == "" || !ok {
				break
			}
			cur = next
		}
		for _, p := range path {
			state[p] = done
		}
	}
	for _, k := range b.s.backupUsers {
		if v, ok := b.c.VServers.Get(k); ok && onLoop[key(v.Name)] {
			b.errf(v.Args.Pos("backupVServer"), nserr.BackupConflict, "gslb vserver %q: backup chain loops back to itself", v.Name)
		}
	}
}

// vservers writes the add lines, then the set lines (-backupVServer,
// which add does not take, names another vserver), as the appliance
// saves them.
func (w *writer) vservers(c *Config) {
	var sets []wline
	for _, v := range c.VServers.All() {
		if w.raw(v, slotMain) {
			continue
		}
		add, ss := w.entity("gslb vserver", []string{v.Name, v.Type}, nil, &v.Args, v.Pos, true)
		w.put(*add)
		sets = append(sets, ss...)
	}
	w.put(sets...)
}

// vserverBindings writes the service and group bindings of every vserver,
// then the domain and policy bindings.
func (w *writer) vserverBindings(c *Config) {
	for _, v := range c.VServers.All() {
		if w.raw(v, slotVSBind) {
			continue
		}
		for _, b := range v.Services {
			w.bind("gslb vserver", v.Name, "serviceName", b.Service, b.Args, b.Pos)
		}
		for _, b := range v.Groups {
			w.bind("gslb vserver", v.Name, "serviceGroupName", b.Group, b.Args, b.Pos)
		}
	}
	for _, v := range c.VServers.All() {
		if w.raw(v, slotVSDomain) {
			continue
		}
		for _, b := range v.Domains {
			w.bind("gslb vserver", v.Name, "domainName", b.Domain, b.Args, b.Pos)
		}
		for _, b := range v.Policies {
			w.bind("gslb vserver", v.Name, "policyName", b.Policy, b.Args, b.Pos)
		}
	}
}
