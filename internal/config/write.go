package config

import (
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/schema"
)

// Header is the first line of a configuration gslbd writes from nothing
// (one loaded from a file keeps that file's header).
const Header = "#gslbd ns.conf (NetScaler CLI syntax)"

// writer collects the managed lines of a configuration in canonical order
// (docs §2.3: dependencies before their users, one entity kind after
// another, each in the order it was created), each with the place it
// takes in the output: its line in the Document, or, for a new line, right
// after the last Document line that comes before it in canonical order.
// Write then merges them with the Document's kept lines by place.
type writer struct {
	doc *Document // nil: canonical form only
	out []wline
	// maxKey is the largest Document line among the managed lines
	// collected so far; anchor is where the last new line went.
	maxKey, anchor int
}

// wline is one managed line and its place: key is its Document line, or
// for a new line the Document line it follows (end: after everything).
type wline struct {
	text string
	key  int
	new  bool
}

const end = math.MaxInt

// key returns the Document line of pos, or 0 when pos is not in it.
func (w *writer) key(pos nsconf.Pos) int {
	if w.doc.inDoc(pos) {
		return pos.Line
	}
	return 0
}

// add appends a managed line placed at Document line k (0: new). A line
// that says what the Document line there said is written as it was read.
func (w *writer) add(text string, k int) {
	if k > 0 {
		if l := w.doc.line(k); l != nil && l.canon == text {
			text = l.text
		}
		w.maxKey = max(w.maxKey, k)
		w.out = append(w.out, wline{text: text, key: k})
		return
	}
	// A new line goes after every Document line before it in canonical
	// order, so after whatever it depends on; and never before an earlier
	// new line, which it may depend on. With nothing before it, at the end.
	at := w.maxKey
	if at == 0 {
		at = end
	}
	w.anchor = max(w.anchor, at)
	w.out = append(w.out, wline{text: text, key: w.anchor, new: true})
}

// raw writes the Document lines of an entity unchanged since the load that
// belong to this pass, and reports whether the entity was one.
func (w *writer) raw(e any, s slot) bool {
	if w.doc == nil {
		return false
	}
	idx, ok := w.doc.owned[e]
	if !ok {
		return false
	}
	for _, i := range idx {
		if l := &w.doc.all[i]; l.slot == s {
			w.add(l.text, l.no)
		}
	}
	return true
}

// accepts reports whether verb takes the argument v (a Loose command takes
// any unknown one).
func accepts(verb, group string, v nsconf.Val) bool {
	spec := schema.Lookup(verb, group)
	if spec == nil {
		return false
	}
	return spec.Opt(v.Name) != nil || spec.Loose && known(group, v.Name) == nil
}

// refers reports whether the named argument v names another entity.
func refers(group string, v nsconf.Val) bool {
	a := known(group, v.Name)
	return a != nil && a.Kind == schema.Name
}

// known returns the schema argument of a group's commands named name, or
// nil for an unknown option (kept by a Loose command).
func known(group, name string) *schema.Arg {
	for _, verb := range []string{"add", "set", "bind"} {
		if spec := schema.Lookup(verb, group); spec != nil {
			if a := spec.Opt(name); a != nil {
				return a
			}
		}
	}
	return nil
}

// format renders verb+group with positionals, then vals in schema order
// (unknown ones of Loose commands after), and returns the line and how
// many arguments it has. A value equal to its default is left out when
// omit says so for its name (nil: every value is written).
func format(verb, group string, positional []string, rest []string, vals []nsconf.Val, omit func(string) bool) (string, int) {
	spec := schema.Lookup(verb, group)
	if spec == nil {
		return "", 0
	}
	cmd := &nsconf.Cmd{Spec: spec}
	for _, p := range positional {
		cmd.Positional = append(cmd.Positional, nsconf.Val{Values: []string{p}})
	}
	for _, r := range rest {
		cmd.Rest = append(cmd.Rest, nsconf.Token{Text: r})
	}
	n := 0
	for i := range spec.Opts {
		a := &spec.Opts[i]
		j := slices.IndexFunc(vals, func(v nsconf.Val) bool { return v.Name == a.Name })
		if j < 0 {
			continue
		}
		v := vals[j]
		if a.Kind != schema.Flag && omit != nil && omit(a.Name) && !a.Always && len(v.Values) == 1 && v.Values[0] == a.Default && v.Extra == "" {
			continue
		}
		cmd.Opts = append(cmd.Opts, nsconf.Val{Name: a.Name, Values: v.Values, Extra: v.Extra})
		n++
	}
	if spec.Loose {
		for _, v := range vals {
			if spec.Opt(v.Name) == nil && known(group, v.Name) == nil {
				cmd.Opts = append(cmd.Opts, v)
				n++
			}
		}
	}
	return nsconf.Format(cmd), n
}

