package nitro

import (
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/schema"
)

// schemaArg finds the argument named name among the options of the verbs
// of group.
func schemaArg(group, name string, verbs ...string) *schema.Arg {
	for _, v := range verbs {
		if c := schema.Lookup(v, group); c != nil {
			if a := c.Opt(name); a != nil {
				return a
			}
		}
	}
	return nil
}

// value renders a CLI value as NITRO does: numbers as JSON numbers.
func value(a *schema.Arg, s string) any {
	if a.Kind == schema.Int || a.Kind == schema.Port {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// putArgs adds an entity's arguments under their NITRO names.
func putArgs(o obj, group string, args *config.Args, verbs ...string) {
	for _, v := range args.All() {
		a := schemaArg(group, v.Name, verbs...)
		if a == nil || len(v.Values) == 0 {
			continue
		}
		switch {
		case a.List:
			o[a.NITRO] = append([]string(nil), v.Values...)
		case a.Kind == schema.Flag:
			o[a.NITRO] = true
		default:
			o[a.NITRO] = value(a, v.Values[0])
			if a.Extra != nil && len(v.Values) > 1 {
				o[a.Extra.NITRO] = value(a.Extra, v.Values[1])
			}
		}
	}
}

// named reports whether name is the one asked for ("" asks for all).
func named(key, name string) bool { return key == "" || strings.EqualFold(key, name) }

// row is one listed object: its fixed fields, then an entity's arguments
// under their NITRO names.
func row(fixed obj, group string, args *config.Args, verbs ...string) obj {
	putArgs(fixed, group, args, verbs...)
	return fixed
}

// each calls f for the entity named key (a table lookup), or for every
// entity in order when key is "".
func each[T config.Entity[T]](t *config.Table[T], key string, f func(T)) {
	if key == "" {
		for _, v := range t.All() {
			f(v)
		}
		return
	}
	if v, ok := t.Get(key); ok {
		f(v)
	}
}

// putDefaults fills the named arguments missing from o with the schema's
// defaults (what NetScaler shows for a setting never given).
func putDefaults(o obj, group string, names ...string) {
	for _, n := range names {
		if a := schemaArg(group, n, "add", "set"); a != nil {
			if _, ok := o[a.NITRO]; !ok {
				o[a.NITRO] = value(a, a.Default)
			}
		}
	}
}

func listSites(c *config.Config, key string) (out []obj) {
	each(&c.Sites, key, func(s *config.Site) {
		o := obj{"sitename": s.Name, "siteipaddress": s.IP}
		if s.Type != "" {
			o["sitetype"] = s.Type
		}
		out = append(out, row(o, "gslb site", &s.Args, "add", "set"))
	})
	return out
}

func listServices(c *config.Config, key string) (out []obj) {
	each(&c.Services, key, func(s *config.Service) {
		o := obj{"servicename": s.Name}
		if s.Target != "" {
			o["ip"] = s.Target
			o["ipaddress"] = s.Target
		}
		if s.Type != "" {
			o["servicetype"] = s.Type
		}
		if s.Port != 0 {
			o["port"] = s.Port
		}
		out = append(out, row(o, "gslb service", &s.Args, "add", "set"))
	})
	return out
}

func listVServers(c *config.Config, key string) (out []obj) {
	each(&c.VServers, key, func(v *config.VServer) {
		o := row(obj{"name": v.Name, "servicetype": v.Type}, "gslb vserver", &v.Args, "add", "set")
		putDefaults(o, "gslb vserver", "state", "lbMethod")
		out = append(out, o)
	})
	return out
}

func listMonitors(c *config.Config, key string) (out []obj) {
	each(&c.Monitors, key, func(m *config.Monitor) {
		out = append(out, row(obj{"monitorname": m.Name, "type": m.Type}, "lb monitor", &m.Args, "add", "set"))
	})
	return out
}

// vserverBindings lists one binding kind of the vserver named key (or of
// every vserver).
func vserverBindings(c *config.Config, key string, kind func(*config.VServer) []obj) (out []obj) {
	each(&c.VServers, key, func(v *config.VServer) { out = append(out, kind(v)...) })
	return out
}

func serviceBindings(v *config.VServer) (out []obj) {
	for _, b := range v.Services {
		out = append(out, row(obj{"name": v.Name, "servicename": b.Service, "weight": int64(1)}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func domainBindings(v *config.VServer) (out []obj) {
	for _, b := range v.Domains {
		out = append(out, row(obj{"name": v.Name, "domainname": strings.TrimSuffix(b.Domain, ".")}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func groupBindings(v *config.VServer) (out []obj) {
	for _, b := range v.Groups {
		out = append(out, row(obj{"name": v.Name, "servicegroupname": b.Group}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func listServiceGroups(c *config.Config, key string) (out []obj) {
	each(&c.ServiceGroups, key, func(g *config.ServiceGroup) {
		out = append(out, row(obj{"servicegroupname": g.Name, "servicetype": g.Type}, "gslb serviceGroup", &g.Args, "add", "set"))
	})
	return out
}

// bindingsOf lists one object per binding of the entities named key (or
// of all): of returns an entity's bindings, mk renders one.
func bindingsOf[E config.Entity[E], B any](t *config.Table[E], key string, of func(E) []B, mk func(E, *B) obj) (out []obj) {
	each(t, key, func(e E) {
		bs := of(e)
		for i := range bs {
			out = append(out, mk(e, &bs[i]))
		}
	})
	return out
}

func listMonitorBindings(c *config.Config, key string) []obj {
	return bindingsOf(&c.Services, key, func(s *config.Service) []config.MonitorBinding { return s.Monitors },
		func(s *config.Service, m *config.MonitorBinding) obj {
			return row(obj{"servicename": s.Name, "monitor_name": m.Monitor}, "gslb service", &m.Args, "bind")
		})
}

func listViewBindings(c *config.Config, key string) []obj {
	return bindingsOf(&c.Services, key, func(s *config.Service) []config.ViewBinding { return s.Views },
		func(s *config.Service, v *config.ViewBinding) obj {
			return obj{"servicename": s.Name, "viewname": v.View, "viewip": v.IP}
		})
}

func listMetricBindings(c *config.Config, key string) []obj {
	return bindingsOf(&c.Monitors, key, func(m *config.Monitor) []config.MetricBinding { return m.Metrics },
		func(m *config.Monitor, b *config.MetricBinding) obj {
			return row(obj{"monitorname": m.Name, "metric": b.Metric}, "lb monitor", &b.Args, "bind")
		})
}

func listMembers(c *config.Config, key string) []obj {
	return bindingsOf(&c.ServiceGroups, key, func(g *config.ServiceGroup) []*config.Member { return g.Members },
		func(g *config.ServiceGroup, mp **config.Member) obj {
			m := *mp
			return row(obj{"servicegroupname": g.Name, "ip": m.Target, "servername": m.Target, "port": int64(m.Port)},
				"gslb serviceGroup", &m.Args, "bind")
		})
}

func listGroupMonitors(c *config.Config, key string) []obj {
	return bindingsOf(&c.ServiceGroups, key, func(g *config.ServiceGroup) []config.MonitorBinding { return g.Monitors },
		func(g *config.ServiceGroup, m *config.MonitorBinding) obj {
			return row(obj{"servicegroupname": g.Name, "monitor_name": m.Monitor}, "gslb serviceGroup", &m.Args, "bind")
		})
}

func listAppServices(c *config.Config, key string) (out []obj) {
	each(&c.AppServices, key, func(s *config.AppService) {
		out = append(out, row(obj{"name": s.Name, "ip": s.Target, "servicetype": s.Type, "port": int64(s.Port)}, "service", &s.Args, "add", "set"))
	})
	return out
}

// listRecords lists `add dns <kind>` records (of the owner key, or all):
// the owner under the first positional's name, the further positionals
// in order.
func listRecords(c *config.Config, kind, key string) (out []obj) {
	cmd := schema.Lookup("add", "dns "+kind)
	if cmd == nil || len(cmd.Pos) == 0 {
		return nil
	}
	for _, r := range c.Records {
		owner := strings.TrimSuffix(r.Name, ".")
		if r.Kind != kind || !named(key, owner) {
			continue
		}
		o := obj{cmd.Pos[0].NITRO: owner}
		for i, p := range cmd.Pos[1:] {
			switch {
			case p.List:
				o[p.NITRO] = append([]string(nil), r.Data[min(i, len(r.Data)):]...)
			case i < len(r.Data):
				o[p.NITRO] = value(&p, r.Data[i])
			}
		}
		out = append(out, row(o, "dns "+kind, &r.Args, "add", "set"))
	}
	return out
}
