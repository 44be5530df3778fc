package nitro

import (
	"slices"
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

// value renders a CLI value as the appliance does: ports and the other
// integers the NITRO reference types <Integer> as JSON numbers, every
// other integer (<Double>: weights, TTLs, timeouts) as a string of digits,
// which is what clients read (the Terraform provider converts them with
// strconv.Atoi, and crashes on a number).
func value(a *schema.Arg, s string) any {
	if a.Kind == schema.Port || a.Kind == schema.Int && a.Number {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	if a.Kind == schema.String && a.Number {
		// A decimal (location -longitude): a whole number as an integer,
		// as the appliance sends it.
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return s
}

// putArgs adds an entity's arguments under their NITRO names.
func putArgs(o obj, group string, args *config.Args, verbs ...string) {
	for _, v := range args.All() {
		a := schemaArg(group, v.Name, verbs...)
		if a == nil || len(v.Values) == 0 || a.Secret {
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

// putDefaults fills the arguments of verb that o lacks with their
// defaults, as the appliance shows a setting never given (clients that
// compare what they sent with what they read see no drift): an entity's
// add arguments, a singleton's set arguments, a binding's bind arguments
// (with skip the ones of other bindings of the same command).
func putDefaults(o obj, group, verb string, skip ...string) {
	c := schema.Lookup(verb, group)
	if c == nil {
		return
	}
	for i := range c.Opts {
		a := &c.Opts[i]
		if a.Default == "" || slices.Contains(skip, a.Name) {
			continue
		}
		if _, ok := o[a.NITRO]; !ok {
			o[a.NITRO] = value(a, a.Default)
		}
	}
}

func listSites(c *config.Config, key string) (out []obj) {
	each(&c.Sites, key, func(s *config.Site) {
		o := obj{"sitename": s.Name, "siteipaddress": s.IP}
		if s.Type != "" {
			o["sitetype"] = s.Type
		}
		o = row(o, "gslb site", &s.Args, "add", "set")
		putDefaults(o, "gslb site", "add")
		out = append(out, o)
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
		o = row(o, "gslb service", &s.Args, "add", "set")
		putDefaults(o, "gslb service", "add")
		out = append(out, o)
	})
	return out
}

func listVServers(c *config.Config, key string) (out []obj) {
	each(&c.VServers, key, func(v *config.VServer) {
		o := row(obj{"name": v.Name, "servicetype": v.Type}, "gslb vserver", &v.Args, "add", "set")
		putDefaults(o, "gslb vserver", "add")
		out = append(out, o)
	})
	return out
}

func listMonitors(c *config.Config, key string) (out []obj) {
	each(&c.Monitors, key, func(m *config.Monitor) {
		o := row(obj{"monitorname": m.Name, "type": m.Type}, "lb monitor", &m.Args, "add", "set")
		putDefaults(o, "lb monitor", "add")
		if _, ok := o["interval"]; ok {
			for _, u := range []string{"units1", "units2", "units3", "units4"} {
				if _, ok := o[u]; !ok {
					o[u] = "SEC"
				}
			}
		}
		out = append(out, o)
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
		o := row(obj{"name": v.Name, "servicename": b.Service}, "gslb vserver", &b.Args, "bind")
		putDefaults(o, "gslb vserver", "bind", "sitedomainTTL")
		out = append(out, o)
	}
	return out
}

func domainBindings(v *config.VServer) (out []obj) {
	for _, b := range v.Domains {
		o := row(obj{"name": v.Name, "domainname": strings.TrimSuffix(b.Domain, ".")}, "gslb vserver", &b.Args, "bind")
		if _, ok := o["ttl"]; !ok {
			o["ttl"] = "5" // the GSLB domain TTL when none is given
		}
		putDefaults(o, "gslb vserver", "bind", "weight")
		// The Terraform provider reads cookiedomain (not NITRO's
		// cookie_domain) back: both, so that it sees what it set.
		if cd, ok := o["cookie_domain"]; ok {
			o["cookiedomain"] = cd
		}
		out = append(out, o)
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
		o := row(obj{"servicegroupname": g.Name, "servicetype": g.Type}, "gslb serviceGroup", &g.Args, "add", "set")
		putDefaults(o, "gslb serviceGroup", "add")
		out = append(out, o)
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
			o := row(obj{"servicename": s.Name, "monitor_name": m.Monitor}, "gslb service", &m.Args, "bind")
			putDefaults(o, "gslb service", "bind")
			return o
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
			o := row(obj{"monitorname": m.Name, "metric": b.Metric}, "lb monitor", &b.Args, "bind")
			putDefaults(o, "lb monitor", "bind", "monState", "weight")
			return o
		})
}

func listMembers(c *config.Config, key string) []obj {
	return bindingsOf(&c.ServiceGroups, key, func(g *config.ServiceGroup) []*config.Member { return g.Members },
		func(g *config.ServiceGroup, mp **config.Member) obj {
			m := *mp
			o := row(obj{"servicegroupname": g.Name, "ip": m.Target, "servername": m.Target, "port": int64(m.Port)},
				"gslb serviceGroup", &m.Args, "bind")
			putDefaults(o, "gslb serviceGroup", "bind", "monState")
			return o
		})
}

func listGroupMonitors(c *config.Config, key string) []obj {
	return bindingsOf(&c.ServiceGroups, key, func(g *config.ServiceGroup) []config.MonitorBinding { return g.Monitors },
		func(g *config.ServiceGroup, m *config.MonitorBinding) obj {
			o := row(obj{"servicegroupname": g.Name, "monitor_name": m.Monitor}, "gslb serviceGroup", &m.Args, "bind")
			if _, ok := o["monstate"]; !ok {
				o["monstate"] = "ENABLED"
			}
			if _, ok := o["weight"]; !ok {
				o["weight"] = "1"
			}
			return o
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
// in order. A list NITRO has as one value per object (dnsaddrec's
// ipaddress, dnsaaaarec's ipv6address, dnsptrrec's domain: one POST per
// address) gives one object per value; dnstxtrec's String stays a list.
func listRecords(c *config.Config, kind, key string) (out []obj) {
	cmd := schema.Lookup("add", "dns "+kind)
	if cmd == nil || len(cmd.Pos) == 0 {
		return nil
	}
	perValue := kind == "addRec" || kind == "aaaaRec" || kind == "ptrRec"
	for _, r := range c.Records {
		owner := strings.TrimSuffix(r.Name, ".")
		if r.Kind != kind || !named(key, owner) {
			continue
		}
		if perValue && len(cmd.Pos) == 2 {
			for _, d := range r.Data {
				o := row(obj{cmd.Pos[0].NITRO: owner, cmd.Pos[1].NITRO: d}, "dns "+kind, &r.Args, "add", "set")
				putDefaults(o, "dns "+kind, "add")
				out = append(out, o)
			}
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
		o = row(o, "dns "+kind, &r.Args, "add", "set")
		putDefaults(o, "dns "+kind, "add")
		out = append(out, o)
	}
	return out
}
