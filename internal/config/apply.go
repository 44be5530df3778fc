package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Apply runs one parsed command against the model. Errors name the subject
// first and carry the command's position. A failed command changes nothing.
func (c *Config) Apply(cmd *nsconf.Cmd) *nsconf.Error {
	if cmd.Spec == nil {
		c.Verbatim = append(c.Verbatim, cmd)
		return nil
	}
	a := applier{c: c, cmd: cmd}
	if err := a.run(); err != nil {
		return err
	}
	return nil
}

// ApplyFile applies every command of a parsed file, collecting all errors.
func (c *Config) ApplyFile(f *nsconf.File) nsconf.ErrorList {
	var errs nsconf.ErrorList
	for _, cmd := range f.Cmds {
		if err := c.Apply(cmd); err != nil {
			errs = append(errs, err)
		}
	}
	c.Verbatim = append(c.Verbatim, f.Skipped...)
	return errs
}

type applier struct {
	c   *Config
	cmd *nsconf.Cmd
}

func (a *applier) errf(code nserr.Code, format string, args ...any) *nsconf.Error {
	return &nsconf.Error{Pos: a.cmd.Pos, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func (a *applier) pos(name string) string { return a.cmd.Get(name) }

// optArgs returns the named arguments of the command as Args.
func (a *applier) optArgs() Args {
	var args Args
	for _, v := range a.cmd.Opts {
		if v.Arg == nil {
			args.Loose = append(args.Loose, v)
			continue
		}
		args.Set(v)
	}
	return args
}

// merge sets every named argument of the command on args (set verbs).
func (a *applier) merge(args *Args, skip ...string) {
	for _, v := range a.cmd.Opts {
		if slices.Contains(skip, v.Name) {
			continue
		}
		if v.Arg == nil {
			args.Loose = append(args.Loose, v)
			continue
		}
		args.Set(v)
	}
}

// unset removes every named argument of the command from args.
func (a *applier) unset(args *Args) {
	for _, v := range a.cmd.Opts {
		args.Unset(v.Name)
		if v.Name == "cip" {
			args.Unset("cipHeader")
		}
	}
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (a *applier) run() *nsconf.Error {
	cmd := a.cmd
	switch cmd.Kind {
	case "enable ns feature", "disable ns feature":
		a.feature()
	case "add ns ip", "add ns ip6":
		a.nsIP()
	case "set gslb parameter", "unset gslb parameter":
		a.gslbParameter()
	case "add server", "rm server":
		return a.server()
	case "add service":
		return a.addAppService()
	case "set service", "rm service", "enable service", "disable service":
		return a.appService()
	case "add gslb site":
		return a.addSite()
	case "set gslb site", "unset gslb site", "rm gslb site", "rename gslb site":
		return a.site()
	case "add gslb service":
		return a.addService()
	case "set gslb service", "unset gslb service", "rm gslb service", "rename gslb service",
		"enable gslb service", "disable gslb service", "bind gslb service", "unbind gslb service":
		return a.service()
	case "add gslb serviceGroup":
		return a.addServiceGroup()
	case "set gslb serviceGroup", "unset gslb serviceGroup", "rm gslb serviceGroup", "rename gslb serviceGroup",
		"enable gslb serviceGroup", "disable gslb serviceGroup", "bind gslb serviceGroup", "unbind gslb serviceGroup":
		return a.serviceGroup()
	case "add gslb vserver":
		return a.addVServer()
	case "set gslb vserver", "unset gslb vserver", "rm gslb vserver", "rename gslb vserver",
		"enable gslb vserver", "disable gslb vserver", "bind gslb vserver", "unbind gslb vserver":
		return a.vserver()
	case "add lb monitor", "set lb monitor", "unset lb monitor", "rm lb monitor", "enable lb monitor",
		"disable lb monitor", "bind lb monitor", "unbind lb monitor":
		return a.monitorCmd()
	case "add lb metricTable", "rm lb metricTable", "bind lb metricTable", "set lb metricTable", "unbind lb metricTable":
		return a.metricTableCmd()
	case "add dns zone", "set dns zone", "rm dns zone":
		return a.zone()
	default:
		if strings.HasPrefix(cmd.Spec.Group, "dns ") {
			return a.record()
		}
		return a.errf(nserr.NoSuchCmd, "%s: not supported", cmd.Kind)
	}
	return nil
}

// feature applies enable/disable ns feature.
func (a *applier) feature() {
	c, cmd := a.c, a.cmd
	if cmd.Spec.Verb == "enable" {
		for _, f := range cmd.Arg("feature").Values {
			f = strings.ToUpper(f)
			if !slices.Contains(c.Features, f) {
				c.Features = append(c.Features, f)
			}
		}
		return
	}
	for _, f := range cmd.Arg("feature").Values {
		c.Features = slices.DeleteFunc(c.Features, func(x string) bool { return strings.EqualFold(x, f) })
	}
}

// nsIP keeps add ns ip / ip6 verbatim and notes its address (it marks the
// local site).
func (a *applier) nsIP() {
	c, cmd := a.c, a.cmd
	ip := cmd.Positional[0].Value()
	if i := strings.IndexByte(ip, '/'); i >= 0 {
		ip = ip[:i]
	}
	c.NSIPs = append(c.NSIPs, ip)
	c.Verbatim = append(c.Verbatim, cmd)
}

// gslbParameter applies set/unset gslb parameter.
func (a *applier) gslbParameter() {
	if a.cmd.Spec.Verb == "set" {
		a.merge(&a.c.Parameter)
	} else {
		a.unset(&a.c.Parameter)
	}
}

// server applies add/rm server.
func (a *applier) server() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if cmd.Spec.Verb == "add" {
		if _, ok := c.Servers.Get(name); ok {
			return a.errf(nserr.Exist, "server %q: already exists", name)
		}
		c.Servers.Put(name, &Server{Name: name, Addr: a.pos("IPAddress"), Args: a.optArgs(), Pos: cmd.Pos})
		return nil
	}
	if _, ok := c.Servers.Get(name); !ok {
		return a.errf(nserr.NoEnt, "server %q: no such server", name)
	}
	c.Servers.Delete(name)
	return nil
}

// addAppService applies add service (ADNS listeners; other types kept).
func (a *applier) addAppService() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if _, ok := c.AppServices.Get(name); ok {
		return a.errf(nserr.Exist, "service %q: already exists", name)
	}
	s := &AppService{Name: name, Target: a.pos("IP"), Type: a.pos("serviceType"), Port: atoi(a.pos("port")),
		Args: a.optArgs(), Pos: cmd.Pos}
	for _, t := range cmd.Rest {
		s.Rest = append(s.Rest, t.Text)
	}
	c.AppServices.Put(name, s)
	return nil
}

// appService applies set/rm/enable/disable service.
func (a *applier) appService() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	s, ok := c.AppServices.Edit(name)
	if !ok {
		return a.errf(nserr.NoEnt, "service %q: no such service", name)
	}
	switch cmd.Spec.Verb {
	case "rm":
		c.AppServices.Delete(name)
	case "set":
		a.merge(&s.Args)
	case "enable":
		s.Args.Unset("state")
	case "disable":
		s.Args.SetValue("state", "DISABLED", cmd.Pos)
	}
	return nil
}

