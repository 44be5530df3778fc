package config

// This file holds how a local GSLB service gets its health when no monitor
// is bound to it: as on the appliance, from the LB, CS or VPN vserver it
// points at (read from the lines gslbd keeps as written), else from a
// built-in default monitor chosen by its type.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Health says where a GSLB service's state comes from.
type Health uint8

// Health sources.
const (
	// HealthNone: -healthMonitor NO; never probed, always UP (NetScaler).
	HealthNone Health = iota
	// HealthMonitors: the monitors bound to it.
	HealthMonitors
	// HealthDefault: no monitor is bound and it is local: the built-in
	// default monitor of its type (tcp-default for TCP services,
	// ping-default for the others), as the appliance binds one to every
	// service without a monitor.
	HealthDefault
	// HealthVServer: it is the address of an LB or CS vserver of this
	// configuration: UP while one of that vserver's services is UP, each
	// probed with its own monitors (or its default monitor), as the
	// appliance takes a local GSLB service's state from its vserver.
	HealthVServer
	// HealthRemote: a service of another site without a monitor: nothing
	// here probes it (the site exchange reports it).
	HealthRemote
	// HealthOff: no monitor is bound and default monitors are switched
	// off (set gslb parameter -defaultMonitors DISABLED): UP until
	// something reports otherwise.
	HealthOff
	// HealthAppliance: no monitor is bound and -loadSource NITRO reads the
	// appliance's vserver: its state is the appliance's.
	HealthAppliance
)

func (h Health) String() string {
	return [...]string{"none", "monitors", "default monitor", "vserver", "remote", "off", "appliance"}[h]
}

// Backend is a service of the LB vserver a GSLB service points at (or a
// service group member of it), with what probes it.
type Backend struct {
	Name         string // the service, or <group>:<address>:<port>
	Addr         netip.AddrPort
	Monitors     []MonitorRef
	MonThreshold int
	Disabled     bool // the service or member is disabled: never UP
	Unmonitored  bool // -healthMonitor NO: always UP
	// Backup: a service of the vserver's -backupVServer chain. It does not
	// make the GSLB service UP; it makes its effective state UP (the
	// backing vserver can still serve through its backup), which
	// considerEffectiveState STATE_ONLY uses when every service is DOWN.
	Backup bool
}

// DefaultMonitor is the built-in monitor the appliance binds to a service
// of this type that has none: tcp-default for services over TCP,
// ping-default for the others.
func DefaultMonitor(serviceType string) string {
	switch serviceType {
	case "UDP", "DNS", "SNMP", "DHCPRA", "SIP_UDP", "RADIUS", "RADIUSListener", "TFTP", "SYSLOGUDP", "DTLS",
		"QUIC", "QUIC_BRIDGE", "HTTP_QUIC", "ANY", "GRE", "PPTP", "ADNS":
		return "ping-default"
	}
	return "tcp-default"
}

// lbKinds are the kinds of kept lines that readLBView reads.
var lbKinds = []string{"add lb vserver", "add cs vserver", "add vpn vserver", "set lb vserver", "set cs vserver", "enable lb vserver",
	"disable lb vserver", "disable cs vserver", "disable vpn vserver", "bind lb vserver", "bind cs vserver",
	"add cs action", "add cs policy", "add servicegroup", "bind servicegroup", "enable servicegroup",
	"disable servicegroup", "bind service"}

// lbKindsNote is what the warning about those lines says of them.
const lbKindsNote = "read for the health of GSLB services at their vservers' addresses (docs/migration.md)"

// lbView is what gslbd reads of the appliance's own load balancing from
// the lines it keeps as written: LB, CS and VPN vservers by VIP, the
// services and service groups bound to them, the CS vservers' targets,
// and the monitors bound to services and groups.
type lbView struct {
	vservers map[netip.AddrPort]*lbVServer
	byName   map[string]*lbVServer // "lb vserver x", lower case
	groups   map[string]*lbGroup   // lower case
	// monitors bound to LB services (bind service -monitorName, bind lb
	// monitor m svc), by lower-cased service name.
	monitors map[string][]lbMonitor
	// cs policies and actions, for a CS vserver's targets.
	policyAction, actionTarget map[string]string
}

type lbVServer struct {
	kind, name string // "lb vserver", "cs vserver", "vpn vserver"
	disabled   bool
	bound      []string // lb: services and groups; cs: lb vservers and policies ("policy p")
	backup     string   // -backupVServer
	pos        nsconf.Pos
}

type lbGroup struct {
	name, typ   string
	disabled    bool
	unmonitored bool
	members     []lbMember
	monitors    []lbMonitor
}

type lbMember struct {
	target   string // IP or server name
	port     int
	disabled bool
}