// omitAll leaves out every default (a new add line).
func omitAll(string) bool { return true }

// omitUnless leaves out defaults except the arguments the Document line
// gave (which it wrote, defaults included).
func omitUnless(l *docLine) func(string) bool {
	if l == nil {
		return omitAll
	}
	return func(name string) bool {
		return !slices.ContainsFunc(l.vals, func(v nsconf.Val) bool { return strings.EqualFold(v.Name, name) })
	}
}

// entity returns an entity's lines when it changed or is new. A changed
// entity is written line by line from the Document: its add line and set
// lines each with the arguments they gave that still hold (so a line
// nothing changed on is written as it was read), an argument set by a
// line that is not written again (enable, disable) on the add line or a
// set line in its place, and what changed since the load on one new set
// line (on the add line for what set does not take). A new entity's
// arguments go on its add line, but those named in setOnly (which name
// another entity of the same kind) and those add does not take go on a set
// line. hasAdd is false for a built-in the configuration only sets. The
// add line comes first; callers add the set lines after every add line of
// the kind.
func (w *writer) entity(group string, positional, rest []string, args *Args, at nsconf.Pos, hasAdd bool, setOnly ...string) (add *wline, sets []wline) {
	addKey := w.key(at)
	// The entity's add and set lines in the Document.
	var docLines []*docLine
	if addKey != 0 {
		for _, i := range w.doc.lines[addKey] {
			if l := &w.doc.all[i]; l.slot == slotMain && (l.verb == "add" || l.verb == "set") {
				docLines = append(docLines, l)
			}
		}
	}
	onLine := map[int][]nsconf.Val{}
	var addVals, newVals []nsconf.Val
	for _, v := range slices.Concat(args.vals, args.Loose) {
		k := w.key(v.Pos)
		if k == 0 {
			// A new value: on the add line, as the appliance writes it,
			// unless it names another entity (which may be new, so after
			// everything) or add does not take it.
			switch {
			case !hasAdd:
				newVals = append(newVals, v)
			case addKey == 0 && accepts("add", group, v) && !slices.Contains(setOnly, v.Name):
				addVals = append(addVals, v)
			case addKey != 0 && accepts("add", group, v) && !(refers(group, v) && accepts("set", group, v)):
				addVals = append(addVals, v)
			case accepts("set", group, v):
				newVals = append(newVals, v)
			default:
				addVals = append(addVals, v)
			}
			continue
		}
		placed := false
		for _, l := range docLines {
			if l.no == k || slices.ContainsFunc(l.vals, func(m nsconf.Val) bool {
				return strings.EqualFold(m.Name, v.Name) && slices.Equal(m.Values, v.Values) && m.Extra == v.Extra
			}) {
				onLine[l.no] = append(onLine[l.no], v)
				placed = true
			}
		}
		switch {
		case placed:
		case hasAdd && (addKey == 0 || accepts("add", group, v)):
			addVals = append(addVals, v) // from enable/disable: on the add line
		default:
			onLine[k] = append(onLine[k], v)
		}
	}
	setPos := positional
	if spec := schema.Lookup("set", group); spec != nil {
		setPos = positional[:min(len(positional), len(spec.Pos))]
	}
	if hasAdd {
		var l *docLine
		if addKey != 0 {
			l = w.doc.line(addKey)
		}
		text, _ := format("add", group, positional, rest, slices.Concat(onLine[addKey], addVals), omitUnless(l))
		add = &wline{text: text, key: addKey}
		delete(onLine, addKey)
	}
	for _, k := range slices.Sorted(maps.Keys(onLine)) {
		if text, n := format("set", group, setPos, nil, onLine[k], nil); n > 0 {
			sets = append(sets, wline{text: text, key: k})
		}
	}
	if text, n := format("set", group, setPos, nil, newVals, nil); n > 0 {
		sets = append(sets, wline{text: text})
	}
	return add, sets
}