// site applies set/unset/rm/rename gslb site.
func (a *applier) site() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("siteName")
	s, ok := c.Sites.Edit(name)
	if !ok {
		return a.errf(nserr.SiteNotFound, "gslb site %q: no such site", name)
	}
	switch cmd.Spec.Verb {
	case "set":
		a.merge(&s.Args)
	case "unset":
		a.unset(&s.Args)
	case "rm":
		for _, svc := range c.Services.All() {
			if strings.EqualFold(svc.Args.Get("siteName"), name) {
				return a.errf(nserr.Inval, "gslb site %q: gslb service %q still belongs to it", name, svc.Name)
			}
		}
		c.Sites.Delete(name)
	case "rename":
		nn := a.pos("newName")
		if _, ok := c.Sites.Get(nn); ok && !strings.EqualFold(nn, name) {
			return a.errf(nserr.Exist, "gslb site %q: already exists", nn)
		}
		c.renameSite(s, nn)
	}
	return nil
}

// addServiceGroup applies add gslb serviceGroup.
func (a *applier) addServiceGroup() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceGroupName")
	if _, ok := c.ServiceGroups.Get(name); ok {
		return a.errf(nserr.Exist, "gslb serviceGroup %q: already exists", name)
	}
	c.ServiceGroups.Put(name, &ServiceGroup{Name: name, Type: a.pos("serviceType"), Args: a.optArgs(), Pos: cmd.Pos})
	return nil
}

