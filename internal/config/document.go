package config

// This file holds the Document: the text a configuration was loaded from,
// kept so that writing the configuration back changes only what changed.

import (
	"slices"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// Document is the file a configuration was loaded from. Build never reads
// it; Write uses it to write the file back as the appliance would read it
// (an appliance that loads what gslbd saved reads the same configuration):
//
//   - comments, blank lines and the commands gslbd does not manage (lb, cs,
//     ssl, system... and add ns ip) stay where they were, as they were;
//   - an entity unchanged since the load is written with its own lines as
//     they were read, in their places (the appliance's spelling and
//     defaults included);
//   - a changed entity is written in canonical form at the places of the
//     lines it came from, what changed on a set line after them;
//   - a new entity is written in canonical order after every line it may
//     depend on.
//
// A Document is never changed after Load: clones share it.
type Document struct {
	File string
	all  []docLine
	// owned lists, per entity (the pointer a Table or Records held when the
	// load ended), the indices of the lines written for it while it is
	// unchanged. An entity changed as a side effect of another entity's
	// line (rm gslb service unbinds it from vservers) is not listed: its
	// own lines no longer say what it is, so it is written in canonical
	// form.
	owned map[any][]int32
	// lines lists, per entity, the indices of every line of it, keyed by
	// what stays the same when it changes: its add line's number (a
	// built-in's first line), or a docKey. A changed entity is written
	// from them line by line.
	lines map[any][]int32
	// features and param are what enable ns feature and set gslb parameter
	// had set when the load ended (they are not table entities).
	features []string
	param    []nsconf.Val
	// locParam and locFiles: set locationParameter and add
	// locationFile / locationFile6 when the load ended.
	locParam []nsconf.Val
	// dnsParam and dnsParamLoose: set dns parameter's modelled and kept
	// options as read.
	dnsParam, dnsParamLoose []nsconf.Val
	locFiles                [2]LocationFile
}

// docLine is one line of the source.
type docLine struct {
	no   int
	text string
	kept bool // a comment, a blank line or an unmanaged command: always written
	slot slot // which pass of the writer writes it (managed lines)
	// Managed lines: the verb, the named arguments the line gave, and the
	// line in canonical form. A line written again in that same form is
	// written as it was read.
	verb  string
	vals  []nsconf.Val
	canon string
}

// slot is the writer pass a managed line belongs to, so that an unchanged
// entity's lines take their part in the canonical order.
type slot uint8

const (
	slotMain         slot = iota // add, set, unset, enable, disable, rename, rm
	slotVSBind                   // bind gslb vserver -serviceName / -serviceGroupName
	slotVSDomain                 // bind gslb vserver -domainName / -policyName
	slotServiceBind              // bind gslb service -monitorName / -viewName, bind lb monitor m svc
	slotGroupMonitor             // bind gslb serviceGroup -monitorName
	slotMetricBind               // bind lb monitor -metric
)

func slotOf(cmd *nsconf.Cmd) slot {
	if cmd.Spec == nil || (cmd.Spec.Verb != "bind" && cmd.Spec.Verb != "unbind") {
		return slotMain
	}
	switch cmd.Spec.Group {
	case "gslb vserver":
		if cmd.Has("domainName") || cmd.Has("policyName") {
			return slotVSDomain
		}
		return slotVSBind
	case "gslb service":
		return slotServiceBind
	case "gslb serviceGroup":
		if cmd.Has("monitorName") {
			return slotGroupMonitor
		}
	case "lb monitor":
		if cmd.Get("serviceName") != "" {
			return slotServiceBind
		}
		return slotMetricBind
	}
	return slotMain
}

// keys of Document.owned for what is not a table entity.
type docKey uint8

const (
	featuresKey docKey = iota + 1
	paramKey
	locParamKey
	dnsParamKey
	locFileKey
	locFile6Key
)

// recorder collects the entities a command touched (Table hooks).
type recorder struct{ touched []any }

func (r *recorder) note(v any) {
	if r != nil {
		r.touched = append(r.touched, v)
	}
}

// setRecorder hooks r into every table (nil unhooks).
func (c *Config) setRecorder(r *recorder) {
	c.Servers.rec, c.AppServices.rec, c.Sites.rec, c.Services.rec = r, r, r, r
	c.ServiceGroups.rec, c.VServers.rec, c.Zones.rec, c.Monitors.rec, c.MetricTables.rec = r, r, r, r, r
	c.Locations.rec, c.DNSViews.rec, c.DNSActions.rec, c.DNSPolicies.rec, c.DNSGlobal.rec = r, r, r, r, r
	c.Webhooks.rec = r
}

// release gives up ownership of every entity, so that any later change
// copies what it edits (as after Clone) and the document's owners stay
// unchanged.
func (c *Config) release() {
	c.Servers.own, c.AppServices.own, c.Sites.own, c.Services.own = nil, nil, nil, nil
	c.ServiceGroups.own, c.VServers.own, c.Zones.own, c.Monitors.own, c.MetricTables.own = nil, nil, nil, nil, nil
	c.Locations.own, c.DNSViews.own, c.DNSActions.own, c.DNSPolicies.own, c.DNSGlobal.own = nil, nil, nil, nil, nil
	c.Webhooks.own = nil
	c.ownRecords = nil
}

// ApplyDocument applies a whole file as the configuration's source: like
// ApplyFile, and it keeps the file as c's Document for Write. c must be
// new (nothing applied before).
func (c *Config) ApplyDocument(name string, f *nsconf.File) nsconf.ErrorList {
	d := &Document{File: name, owned: map[any][]int32{}, lines: map[any][]int32{}}
	// Every line of the file in order: commands (managed or not) and
	// comments.
	type entry struct {
		no      int
		text    string
		cmd     *nsconf.Cmd
		skipped bool
	}
	entries := make([]entry, 0, len(f.Cmds)+len(f.Skipped)+len(f.Comments))
	for _, cmd := range f.Cmds {
		entries = append(entries, entry{no: cmd.Pos.Line, text: cmd.Raw, cmd: cmd})
	}
	for _, cmd := range f.Skipped {
		entries = append(entries, entry{no: cmd.Pos.Line, text: cmd.Raw, skipped: true})
	}
	for _, l := range f.Comments {
		entries = append(entries, entry{no: l.No, text: l.Text, skipped: true})
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.no - b.no })
	var errs nsconf.ErrorList
	rec := &recorder{}
	c.setRecorder(rec)
	dirty := map[any]bool{}
	d.all = make([]docLine, 0, len(entries))
	for _, e := range entries {
		line := docLine{no: e.no, text: e.text, kept: e.skipped}
		if e.cmd == nil {
			d.all = append(d.all, line)
			continue
		}
		rec.touched = rec.touched[:0]
		a := applier{c: c, cmd: e.cmd, doc: true}
		if err := a.run(); err != nil {
			errs = append(errs, err)
		}
		line.slot = slotOf(e.cmd)
		switch {
		case a.kept:
			line.kept = true
		case a.owner != nil:
			i := int32(len(d.all))
			d.owned[a.owner] = append(d.owned[a.owner], i)
			if id := docID(a.owner); id != nil {
				d.lines[id] = append(d.lines[id], i)
			}
			for _, t := range rec.touched {
				if t != a.owner {
					dirty[t] = true
				}
			}
			line.verb, line.vals, line.canon = e.cmd.Spec.Verb, e.cmd.Opts, canonLine(e.cmd)
		}
		d.all = append(d.all, line)
	}
	c.setRecorder(nil)
	for t := range dirty {
		delete(d.owned, t)
	}
	d.features = slices.Clone(c.Features)
	d.param = slices.Clone(c.Parameter.vals)
	d.locParam = slices.Clone(c.LocationParam.vals)
	d.dnsParam, d.dnsParamLoose = slices.Clone(c.DNSParam.vals), slices.Clone(c.DNSParam.Loose)
	d.locFiles = [2]LocationFile{c.LocationFile.clone(), c.LocationFile6.clone()}
	c.doc = d
	c.release()
	return errs
}

