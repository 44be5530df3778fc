package config

// This file holds gslb service: its model and bindings (monitors, DNS
// views), the commands that change it, how Build types and checks it, and
// how it is written.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

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

func (s *Service) clone() *Service {
	x := *s
	x.Args = s.Args.clone()
	x.Monitors = cloneMonitors(s.Monitors)
	x.Views = slices.Clone(s.Views)
	return &x
}

func cloneMonitors(in []MonitorBinding) []MonitorBinding {
	out := slices.Clone(in)
	for i := range out {
		out[i].Args = in[i].Args.clone()
	}
	return out
}

func (a *applier) addService() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceName")
	if _, ok := c.Services.Get(name); ok {
		return a.errf(nserr.Exist, "gslb service %q: already exists", name)
	}
	s := &Service{Name: name, Target: a.pos("IP"), Type: a.pos("serviceType"), Port: atoi(a.pos("port")),
		Args: a.optArgs(), Pos: cmd.Pos}
	cname := s.Args.Has("cnameEntry")
	switch {
	case cname && s.Target != "":
		return a.errf(nserr.ArgsMutex, "gslb service %q: give either an IP/server or -cnameEntry, not both", name)
	case !cname && (s.Target == "" || s.Type == "" || s.Port == 0):
		return a.errf(nserr.ArgMissing, "gslb service %q: needs <IP|serverName> <serviceType> <port>, or -cnameEntry", name)
	case !s.Args.Has("siteName"):
		return a.errf(nserr.SiteRequired, "gslb service %q: -siteName is required", name)
	}
	c.Services.Put(name, s)
	a.owner = s
	return nil
}

func (a *applier) service() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceName")
	s, ok := c.Services.Edit(name)
	if !ok {
		return a.errf(nserr.NoService, "gslb service %q: no such service", name)
	}
	a.owner = s
	switch cmd.Spec.Verb {
	case "set":
		// -weight <n> <monitorName> changes a monitor binding's weight.
		if w := cmd.Arg("weight"); w != nil {
			found := false
			for i := range s.Monitors {
				if strings.EqualFold(s.Monitors[i].Monitor, w.Extra) {
					s.Monitors[i].Args.SetValue("weight", w.Value(), w.Pos)
					found = true
				}
			}
			if !found {
				return a.errf(nserr.NoEnt, "gslb service %q: monitor %q is not bound", name, w.Extra)
			}
		}
		if v := cmd.Arg("viewName"); v != nil {
			if err := a.viewExists("gslb service "+strconv.Quote(name), v.Value()); err != nil {
				return err
			}
			s.Views = setView(s.Views, ViewBinding{View: v.Value(), IP: v.Extra, Pos: v.Pos})
		}
		if ip := cmd.Arg("IPAddress"); ip != nil {
			s.Target = ip.Value()
		}
		a.merge(&s.Args, "weight", "viewName", "IPAddress")
	case "unset":
		a.unset(&s.Args)
	case "rm":
		c.Services.Delete(name)
		for _, vs := range c.VServers.All() {
			if findServiceBinding(vs, name) != nil {
				vs, _ = c.VServers.Edit(vs.Name)
				vs.Services = slices.DeleteFunc(vs.Services, func(b *ServiceBinding) bool { return strings.EqualFold(b.Service, name) })
			}
		}
	case "rename":
		nn := a.pos("newName")
		if _, ok := c.Services.Get(nn); ok && !strings.EqualFold(nn, name) {
			return a.errf(nserr.Exist, "gslb service %q: already exists", nn)
		}
		c.Services.Rename(name, nn, s)
		s.Name = nn
		for _, vs := range c.VServers.All() {
			if findServiceBinding(vs, name) != nil {
				vs, _ = c.VServers.Edit(vs.Name)
				findServiceBinding(vs, name).Service = nn
			}
		}
	case "enable":
		s.Args.Unset("state")
	case "disable":
		s.Args.SetValue("state", "DISABLED", cmd.Pos)
	case "bind":
		if v := cmd.Arg("viewName"); v != nil {
			if err := a.viewExists("gslb service "+strconv.Quote(name), v.Value()); err != nil {
				return err
			}
			s.Views = setView(s.Views, ViewBinding{View: v.Value(), IP: v.Extra, Pos: v.Pos})
			return nil
		}
		m := cmd.Arg("monitorName")
		if m == nil {
			return a.errf(nserr.ArgMissing, "bind gslb service %q: needs -monitorName or -viewName", name)
		}
		for _, mb := range s.Monitors {
			if strings.EqualFold(mb.Monitor, m.Value()) {
				return a.errf(nserr.Exist, "gslb service %q: monitor %q already bound", name, m.Value())
			}
		}
		args := a.optArgs()
		args.Unset("monitorName")
		s.Monitors = append(s.Monitors, MonitorBinding{Monitor: m.Value(), Args: args, Pos: cmd.Pos})
	case "unbind":
		if v := cmd.Arg("viewName"); v != nil {
			n := len(s.Views)
			s.Views = slices.DeleteFunc(s.Views, func(b ViewBinding) bool { return strings.EqualFold(b.View, v.Value()) })
			if n == len(s.Views) {
				return a.errf(nserr.NoEnt, "gslb service %q: view %q is not bound", name, v.Value())
			}
			return nil
		}
		m := cmd.Arg("monitorName")
		if m == nil {
			return a.errf(nserr.ArgMissing, "unbind gslb service %q: needs -monitorName or -viewName", name)
		}
		n := len(s.Monitors)
		s.Monitors = slices.DeleteFunc(s.Monitors, func(b MonitorBinding) bool { return strings.EqualFold(b.Monitor, m.Value()) })
		if n == len(s.Monitors) {
			return a.errf(nserr.NoEnt, "gslb service %q: monitor %q is not bound", name, m.Value())
		}
	}
	return nil
}