// addVServer applies add gslb vserver.
func (a *applier) addVServer() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if _, ok := c.VServers.Get(name); ok {
		return a.errf(nserr.Exist, "gslb vserver %q: already exists", name)
	}
	c.VServers.Put(name, &VServer{Name: name, Type: a.pos("serviceType"), Args: a.optArgs(), Pos: cmd.Pos})
	return nil
}

// zone applies add/set/rm dns zone.
func (a *applier) zone() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("zoneName")
	switch cmd.Spec.Verb {
	case "add":
		if _, ok := c.Zones.Get(name); ok {
			return a.errf(nserr.ZoneExists, "dns zone %q: already configured", name)
		}
		c.Zones.Put(name, &Zone{Name: name, Args: a.optArgs(), Pos: cmd.Pos})
	case "set":
		z, ok := c.Zones.Edit(name)
		if !ok {
			return a.errf(nserr.NoEnt, "dns zone %q: no such zone", name)
		}
		a.merge(&z.Args)
	case "rm":
		if _, ok := c.Zones.Get(name); !ok {
			return a.errf(nserr.NoEnt, "dns zone %q: no such zone", name)
		}
		c.Zones.Delete(name)
	}
	return nil
}

func (a *applier) addSite() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("siteName")
	if _, ok := c.Sites.Get(name); ok {
		return a.errf(nserr.Exist, "gslb site %q: already exists", name)
	}
	s := &Site{Name: name, Type: a.pos("siteType"), IP: a.pos("siteIPAddress"), Args: a.optArgs(), Pos: cmd.Pos}
	if s.Args.Has("parentSite") && s.Args.Has("backupParentlist") {
		return a.errf(nserr.ArgsMutex, "gslb site %q: -parentSite and -backupParentlist are mutually exclusive on add", name)
	}
	c.Sites.Put(name, s)
	return nil
}

func (c *Config) renameSite(s *Site, nn string) {
	old := s.Name
	c.Sites.Rename(old, nn, s)
	s.Name = nn
	for _, svc := range c.Services.All() {
		if strings.EqualFold(svc.Args.Get("siteName"), old) {
			svc, _ = c.Services.Edit(svc.Name)
			renameArg(&svc.Args, "siteName", nn)
		}
	}
	for _, g := range c.ServiceGroups.All() {
		if strings.EqualFold(g.Args.Get("siteName"), old) {
			g, _ = c.ServiceGroups.Edit(g.Name)
			renameArg(&g.Args, "siteName", nn)
		}
	}
	for _, o := range c.Sites.All() {
		if strings.EqualFold(o.Args.Get("parentSite"), old) {
			o, _ = c.Sites.Edit(o.Name)
			renameArg(&o.Args, "parentSite", nn)
		}
		if v, ok := o.Args.Val("backupParentlist"); ok && slices.ContainsFunc(v.Values, func(p string) bool { return strings.EqualFold(p, old) }) {
			v.Values = slices.Clone(v.Values)
			for i, p := range v.Values {
				if strings.EqualFold(p, old) {
					v.Values[i] = nn
				}
			}
			o, _ = c.Sites.Edit(o.Name)
			o.Args.Set(v)
		}
	}
}

func renameArg(args *Args, name, value string) {
	v, _ := args.Val(name)
	v.Values = []string{value}
	args.Set(v)
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
	return nil
}

func (a *applier) service() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceName")
	s, ok := c.Services.Edit(name)
	if !ok {
		return a.errf(nserr.NoService, "gslb service %q: no such service", name)
	}
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

