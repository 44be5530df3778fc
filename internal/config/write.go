package config

import (
	"io"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/schema"
)

// Header is the first line of a written configuration.
const Header = "#gslbd ns.conf (NetScaler CLI syntax)"

type writer struct {
	w   io.Writer
	err error
}

func (w *writer) line(s string) {
	if w.err == nil {
		_, w.err = io.WriteString(w.w, s+"\n")
	}
}

// emit formats verb+group with positionals and the args the command
// accepts, in schema order, leaving out values equal to their default.
func (w *writer) emit(verb, group string, positional []string, args *Args, only ...string) {
	spec := schema.Lookup(verb, group)
	cmd := &nsconf.Cmd{Spec: spec}
	for _, p := range positional {
		cmd.Positional = append(cmd.Positional, nsconf.Val{Values: []string{p}})
	}
	n := 0
	if args != nil {
		for i := range spec.Opts {
			a := &spec.Opts[i]
			v, ok := args.Val(a.Name)
			if !ok || a.Kind == schema.Flag {
				continue
			}
			if len(only) > 0 && !contains(only, a.Name) {
				continue
			}
			if !a.Always && len(v.Values) == 1 && v.Values[0] == a.Default && v.Extra == "" {
				continue
			}
			cmd.Opts = append(cmd.Opts, nsconf.Val{Name: a.Name, Values: v.Values, Extra: v.Extra})
			n++
		}
		if spec.Loose && len(only) == 0 {
			cmd.Opts = append(cmd.Opts, args.Loose...)
		}
	}
	if verb == "set" && n == 0 {
		return
	}
	w.line(nsconf.Format(cmd))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Write emits the configuration as ns.conf in canonical order (docs §2.3):
// dependencies before their users, one entity kind after another, each in
// the order it was created. Commands gslbd does not model follow verbatim.
func Write(out io.Writer, c *Config) error {
	w := &writer{w: out}
	w.line(Header)
	if len(c.Features) > 0 {
		w.line("enable ns feature " + strings.Join(c.Features, " "))
	}
	w.emit("set", "gslb parameter", nil, &c.Parameter)
	w.servers(c)
	w.appServices(c)
	w.vservers(c)
	w.sites(c)
	w.serviceGroups(c)
	w.services(c)
	w.vserverBindings(c)
	w.dns(c)
	w.monitors(c)
	w.serviceMonitorBindings(c)
	w.serviceGroupMonitorBindings(c)
	if len(c.Verbatim) > 0 {
		w.line("# Not managed by gslbd, kept as written:")
		for _, v := range c.Verbatim {
			w.line(v.Raw)
		}
	}
	return w.err
}

// bind emits `bind <group> <owner> -<key> <value>` plus the binding's args.
func (w *writer) bind(group, owner, key, value string, args Args) {
	a := args.clone()
	a.SetValue(key, value, nsconf.Pos{})
	w.emit("bind", group, []string{owner}, &a)
}

func (w *writer) servers(c *Config) {
	for _, s := range c.Servers.All() {
		w.emit("add", "server", []string{s.Name, s.Addr}, &s.Args)
	}
}

func (w *writer) appServices(c *Config) {
	for _, s := range c.AppServices.All() {
		cmd := &nsconf.Cmd{Spec: schema.Lookup("add", "service")}
		for _, p := range []string{s.Name, s.Target, s.Type, strconv.Itoa(s.Port)} {
			cmd.Positional = append(cmd.Positional, nsconf.Val{Values: []string{p}})
		}
		for _, r := range s.Rest {
			cmd.Rest = append(cmd.Rest, nsconf.Token{Text: r})
		}
		for _, name := range []string{"state", "comment"} {
			if v, ok := s.Args.Val(name); ok && !(name == "state" && v.Value() == "ENABLED") {
				cmd.Opts = append(cmd.Opts, v)
			}
		}
		cmd.Opts = append(cmd.Opts, s.Args.Loose...)
		w.line(nsconf.Format(cmd))
	}
}

// vservers emits the add lines, then the set lines of what add does not
// take (-backupVServer), as the appliance saves them.
func (w *writer) vservers(c *Config) {
	setOnly := []string{"backupVServer"}
	for _, v := range c.VServers.All() {
		w.emit("add", "gslb vserver", []string{v.Name, v.Type}, &v.Args)
	}
	for _, v := range c.VServers.All() {
		w.emit("set", "gslb vserver", []string{v.Name}, &v.Args, setOnly...)
	}
}

func (w *writer) sites(c *Config) {
	for _, s := range sitesParentsFirst(c) {
		pos := []string{s.Name}
		if s.Type != "" {
			pos = append(pos, s.Type)
		}
		w.emit("add", "gslb site", append(pos, s.IP), &s.Args)
	}
}

func (w *writer) serviceGroups(c *Config) {
	for _, g := range c.ServiceGroups.All() {
		w.emit("add", "gslb serviceGroup", []string{g.Name, g.Type}, &g.Args)
		for _, m := range g.Members {
			w.emit("bind", "gslb serviceGroup", []string{g.Name, m.Target, strconv.Itoa(m.Port)}, &m.Args)
		}
	}
}

func (w *writer) services(c *Config) {
	for _, s := range c.Services.All() {
		pos := []string{s.Name}
		if s.Target != "" {
			pos = append(pos, s.Target, s.Type, strconv.Itoa(s.Port))
		}
		w.emit("add", "gslb service", pos, &s.Args)
	}
}

// vserverBindings emits the service and group bindings of every vserver,
// then the domain and policy bindings.
func (w *writer) vserverBindings(c *Config) {
	for _, v := range c.VServers.All() {
		for _, b := range v.Services {
			w.bind("gslb vserver", v.Name, "serviceName", b.Service, b.Args)
		}
		for _, b := range v.Groups {
			w.bind("gslb vserver", v.Name, "serviceGroupName", b.Group, b.Args)
		}
	}
	for _, v := range c.VServers.All() {
		for _, b := range v.Domains {
			w.bind("gslb vserver", v.Name, "domainName", b.Domain, b.Args)
		}
		for _, b := range v.Policies {
			w.bind("gslb vserver", v.Name, "policyName", b.Policy, b.Args)
		}
	}
}

// dns emits the zones, then the records kind by kind.
func (w *writer) dns(c *Config) {
	for _, z := range c.Zones.All() {
		w.emit("add", "dns zone", []string{z.Name}, &z.Args)
	}
	for _, kind := range []string{"soaRec", "nsRec", "addRec", "aaaaRec", "cnameRec", "mxRec", "txtRec", "srvRec", "ptrRec"} {
		for _, r := range c.Records {
			if r.Kind == kind {
				w.emit("add", "dns "+kind, append([]string{r.Name}, r.Data...), &r.Args)
			}
		}
	}
}

// monitors emits metric tables first (a LOAD monitor names its table),
// the monitors, then their metric bindings.
func (w *writer) monitors(c *Config) {
	for _, t := range c.MetricTables.All() {
		w.emit("add", "lb metricTable", []string{t.Name}, nil)
		for _, m := range t.Metrics {
			w.emit("bind", "lb metricTable", []string{t.Name, m.Metric, m.OID}, nil)
		}
	}
	for _, m := range c.Monitors.All() {
		verb := "add"
		if m.Builtin {
			verb = "set"
		}
		w.emit(verb, "lb monitor", []string{m.Name, m.Type}, &m.Args)
		if m.Args.Get("state") == "DISABLED" && m.Builtin {
			w.line("disable lb monitor " + nsconf.Quote(m.Name))
		}
	}
	for _, m := range c.Monitors.All() {
		for _, b := range m.Metrics {
			w.bind("lb monitor", m.Name, "metric", b.Metric, b.Args)
		}
	}
}

func (w *writer) serviceMonitorBindings(c *Config) {
	for _, s := range c.Services.All() {
		for _, m := range s.Monitors {
			w.bind("gslb service", s.Name, "monitorName", m.Monitor, m.Args)
		}
		for _, v := range s.Views {
			var args Args
			args.Set(nsconf.Val{Name: "viewName", Values: []string{v.View}, Extra: v.IP})
			w.emit("bind", "gslb service", []string{s.Name}, &args)
		}
	}
}

func (w *writer) serviceGroupMonitorBindings(c *Config) {
	for _, g := range c.ServiceGroups.All() {
		for _, m := range g.Monitors {
			w.bind("gslb serviceGroup", g.Name, "monitorName", m.Monitor, m.Args)
		}
	}
}

// sitesParentsFirst orders sites so that a parent precedes its children.
func sitesParentsFirst(c *Config) []*Site {
	var parents, children []*Site
	for _, s := range c.Sites.All() {
		if s.Args.Has("parentSite") {
			children = append(children, s)
		} else {
			parents = append(parents, s)
		}
	}
	return append(parents, children...)
}

// String renders the configuration as ns.conf text.
func (c *Config) String() string {
	var b strings.Builder
	_ = Write(&b, c)
	return b.String()
}
