package config

import (
	"io"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// Load parses ns.conf text, applies it to a new Config and checks it. The
// error, if any, is an nsconf.ErrorList with every problem of the source:
// what applied is checked even when lines failed, so that one run reports
// everything (a failed line may cause follow-up errors, as in a compiler).
// Warnings are the parser's and the checker's.
func Load(name string, r io.Reader) (*Config, *Snapshot, []*nsconf.Error, error) {
	return LoadAs(name, r, "")
}

// LoadAs is Load for the process that is site self (`gslbd run -site`):
// that site is the local one and every other site is remote, whatever
// their -type says, so that one file serves every site. "" is Load.
func LoadAs(name string, r io.Reader, self string) (*Config, *Snapshot, []*nsconf.Error, error) {
	f, perr := nsconf.Parse(name, r)
	var errs nsconf.ErrorList
	if l, ok := nsconf.AsList(perr); ok {
		errs = append(errs, l...)
	} else if perr != nil {
		return nil, nil, nil, perr
	}
	c := &Config{Self: self}
	errs = append(errs, c.ApplyDocument(name, f)...)
	for _, k := range lbKinds {
		f.NoteKept(k, lbKindsNote)
	}
	snap, err := Build(c)
	if l, ok := nsconf.AsList(err); ok {
		errs = append(errs, l...)
	} else if err != nil {
		return nil, nil, f.Warnings, err
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, nil, f.Warnings, errs
	}
	return c, snap, append(f.Warnings, snap.Warnings...), nil
}

// Change applies CLI commands to a copy of c and checks the whole result:
// it returns the copy and its snapshot, or the errors (an
// nsconf.ErrorList naming each bad line) with c untouched either way.
// The warnings are the change's own: the parser's, arguments accepted
// without effect, and the checker's that c's snapshot did not have.
func (c *Config) Change(name, text string) (*Config, *Snapshot, []*nsconf.Error, error) {
	f, err := nsconf.Parse(name, strings.NewReader(text))
	if err != nil {
		return nil, nil, nil, err
	}
	n := c.Clone()
	if errs := n.ApplyFile(f); len(errs) > 0 {
		return nil, nil, nil, errs
	}
	snap, err := Build(n)
	if err != nil {
		return nil, nil, nil, err
	}
	warnings := append(f.Warnings, NoEffectWarnings(f.Cmds)...)
	if c.snap != nil {
		warnings = append(warnings, newWarnings(c.snap.Warnings, snap.Warnings)...)
	}
	return n, snap, warnings, nil
}

// newWarnings returns the warnings of now that were not in before.
func newWarnings(before, now []*nsconf.Error) []*nsconf.Error {
	seen := make(map[string]bool, len(before))
	for _, w := range before {
		seen[w.Error()] = true
	}
	var out []*nsconf.Error
	for _, w := range now {
		if !seen[w.Error()] {
			out = append(out, w)
		}
	}
	return out
}