func (a *applier) serviceGroup() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("serviceGroupName")
	g, ok := c.ServiceGroups.Edit(name)
	if !ok {
		return a.errf(nserr.NoEnt, "gslb serviceGroup %q: no such service group", name)
	}
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

func (a *applier) vserver() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	v, ok := c.VServers.Edit(name)
	if !ok {
		return a.errf(nserr.NoVServer, "gslb vserver %q: no such vserver", name)
	}
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

// record applies add/set/unset/rm dns <kind>Rec.
func (a *applier) record() *nsconf.Error {
	c, cmd := a.c, a.cmd
	kind := strings.TrimPrefix(cmd.Spec.Group, "dns ")
	name := cmd.Positional[0].Value()
	var data []string
	for _, p := range cmd.Positional[1:] {
		data = append(data, p.Values...)
	}
	label := "dns " + kind + " " + strconv.Quote(name)
	switch cmd.Spec.Verb {
	case "add":
		r := &Record{Kind: kind, Name: name, Data: data, Args: a.optArgs(), Pos: cmd.Pos}
		for _, o := range c.Records {
			if o.Kind == kind && o.Name == name && sameData(kind, o, r) {
				return a.errf(nserr.Exist, "%s: already exists", label)
			}
		}
		switch kind {
		case "soaRec":
			if !r.Args.Has("originServer") || !r.Args.Has("contact") {
				return a.errf(nserr.ArgMissing, "%s: -originServer and -contact are required", label)
			}
		case "mxRec":
			if !r.Args.Has("mx") || !r.Args.Has("pref") {
				return a.errf(nserr.ArgMissing, "%s: -mx and -pref are required", label)
			}
		case "srvRec":
			for _, k := range []string{"priority", "weight", "port"} {
				if !r.Args.Has(k) {
					return a.errf(nserr.ArgMissing, "%s: -%s is required", label, k)
				}
			}
		}
		c.Records = append(c.Records, r)
	case "set", "unset":
		i := slices.IndexFunc(c.Records, func(o *Record) bool {
			return o.Kind == kind && o.Name == name && (kind != "mxRec" || o.Args.Get("mx") == cmd.Get("mx"))
		})
		if i < 0 {
			return a.errf(nserr.NoEnt, "%s: no such record", label)
		}
		target := c.Records[i].clone() // records are shared with the parent config
		c.Records[i] = target
		if cmd.Spec.Verb == "set" {
			a.merge(&target.Args)
		} else {
			a.unset(&target.Args)
		}
	case "rm":
		// Records are shared with the parent config: build a new slice and
		// never change a record in place.
		touched := false
		kept := make([]*Record, 0, len(c.Records))
		for _, o := range c.Records {
			if o.Kind != kind || o.Name != name {
				kept = append(kept, o)
				continue
			}
			switch kind {
			case "mxRec", "srvRec", "nsRec":
				match := len(data) == 0 || (kind == "mxRec" && o.Args.Get("mx") == data[0]) ||
					(kind != "mxRec" && len(o.Data) > 0 && o.Data[0] == data[0])
				touched = touched || match
				if !match {
					kept = append(kept, o)
				}
			case "addRec", "aaaaRec", "txtRec", "ptrRec":
				left := o.Data[:0:0]
				if len(data) > 0 {
					left = slices.DeleteFunc(slices.Clone(o.Data), func(d string) bool { return slices.Contains(data, d) })
				}
				switch {
				case len(left) == len(o.Data):
					kept = append(kept, o)
				case len(left) > 0:
					x := o.clone()
					x.Data = left
					kept = append(kept, x)
					touched = true
				default:
					touched = true
				}
			default:
				touched = true
			}
		}
		c.Records = kept
		if !touched {
			return a.errf(nserr.NoEnt, "%s: no such record", label)
		}
	}
	return nil
}

func sameData(kind string, a, b *Record) bool {
	switch kind {
	case "soaRec", "cnameRec":
		return true
	case "mxRec":
		return a.Args.Get("mx") == b.Args.Get("mx")
	}
	return slices.Equal(a.Data, b.Data)
}