func setView(views []ViewBinding, v ViewBinding) []ViewBinding {
	for i := range views {
		if strings.EqualFold(views[i].View, v.View) {
			views[i] = v
			return views
		}
	}
	return append(views, v)
}

// ServiceInfo is a typed GSLB service (or service group member).
type ServiceInfo struct {
	Name      string
	Site      string
	Local     bool
	Type      string
	IP        netip.Addr // the address answered: -publicIP if set, else the IP
	RealIP    netip.Addr
	Port      uint16
	CNAME     string // CNAME services
	Disabled  bool
	MaxClient uint64
	HashID    uint32 // 0 = none; SOURCEIPHASH uses it as a stable key
	Group     string // service group name for members
	Monitored bool   // -healthMonitor YES (default)
	MaxBW     uint64
	// Monitors bound to the service (or its group); MonThreshold is the
	// weight of UP monitors it needs (0: every enabled monitor must be UP).
	Monitors     []MonitorRef
	MonThreshold int
	Load         LoadSource
	// Health says where the state comes from (a default monitor is in
	// Monitors; HealthVServer probes Backends); HealthNote says why, for
	// show gslb service and stat.
	Health     Health
	HealthNote string
	Backends   []Backend
	// ViewIPs are the addresses answered to clients a DNS policy puts in
	// a view (bind gslb service -viewName v ip).
	ViewIPs []ViewIP
	// Location is -location (gslbd): where the service is for static
	// proximity, before its site's and its address's (nil: unset).
	Location *location.Location
}

// ViewIP is a service's address in one DNS view.
type ViewIP struct {
	View string // lower-case
	IP   netip.Addr
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
	for _, v := range s.Views {
		ip, err := netip.ParseAddr(v.IP)
		switch {
		case err != nil:
			b.errf(v.Pos, nserr.InvalidIP, "%s: view %q: %q is not an IP address", what, v.View, v.IP)
		case info.CNAME != "":
			b.errf(v.Pos, nserr.Inval, "%s: view %q: a CNAME service has no address to replace", what, v.View)
		case ip.Unmap().Is4() != info.IP.Is4():
			b.errf(v.Pos, nserr.MixedFamily, "%s: view %q: %s and the service's %s are of different families", what, v.View, ip, info.IP)
		default:
			info.ViewIPs = append(info.ViewIPs, ViewIP{View: key(v.View), IP: ip.Unmap()})
		}
	}
	info.Location = b.locationArg(&s.Args, what)
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
	b.health(info)
	return info
}

func (w *writer) services(c *Config) {
	for _, s := range c.Services.All() {
		if w.raw(s, slotMain) {
			continue
		}
		pos := []string{s.Name}
		if s.Target != "" {
			pos = append(pos, s.Target, s.Type, strconv.Itoa(s.Port))
		}
		w.putEntity(w.entity("gslb service", pos, nil, &s.Args, s.Pos, true))
	}
}

// serviceMonitorBindings writes the monitor and DNS view bindings of the
// services (they follow the monitors).
func (w *writer) serviceMonitorBindings(c *Config) {
	for _, s := range c.Services.All() {
		if w.raw(s, slotServiceBind) {
			continue
		}
		for _, m := range s.Monitors {
			w.bind("gslb service", s.Name, "monitorName", m.Monitor, m.Args, m.Pos)
		}
		for _, v := range s.Views {
			w.bindLine("gslb service", []string{s.Name}, []nsconf.Val{{Name: "viewName", Values: []string{v.View}, Extra: v.IP}}, v.Pos)
		}
	}
}
