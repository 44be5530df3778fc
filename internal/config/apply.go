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
	// doc: the command is a line of the Document being loaded. The
	// applier then says which entity the line is of (owner), or that the
	// line is kept as written (kept: add ns ip).
	doc   bool
	owner any
	kept  bool
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

// merge sets every named argument of the command on args (set verbs). A
// value set again to what it is keeps the place it was first given
// (saved files repeat an add line's values on the set line after it).
func (a *applier) merge(args *Args, skip ...string) {
	for _, v := range a.cmd.Opts {
		if slices.Contains(skip, v.Name) {
			continue
		}
		if v.Arg == nil {
			args.setLoose(v)
			continue
		}
		if old, ok := args.Val(v.Name); ok && slices.Equal(old.Values, v.Values) && old.Extra == v.Extra {
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
	case "add gslb webhook", "set gslb webhook", "unset gslb webhook", "rm gslb webhook":
		return a.webhook()
	case "add dns view", "rm dns view":
		return a.dnsView()
	case "add dns action", "set dns action", "rm dns action":
		return a.dnsAction()
	case "add dns policy", "set dns policy", "unset dns policy", "rm dns policy":
		return a.dnsPolicy()
	case "bind dns global", "unbind dns global":
		return a.dnsGlobal()
	case "add location", "rm location":
		return a.location()
	case "set locationParameter", "unset locationParameter":
		a.locationParameter()
	case "set dns parameter", "unset dns parameter":
		a.dnsParameter()
	case "add locationFile", "rm locationFile", "add locationFile6", "rm locationFile6":
		return a.locationFile()
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

func renameArg(args *Args, name, value string) {
	v, _ := args.Val(name)
	v.Values = []string{value}
	args.Set(v)
}
