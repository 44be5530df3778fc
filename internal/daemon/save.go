package daemon

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/atomicfile"
	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nsconf"
)

// Config returns the running configuration (read-only).
func (d *Daemon) Config() *config.Config { return d.Current().Config }

// DefaultSaveVersions is how many previous saved files are kept beside the
// configuration (ns.conf.1 newest ... ns.conf.5) when Options.SaveVersions
// is zero.
const DefaultSaveVersions = 5

// Change applies CLI commands to a copy of the running configuration. When
// every line applies and the whole result checks, it replaces the running
// configuration at once (answers, monitors, listeners); otherwise nothing
// changes and the error is an nsconf.ErrorList naming each bad line.
// Changes are not saved until Save. The warnings are the change's own
// (config.Config.Change); they are logged as well.
func (d *Daemon) Change(by events.Origin, text string) ([]*nsconf.Error, error) {
	name := by.Via
	start := time.Now()
	d.change.Lock()
	defer func() {
		d.change.Unlock()
		d.changeTimes.add(time.Since(start))
	}()
	c, snap, warnings, err := d.Current().Config.Change(name, text)
	if err == nil {
		err = d.apply(&Loaded{Config: c, Snapshot: snap, Warnings: snap.Warnings})
	}
	d.results.add(name, err)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		d.log.Warn("configuration warning", "where", w.Pos.String(), "msg", w.Msg)
	}
	shown := redacted(name, text)
	d.log.Info("configuration changed", "source", name, "user", by.User, "client", by.Client, "commands", shown)
	d.events.Add(events.Event{Kind: events.Config, Name: "change", Source: name, User: by.User, Client: by.Client, Agent: by.Agent, Detail: shown})
	return warnings, nil
}

// redacted is a change's commands as the event stream shows them:
// secrets (-sitePassword, monitor -password ...) masked, and commands
// gslbd keeps verbatim named only (they may hold anything).
func redacted(name, text string) string {
	f, _ := nsconf.Parse(name, strings.NewReader(text))
	if f == nil {
		return ""
	}
	var b strings.Builder
	const most = 50 // a bulk change is named, not copied
	for n, c := range f.Cmds {
		if n == most {
			fmt.Fprintf(&b, "... (%d more commands)\n", len(f.Cmds)-most)
			break
		}
		for i := range c.Opts {
			if c.Opts[i].Arg != nil && c.Opts[i].Arg.Secret {
				c.Opts[i].Values, c.Opts[i].Extra = []string{"********"}, ""
			}
		}
		b.WriteString(nsconf.Format(c))
		b.WriteByte('\n')
	}
	for _, c := range f.Skipped {
		b.WriteString(c.Kind + " ... (kept verbatim, not shown)\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Clear removes the GSLB configuration, as `clear ns config basic`: sites,
// services, service groups, vservers, monitors, metric tables, DNS zones
// and records, and the gslb parameter. The ADNS listeners, servers,
// features and commands gslbd keeps verbatim stay. Not saved until Save.
func (d *Daemon) Clear() error {
	d.change.Lock()
	defer d.change.Unlock()
	cur := d.Current().Config
	c := &config.Config{Features: slices.Clone(cur.Features), NSIPs: slices.Clone(cur.NSIPs),
		Servers: cur.Servers.Clone(), AppServices: cur.AppServices.Clone(), Verbatim: slices.Clone(cur.Verbatim)}
	snap, err := config.Build(c)
	if err != nil {
		return err
	}
	d.log.Warn("configuration cleared (clear ns config)")
	d.events.Add(events.Event{Kind: events.Config, Name: "clear", Source: "clear ns config basic"})
	return d.apply(&Loaded{Config: c, Snapshot: snap, Warnings: snap.Warnings})
}

// savedText is what Save writes for c: the configuration as Write gives
// it, with the appliance's "# Last modified" comment after the first
// line's header (#NS13.1 Build ... or gslbd's) brought up to date.
func savedText(c *config.Config, now time.Time) []byte {
	stamp := "# Last modified by `save config`, " + now.UTC().Format(time.ANSIC)
	lines := strings.SplitAfter(c.String(), "\n")
	for i := 0; i < len(lines) && i < 3; i++ {
		if strings.HasPrefix(lines[i], "# Last modified") {
			lines[i] = stamp + "\n"
			return []byte(strings.Join(lines, ""))
		}
	}
	at := 0
	if len(lines) > 0 && (strings.HasPrefix(lines[0], "#NS") || strings.HasPrefix(lines[0], config.Header)) {
		at = 1
	}
	lines = slices.Insert(lines, at, stamp+"\n")
	return []byte(strings.Join(lines, ""))
}

// Save writes the running configuration to the configuration file (as
// `save ns config`): atomically, keeping the previous versions. On error
// (a full disk, a read-only directory) the file is as it was.
func (d *Daemon) Save() error {
	d.change.Lock()
	defer d.change.Unlock()
	if d.opts.ConfigPath == "" || d.opts.ConfigText != nil {
		return errors.New("save: this configuration has no file (built-in demo)")
	}
	perm := os.FileMode(0o600)
	if fi, err := os.Stat(d.opts.ConfigPath); err == nil {
		perm = fi.Mode().Perm()
	}
	keep := d.opts.SaveVersions
	if keep == 0 {
		keep = DefaultSaveVersions
	}
	if err := atomicfile.Write(d.opts.ConfigPath, savedText(d.Current().Config, time.Now()), perm, max(keep, 0)); err != nil {
		return err
	}
	d.log.Info("configuration saved", "file", d.opts.ConfigPath)
	return nil
}

// Diff compares the running configuration with the saved file (as `diff
// ns config`): the commands only in the saved file, then those only in
// the running configuration, each in canonical form.
func (d *Daemon) Diff() (savedOnly, runningOnly []string, err error) {
	if d.opts.ConfigPath == "" || d.opts.ConfigText != nil {
		return nil, nil, errors.New("diff: this configuration has no file (built-in demo)")
	}
	saved, err := LoadFileAs(d.opts.ConfigPath, d.opts.Site)
	if err != nil {
		return nil, nil, fmt.Errorf("diff: reading the saved configuration: %w", err)
	}
	a, b := commands(saved.Config), commands(d.Current().Config) // canonical: what each means
	for _, l := range a {
		if !slices.Contains(b, l) {
			savedOnly = append(savedOnly, l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			runningOnly = append(runningOnly, l)
		}
	}
	return savedOnly, runningOnly, nil
}

// commands are the canonical command lines of a configuration.
func commands(c *config.Config) []string {
	var out []string
	for _, l := range strings.Split(c.Canonical(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