// put adds lines collected by entity (key 0: new).
func (w *writer) put(ls ...wline) {
	for _, l := range ls {
		w.add(l.text, l.key)
	}
}

// putEntity adds an entity's add line and then its set lines.
func (w *writer) putEntity(add *wline, sets []wline) {
	if add != nil {
		w.put(*add)
	}
	w.put(sets...)
}

// bind writes `bind <group> <owner> -<key> <value>` and the binding's
// arguments at the binding's place.
func (w *writer) bind(group, owner, key, value string, args Args, at nsconf.Pos) {
	vals := slices.Clone(args.vals)
	vals = append(vals, nsconf.Val{Name: key, Values: []string{value}})
	w.bindLine(group, []string{owner}, vals, at)
}

// bindLine writes a bind line at its place (a new one with its defaults
// left out).
func (w *writer) bindLine(group string, positional []string, vals []nsconf.Val, at nsconf.Pos) {
	k := w.key(at)
	text, _ := format("bind", group, positional, nil, vals, omitUnless(w.doc.line(k)))
	w.add(text, k)
}

// Write emits the configuration as ns.conf. A configuration loaded from
// a file is written as that file with what changed (see Document); one
// made from nothing in canonical order. Unmanaged commands applied by a
// change (not from the file) follow at the end, as written.
func Write(out io.Writer, c *Config) error { return write(out, c, c.doc) }

// WriteCanonical emits the configuration in canonical order, ignoring the
// file it came from (gslbd fmt -canonical, diff ns config): unmanaged
// commands and comments of the file are left out.
func WriteCanonical(out io.Writer, c *Config) error { return write(out, c, nil) }

func write(out io.Writer, c *Config, doc *Document) error {
	w := &writer{doc: doc}
	if doc == nil {
		w.add(Header, 0)
	}
	w.features(c)
	w.nsIPs(c)
	w.parameter(c)
	w.locationSettings(c)
	w.servers(c)
	w.appServices(c)
	w.vservers(c)
	w.sites(c)
	w.serviceGroups(c)
	w.services(c)
	w.vserverBindings(c)
	w.dnsPolicies(c)
	w.dnsParameter(c) // before the records, as the appliance saves it
	w.dns(c)
	w.customLocations(c)
	w.monitors(c)
	w.serviceMonitorBindings(c)
	w.serviceGroupMonitorBindings(c)
	w.webhooks(c)
	for _, v := range c.Verbatim {
		w.out = append(w.out, wline{text: v.Raw, key: end, new: true})
	}
	var lines []wline
	if doc != nil {
		lines = make([]wline, 0, len(doc.all)+len(w.out))
		for _, l := range doc.all {
			if l.kept {
				lines = append(lines, wline{text: l.text, key: l.no})
			}
		}
	}
	lines = append(lines, w.out...)
	// By place; at one place the Document's own line first, then the new
	// lines in canonical order.
	slices.SortStableFunc(lines, func(a, b wline) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		switch {
		case a.new == b.new:
			return 0
		case b.new:
			return -1
		}
		return 1
	})
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// features writes enable ns feature.
func (w *writer) features(c *Config) {
	if w.doc != nil && slices.Equal(c.Features, w.doc.features) && w.raw(featuresKey, slotMain) {
		return
	}
	if len(c.Features) == 0 {
		return
	}
	k := 0
	if w.doc != nil {
		for _, i := range w.doc.owned[featuresKey] {
			k = w.doc.all[i].no
			break
		}
	}
	quoted := make([]string, len(c.Features))
	for i, f := range c.Features {
		quoted[i] = nsconf.Quote(f) // as read: a name the lexer took from quotes goes back in them
	}
	w.add("enable ns feature "+strings.Join(quoted, " "), k)
}

// String renders the configuration as ns.conf text (Write).
func (c *Config) String() string {
	var b strings.Builder
	_ = Write(&b, c)
	return b.String()
}

// Canonical renders the configuration in canonical form (WriteCanonical):
// what it means, without the file's comments and unmanaged commands.
func (c *Config) Canonical() string {
	var b strings.Builder
	_ = WriteCanonical(&b, c)
	return b.String()
}