type lbMonitor struct {
	name     string
	weight   int
	disabled bool
	pos      nsconf.Pos
}

// keptLines calls f with each line c keeps as written (of its file, then
// of changes) that could describe load balancing.
func (c *Config) keptLines(f func(text string, pos nsconf.Pos)) {
	relevant := func(t string) bool {
		for _, p := range []string{"add lb vserver ", "add cs vserver ", "add vpn vserver ", "set lb vserver ", "set cs vserver ", "bind lb vserver ",
			"bind cs vserver ", "add cs action ", "add cs policy ", "add serviceGroup ", "bind serviceGroup ",
			"bind service ", "bind lb monitor ", "disable lb vserver ", "enable lb vserver ", "disable serviceGroup ",
			"enable serviceGroup ", "disable cs vserver ", "disable vpn vserver "} {
			if len(t) >= len(p) && strings.EqualFold(t[:len(p)], p) {
				return true
			}
		}
		return false
	}
	if d := c.doc; d != nil {
		for _, l := range d.all {
			if l.kept && relevant(l.text) {
				f(l.text, nsconf.Pos{File: d.File, Line: l.no})
			}
		}
	}
	for _, cmd := range c.Verbatim {
		if relevant(cmd.Raw) {
			f(cmd.Raw, cmd.Pos)
		}
	}
}

// readLBView reads the lines c keeps as written. A line it cannot read is
// skipped: those lines are the appliance's business.
func (c *Config) readLBView() *lbView {
	v := &lbView{vservers: map[netip.AddrPort]*lbVServer{}, byName: map[string]*lbVServer{}, groups: map[string]*lbGroup{},
		monitors: map[string][]lbMonitor{}, policyAction: map[string]string{}, actionTarget: map[string]string{}}
	c.keptLines(func(text string, pos nsconf.Pos) {
		toks, err := nsconf.Lex(text, pos.Line, pos.File)
		if err != nil || len(toks) < 4 {
			return
		}
		w := make([]string, len(toks))
		for i, t := range toks {
			w[i] = t.Text
		}
		verb, group, name := strings.ToLower(w[0]), strings.ToLower(w[1]+" "+w[2]), w[3]
		if strings.ToLower(w[1]) == "service" || strings.ToLower(w[1]) == "servicegroup" {
			group, name = strings.ToLower(w[1]), w[2]
		}
		opts := lbOpts(toks)
		switch verb + " " + group {
		case "add lb vserver", "add cs vserver", "add vpn vserver":
			x := &lbVServer{kind: group, name: name, disabled: strings.EqualFold(opts["state"], "DISABLED"), backup: opts["backupVServer"], pos: pos}
			v.byName[group+" "+strings.ToLower(name)] = x
			if len(w) > 6 && !toks[5].IsOption() && !toks[6].IsOption() {
				ip, err1 := netip.ParseAddr(w[5])
				port, err2 := strconv.Atoi(w[6])
				if err1 == nil && err2 == nil && !ip.IsUnspecified() && port > 0 && port < 65536 {
					v.vservers[netip.AddrPortFrom(ip.Unmap(), uint16(port))] = x
				}
			}
		case "set lb vserver", "set cs vserver":
			if x := v.byName[group+" "+strings.ToLower(name)]; x != nil && opts["backupVServer"] != "" {
				x.backup = opts["backupVServer"]
			}
		case "disable lb vserver", "enable lb vserver", "disable cs vserver", "disable vpn vserver":
			if x := v.byName[group+" "+strings.ToLower(name)]; x != nil {
				x.disabled = verb == "disable"
			}
		case "bind lb vserver":
			if x := v.byName[group+" "+strings.ToLower(name)]; x != nil && len(w) > 4 && !toks[4].IsOption() {
				x.bound = append(x.bound, w[4])
			}
		case "bind cs vserver":
			x := v.byName[group+" "+strings.ToLower(name)]
			switch {
			case x == nil:
			case opts["lbvserver"] != "":
				x.bound = append(x.bound, opts["lbvserver"])
			case opts["targetLBVserver"] != "":
				x.bound = append(x.bound, opts["targetLBVserver"])
			case opts["policyName"] != "":
				x.bound = append(x.bound, "policy "+opts["policyName"])
			}
		case "add cs action":
			if t := opts["targetLBVserver"]; t != "" {
				v.actionTarget[strings.ToLower(name)] = t
			}
		case "add cs policy":
			if a := opts["action"]; a != "" {
				v.policyAction[strings.ToLower(name)] = a
			}
		case "add servicegroup":
			g := &lbGroup{name: w[2], typ: strings.ToUpper(w[3]), disabled: strings.EqualFold(opts["state"], "DISABLED"),
				unmonitored: strings.EqualFold(opts["healthMonitor"], "NO")}
			v.groups[strings.ToLower(w[2])] = g
		case "bind servicegroup":
			g := v.groups[strings.ToLower(w[2])]
			switch {
			case g == nil:
			case opts["monitorName"] != "":
				g.monitors = append(g.monitors, monitorOf(opts, pos))
			case !toks[3].IsOption() && len(w) > 4 && !toks[4].IsOption():
				port := 0
				if w[4] == "*" {
					port = 65535
				} else {
					port, _ = strconv.Atoi(w[4])
				}
				g.members = append(g.members, lbMember{target: w[3], port: port, disabled: strings.EqualFold(opts["state"], "DISABLED")})
			}
		case "disable servicegroup", "enable servicegroup":
			if g := v.groups[strings.ToLower(w[2])]; g != nil {
				if len(w) > 4 && !toks[3].IsOption() {
					for i := range g.members {
						if strings.EqualFold(g.members[i].target, w[3]) && strconv.Itoa(g.members[i].port) == w[4] {
							g.members[i].disabled = verb == "disable"
						}
					}
				} else {
					g.disabled = verb == "disable"
				}
			}
		case "bind service":
			if opts["monitorName"] != "" {
				k := strings.ToLower(w[2])
				v.monitors[k] = append(v.monitors[k], monitorOf(opts, pos))
			}
		case "bind lb monitor":
			// The legacy form: bind lb monitor <monitor> <service>.
			if len(w) > 4 && !toks[4].IsOption() {
				k := strings.ToLower(w[4])
				m := monitorOf(opts, pos)
				m.name = w[3]
				v.monitors[k] = append(v.monitors[k], m)
			}
		}
	})
	return v
}

