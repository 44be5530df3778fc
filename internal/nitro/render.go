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

// row is one listed object: its fixed fields, then an entity's arguments
// under their NITRO names.
func row(fixed obj, group string, args *config.Args, verbs ...string) obj {
	putArgs(fixed, group, args, verbs...)
	return fixed
}

func listSites(c *config.Config) []obj {
	var out []obj
	for _, s := range c.Sites.All() {
		o := obj{"sitename": s.Name, "siteipaddress": s.IP}
		if s.Type != "" {
			o["sitetype"] = s.Type
		}
		putArgs(o, "gslb site", &s.Args, "add", "set")
		out = append(out, o)
	}
	return out
}

func listServices(c *config.Config) []obj {
	var out []obj
	for _, s := range c.Services.All() {
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
		putArgs(o, "gslb service", &s.Args, "add", "set")
		out = append(out, o)
	}
	return out
}

func listVServers(c *config.Config) []obj {
	var out []obj
	for _, v := range c.VServers.All() {
		o := obj{"name": v.Name, "servicetype": v.Type}
		putArgs(o, "gslb vserver", &v.Args, "add", "set")
		if _, ok := o["state"]; !ok {
			o["state"] = "ENABLED"
		}
		if _, ok := o["lbmethod"]; !ok {
			o["lbmethod"] = "LEASTCONNECTION"
		}
		out = append(out, o)
	}
	return out
}

func listMonitors(c *config.Config) []obj {
	var out []obj
	for _, m := range c.Monitors.All() {
		out = append(out, row(obj{"monitorname": m.Name, "type": m.Type}, "lb monitor", &m.Args, "add", "set"))
	}
	return out
}

// vserverBindings lists one binding kind of every vserver.
func vserverBindings(c *config.Config, kind func(*config.VServer) []obj) []obj {
	var out []obj
	for _, v := range c.VServers.All() {
		out = append(out, kind(v)...)
	}
	return out
}

func serviceBindings(v *config.VServer) []obj {
	var out []obj
	for _, b := range v.Services {
		out = append(out, row(obj{"name": v.Name, "servicename": b.Service, "weight": int64(1)}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func domainBindings(v *config.VServer) []obj {
	var out []obj
	for _, b := range v.Domains {
		out = append(out, row(obj{"name": v.Name, "domainname": strings.TrimSuffix(b.Domain, ".")}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func listMonitorBindings(c *config.Config) []obj {
	var out []obj
	for _, s := range c.Services.All() {
		for _, m := range s.Monitors {
			out = append(out, row(obj{"servicename": s.Name, "monitor_name": m.Monitor}, "gslb service", &m.Args, "bind"))
		}
	}
	return out
}

func listServiceGroups(c *config.Config) []obj {
	var out []obj
	for _, g := range c.ServiceGroups.All() {
		out = append(out, row(obj{"servicegroupname": g.Name, "servicetype": g.Type}, "gslb serviceGroup", &g.Args, "add", "set"))
	}
	return out
}

func listMembers(c *config.Config) []obj {
	var out []obj
	for _, g := range c.ServiceGroups.All() {
		for _, m := range g.Members {
			out = append(out, row(obj{"servicegroupname": g.Name, "ip": m.Target, "servername": m.Target, "port": int64(m.Port)},
				"gslb serviceGroup", &m.Args, "bind"))
		}
	}
	return out
}

func listGroupMonitors(c *config.Config) []obj {
	var out []obj
	for _, g := range c.ServiceGroups.All() {
		for _, m := range g.Monitors {
			out = append(out, row(obj{"servicegroupname": g.Name, "monitor_name": m.Monitor}, "gslb serviceGroup", &m.Args, "bind"))
		}
	}
	return out
}

func groupBindings(v *config.VServer) []obj {
	var out []obj
	for _, b := range v.Groups {
		out = append(out, row(obj{"name": v.Name, "servicegroupname": b.Group}, "gslb vserver", &b.Args, "bind"))
	}
	return out
}

func listAppServices(c *config.Config) []obj {
	var out []obj
	for _, s := range c.AppServices.All() {
		out = append(out, row(obj{"name": s.Name, "ip": s.Target, "servicetype": s.Type, "port": int64(s.Port)}, "service", &s.Args, "add", "set"))
	}
	return out
}

// listRecords lists `add dns <kind>` records: the owner under the first
// positional's name, the further positionals in order.
func listRecords(c *config.Config, kind string) []obj {
	cmd := schema.Lookup("add", "dns "+kind)
	var out []obj
	for _, r := range c.Records {
		if r.Kind != kind || cmd == nil || len(cmd.Pos) == 0 {
			continue
		}
		o := obj{cmd.Pos[0].NITRO: strings.TrimSuffix(r.Name, ".")}
		for i, p := range cmd.Pos[1:] {
			switch {
			case p.List:
				o[p.NITRO] = append([]string(nil), r.Data[min(i, len(r.Data)):]...)
			case i < len(r.Data):
				o[p.NITRO] = value(&p, r.Data[i])
			}
		}
		putArgs(o, "dns "+kind, &r.Args, "add", "set")
		out = append(out, o)
	}
	return out
}