// docID is what identifies an entity across its changes: the line of the
// Document it was added on (its Pos), or a docKey.
func docID(e any) any {
	var pos nsconf.Pos
	switch x := e.(type) {
	case docKey:
		return x
	case *Server:
		pos = x.Pos
	case *AppService:
		pos = x.Pos
	case *Site:
		pos = x.Pos
	case *Service:
		pos = x.Pos
	case *ServiceGroup:
		pos = x.Pos
	case *VServer:
		pos = x.Pos
	case *Zone:
		pos = x.Pos
	case *Record:
		pos = x.Pos
	case *Monitor:
		pos = x.Pos
	case *MetricTable:
		pos = x.Pos
	case *CustomLocation:
		pos = x.Pos
	case *DNSView:
		pos = x.Pos
	case *DNSAction:
		pos = x.Pos
	case *DNSPolicy:
		pos = x.Pos
	case *DNSGlobalBinding:
		pos = x.Pos
	case *Webhook:
		pos = x.Pos
	}
	if pos.Line == 0 {
		return nil
	}
	return pos.Line
}

// canonLine is a command's line in the form the writer gives it, every
// argument given written (defaults included).
func canonLine(cmd *nsconf.Cmd) string {
	var pos, rest []string
	for _, v := range cmd.Positional {
		pos = append(pos, v.Values...)
	}
	for _, t := range cmd.Rest {
		rest = append(rest, t.Text)
	}
	text, _ := format(cmd.Spec.Verb, cmd.Spec.Group, pos, rest, cmd.Opts, nil)
	return text
}

// line returns the managed Document line numbered no, or nil.
func (d *Document) line(no int) *docLine {
	if d == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(d.all, no, func(l docLine, no int) int { return l.no - no })
	if !ok || d.all[i].kept || d.all[i].verb == "" {
		return nil
	}
	return &d.all[i]
}

// Document returns the file c was loaded from (nil when it was not).
func (c *Config) Document() *Document { return c.doc }

// inDoc reports whether pos is a line of the document.
func (d *Document) inDoc(pos nsconf.Pos) bool {
	return d != nil && pos.Line > 0 && pos.File == d.File
}