// lbOpts returns a kept line's named arguments by canonical-ish name
// (the appliance writes them in one spelling): the first value of each.
func lbOpts(toks []nsconf.Token) map[string]string {
	out := map[string]string{}
	for i, t := range toks {
		if !t.IsOption() {
			continue
		}
		v := ""
		if i+1 < len(toks) && !toks[i+1].IsOption() {
			v = toks[i+1].Text
		}
		name := t.Text[1:]
		for _, canon := range []string{"state", "lbvserver", "targetLBVserver", "policyName", "action", "monitorName",
			"monState", "weight", "healthMonitor", "backupVServer"} {
			if strings.EqualFold(name, canon) {
				name = canon
			}
		}
		out[name] = v
	}
	return out
}

func monitorOf(opts map[string]string, pos nsconf.Pos) lbMonitor {
	w, err := strconv.Atoi(opts["weight"])
	if err != nil || w < 1 {
		w = 1
	}
	return lbMonitor{name: opts["monitorName"], weight: w, disabled: strings.EqualFold(opts["monState"], "DISABLED"), pos: pos}
}

// lb returns the view of the kept lines, read once per configuration
// (the same as the previous snapshot's when no kept line changed).
func (b *builder) lb() *lbView {
	if b.s.lb == nil {
		if b.prev != nil && b.prev.lb != nil && len(b.c.Verbatim) == len(b.pc.Verbatim) {
			b.s.lb = b.prev.lb
		} else {
			b.s.lb = b.c.readLBView()
		}
	}
	return b.s.lb
}

// health decides where a GSLB service (or service group member) without
// a bound monitor gets its state, and sets it on info.
func (b *builder) health(info *ServiceInfo) {
	switch {
	case !info.Monitored:
		info.Health, info.HealthNote = HealthNone, "-healthMonitor NO: always UP"
		return
	case len(info.Monitors) > 0:
		info.Health = HealthMonitors
		return
	case info.Load.Kind == "NITRO":
		info.Health, info.HealthNote = HealthAppliance, "no monitor bound: the state of the appliance's vserver ("+info.Load.URL+")"
		return
	case !info.Local || info.CNAME != "":
		info.Health, info.HealthNote = HealthRemote, "no monitor bound; a service of another site"
		return
	case !b.s.Param.DefaultMonitors:
		info.Health, info.HealthNote = HealthOff, "no monitor bound; default monitors are off (set gslb parameter -defaultMonitors)"
		return
	}
	ap := netip.AddrPortFrom(info.RealIP, info.Port)
	if vs := b.lb().vservers[ap]; vs != nil {
		switch vs.kind {
		case "lb vserver", "cs vserver":
			info.Health = HealthVServer
			info.Backends = b.backends(vs, map[string]bool{})
			info.HealthNote = fmt.Sprintf("%s %s: UP while one of its %d services is UP", vs.kind, vs.name, len(info.Backends))
			if vs.disabled {
				info.Backends = nil
				info.HealthNote = fmt.Sprintf("%s %s is disabled", vs.kind, vs.name)
			}
			info.Backends = append(info.Backends, b.backupChain(vs)...)
			return
		case "vpn vserver":
			m := DefaultMonitor(info.Type)
			info.Health, info.Monitors = HealthDefault, []MonitorRef{{Monitor: b.s.Monitors[m], Weight: 1}}
			info.HealthNote = fmt.Sprintf("vpn vserver %s: probed with the default monitor %s", vs.name, m)
			return
		}
	}
	m := DefaultMonitor(info.Type)
	info.Health, info.Monitors = HealthDefault, []MonitorRef{{Monitor: b.s.Monitors[m], Weight: 1}}
	info.HealthNote = "no monitor bound: the default monitor " + m
}

