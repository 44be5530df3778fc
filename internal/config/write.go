package config

import (
	"io"
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

// String renders the configuration as ns.conf text.
func (c *Config) String() string {
	var b strings.Builder
	_ = Write(&b, c)
	return b.String()
}
