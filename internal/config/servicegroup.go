package config

// This file holds gslb serviceGroup: its model and members, the commands
// that change it, how Build expands it into services, and how it is
// written.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// ServiceGroup is a GSLB service group.
type ServiceGroup struct {
	Name     string
	Type     string
	Args     Args
	Members  []*Member
	Monitors []MonitorBinding
	Pos      nsconf.Pos
}

// Member is a GSLB service group member.
type Member struct {
	Target string
	Port   int
	Args   Args
	Pos    nsconf.Pos
}

func (g *ServiceGroup) clone() *ServiceGroup {
	x := *g
	x.Args = g.Args.clone()
	x.Members = cloneEach(g.Members, func(m *Member) *Args { return &m.Args })
	x.Monitors = cloneMonitors(g.Monitors)
	return &x
}

// addServiceGroup applies add gslb serviceGroup.
func (a *applier) addServiceGroup() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceGroupName")
	if _, ok := c.ServiceGroups.Get(name); ok {
		return a.errf(nserr.Exist, "gslb serviceGroup %q: already exists", name)
	}
	g := &ServiceGroup{Name: name, Type: a.pos("serviceType"), Args: a.optArgs(), Pos: cmd.Pos}
	c.ServiceGroups.Put(name, g)
	a.owner = g
	return nil
}

func (a *applier) serviceGroup() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceGroupName")
	g, ok := c.ServiceGroups.Edit(name)
	if !ok {
		return a.errf(nserr.NoEnt, "gslb serviceGroup %q: no such service group", name)
	}
	a.owner = g
	switch cmd.Spec.Verb {
	case "set":
		a.merge(&g.Args)
	case "unset":
		a.unset(&g.Args)
	case "rm":
		c.ServiceGroups.Delete(name)
		for _, vs := range c.VServers.All() {
			if findGroupBinding(vs, name) != nil {
				vs, _ = c.VServers.Edit(vs.Name)
				vs.Groups = slices.DeleteFunc(vs.Groups, func(b *GroupBinding) bool { return strings.EqualFold(b.Group, name) })
			}
		}
	case "rename":
		nn := a.pos("newName")
		if _, ok := c.ServiceGroups.Get(nn); ok && !strings.EqualFold(nn, name) {
			return a.errf(nserr.Exist, "gslb serviceGroup %q: already exists", nn)
		}
		c.ServiceGroups.Rename(name, nn, g)
		g.Name = nn
		for _, vs := range c.VServers.All() {
			if findGroupBinding(vs, name) != nil {
				vs, _ = c.VServers.Edit(vs.Name)
				findGroupBinding(vs, name).Group = nn
			}
		}
	case "enable":
		g.Args.Unset("state")
	case "disable":
		g.Args.SetValue("state", "DISABLED", cmd.Pos)
	case "bind", "unbind":
		if m := cmd.Arg("monitorName"); m != nil {
			i := slices.IndexFunc(g.Monitors, func(b MonitorBinding) bool { return strings.EqualFold(b.Monitor, m.Value()) })
			if cmd.Spec.Verb == "unbind" {
				if i < 0 {
					return a.errf(nserr.NoEnt, "gslb serviceGroup %q: monitor %q is not bound", name, m.Value())
				}
				g.Monitors = slices.Delete(g.Monitors, i, i+1)
				return nil
			}
			if i >= 0 {
				return a.errf(nserr.Exist, "gslb serviceGroup %q: monitor %q already bound", name, m.Value())
			}
			args := a.optArgs()
			args.Unset("monitorName")
			g.Monitors = append(g.Monitors, MonitorBinding{Monitor: m.Value(), Args: args, Pos: cmd.Pos})
			return nil
		}
		target, port := a.pos("IP"), atoi(a.pos("port"))
		if target == "" || port == 0 {
			return a.errf(nserr.ArgMissing, "%s gslb serviceGroup %q: needs <IP|serverName> <port> or -monitorName", cmd.Spec.Verb, name)
		}
		i := slices.IndexFunc(g.Members, func(m *Member) bool { return strings.EqualFold(m.Target, target) && m.Port == port })
		if cmd.Spec.Verb == "unbind" {
			if i < 0 {
				return a.errf(nserr.NoEnt, "gslb serviceGroup %q: member %s:%d is not bound", name, target, port)
			}
			g.Members = slices.Delete(g.Members, i, i+1)
			return nil
		}
		if i >= 0 {
			return a.errf(nserr.Exist, "gslb serviceGroup %q: member %s:%d already bound", name, target, port)
		}
		g.Members = append(g.Members, &Member{Target: target, Port: port, Args: a.optArgs(), Pos: cmd.Pos})
	}
	return nil
}

func memberName(g *ServiceGroup, m *Member) string {
	return fmt.Sprintf("%s:%s:%d", g.Name, m.Target, m.Port)
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
		b.health(info)
		out[key(name)] = info
		b.s.Services = append(b.s.Services, info)
	}
}

func (w *writer) serviceGroups(c *Config) {
	for _, g := range c.ServiceGroups.All() {
		if w.raw(g, slotMain) {
			continue
		}
		w.putEntity(w.entity("gslb serviceGroup", []string{g.Name, g.Type}, nil, &g.Args, g.Pos, true))
		for _, m := range g.Members {
			w.bindLine("gslb serviceGroup", []string{g.Name, m.Target, strconv.Itoa(m.Port)}, m.Args.vals, m.Pos)
		}
	}
}

func (w *writer) serviceGroupMonitorBindings(c *Config) {
	for _, g := range c.ServiceGroups.All() {
		if w.raw(g, slotGroupMonitor) {
			continue
		}
		for _, m := range g.Monitors {
			w.bind("gslb serviceGroup", g.Name, "monitorName", m.Monitor, m.Args, m.Pos)
		}
	}
}