// backupChain lists the services of a vserver's -backupVServer chain,
// marked Backup.
func (b *builder) backupChain(vs *lbVServer) []Backend {
	v := b.lb()
	seen := map[string]bool{vs.kind + vs.name: true}
	have := map[string]bool{} // services already behind the vserver or an earlier backup
	for _, bk := range b.backends(vs, map[string]bool{}) {
		have[strings.ToLower(bk.Name)] = true
	}
	var out []Backend
	for x := v.byName[vs.kind+" "+strings.ToLower(vs.backup)]; x != nil && !seen[x.kind+x.name]; x = v.byName[x.kind+" "+strings.ToLower(x.backup)] {
		seen[x.kind+x.name] = true
		if x.disabled {
			continue
		}
		for _, bk := range b.backends(x, map[string]bool{}) {
			if have[strings.ToLower(bk.Name)] {
				continue
			}
			have[strings.ToLower(bk.Name)] = true
			bk.Backup = true
			out = append(out, bk)
		}
	}
	return out
}

// backends lists the services behind an LB vserver (a CS vserver's are
// those of its target LB vservers).
func (b *builder) backends(vs *lbVServer, seen map[string]bool) []Backend {
	v := b.lb()
	if seen[vs.kind+vs.name] {
		return nil
	}
	seen[vs.kind+vs.name] = true
	var out []Backend
	for _, name := range vs.bound {
		if vs.kind == "cs vserver" {
			if p, ok := strings.CutPrefix(name, "policy "); ok {
				name = v.actionTarget[strings.ToLower(v.policyAction[strings.ToLower(p)])]
			}
			if lb := v.byName["lb vserver "+strings.ToLower(name)]; lb != nil && !lb.disabled {
				out = append(out, b.backends(lb, seen)...)
			}
			continue
		}
		if s, ok := b.c.AppServices.Get(name); ok {
			if bk, ok := b.backend(s.Name, s.Target, s.Port, s.Type, v.monitors[strings.ToLower(s.Name)], s.Pos); ok {
				bk.Disabled = s.Args.Get("state") == "DISABLED"
				bk.Unmonitored = slices.ContainsFunc(s.Args.Loose, func(x nsconf.Val) bool {
					return strings.EqualFold(x.Name, "healthMonitor") && strings.EqualFold(x.Value(), "NO")
				})
				out = append(out, bk)
			}
			continue
		}
		if g := v.groups[strings.ToLower(name)]; g != nil {
			for _, m := range g.members {
				if bk, ok := b.backend(fmt.Sprintf("%s:%s:%d", g.name, m.target, m.port), m.target, m.port, g.typ, g.monitors, vs.pos); ok {
					bk.Disabled, bk.Unmonitored = g.disabled || m.disabled, g.unmonitored
					out = append(out, bk)
				}
			}
		}
	}
	return out
}

// backend types one service behind an LB vserver.
func (b *builder) backend(name, target string, port int, typ string, mons []lbMonitor, pos nsconf.Pos) (Backend, bool) {
	ip, err := netip.ParseAddr(target)
	if err != nil {
		srv, ok := b.c.Servers.Get(target)
		if !ok {
			return Backend{}, false
		}
		if ip, err = netip.ParseAddr(srv.Addr); err != nil {
			return Backend{}, false
		}
	}
	bk := Backend{Name: name, Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))}
	for _, m := range mons {
		mi := b.s.Monitors[key(m.name)]
		if mi == nil {
			b.warnCode(m.pos, nserr.NoEnt, "service %q: no such lb monitor %q; the GSLB service that follows its vserver does not use it", name, m.name)
			continue
		}
		bk.Monitors = append(bk.Monitors, MonitorRef{Monitor: mi, Weight: m.weight, Disabled: m.disabled})
	}
	if len(bk.Monitors) == 0 {
		bk.Monitors = []MonitorRef{{Monitor: b.s.Monitors[DefaultMonitor(typ)], Weight: 1}}
	}
	return bk, true
}
