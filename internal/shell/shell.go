package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/schema"
)

// Shell runs CLI commands against a NITRO server.
type Shell struct {
	Client *nitro.Client
	Out    io.Writer
}

// words splits a command line as the CLI does (quotes, escapes).
func words(line string) ([]string, error) {
	toks, err := nsconf.Lex(line, 1, "")
	if err != nil {
		return nil, fmt.Errorf("ERROR: %s", err.Msg)
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out, nil
}

// preferred are the abbreviations the appliance's CLI resolves although
// other verbs share the prefix ("sh" is show, not shutdown).
var preferred = map[string]string{"sh": "show", "sho": "show", "st": "stat", "sta": "stat", "s": "set", "se": "set", "un": "unbind", "en": "enable", "di": "disable", "re": "rename"}

// verb resolves an abbreviated verb ("sh" for show) as the CLI does.
func verb(w string) (string, error) {
	if v, ok := preferred[strings.ToLower(w)]; ok {
		return v, nil
	}
	var hits []string
	for _, v := range schema.Verbs {
		if v == strings.ToLower(w) {
			return v, nil
		}
		if strings.HasPrefix(v, strings.ToLower(w)) {
			hits = append(hits, v)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return "", fmt.Errorf("ERROR: No such command [%s]", w)
	}
	return "", fmt.Errorf("ERROR: Ambiguous command name [%s: %s]", w, strings.Join(hits, ", "))
}

// readResources are what `show` and `stat` know beyond the CLI groups.
var readResources = map[string]string{
	"ns runningconfig":   "gslbrunningconfig",
	"gslb runningconfig": "gslbrunningconfig",
	"gslb domain":        "gslbdomain",
	"ns version":         "nsversion",
	"ns feature":         "nsfeature",
	"system user":        "systemuser",
	"gslb ldnsentries":   "gslbldnsentries",
}

// Run executes one command line.
func (s *Shell) Run(ctx context.Context, line string) error {
	ws, err := words(line)
	if err != nil || len(ws) == 0 {
		return err
	}
	v, err := verb(ws[0])
	if err != nil {
		return err
	}
	rest := ws[1:]
	group := ""
	if len(rest) >= 2 {
		group = strings.ToLower(rest[0] + " " + rest[1])
	}
	switch v {
	case "show", "stat":
		return s.show(ctx, v, group, rest)
	case "explain":
		return s.explain(ctx, rest)
	case "save":
		if group != "ns config" {
			return fmt.Errorf("ERROR: usage: save ns config")
		}
		_, err := s.Client.Do(ctx, "POST", "config/nsconfig?action=save", map[string]any{"nsconfig": map[string]any{}})
		return s.done(err)
	case "clear", "flush":
		// clear gslb ldnsentries (the reference's); flush, as some of
		// NetScaler's documentation and scripts spell it.
		if group == "gslb ldnsentries" {
			_, err := s.Client.Do(ctx, "POST", "config/gslbldnsentries?action=clear", map[string]any{"gslbldnsentries": map[string]any{}})
			return s.done(err)
		}
		if group != "ns config" || len(rest) < 3 || !strings.EqualFold(rest[2], "basic") {
			return fmt.Errorf("ERROR: usage: clear ns config basic")
		}
		_, err := s.Client.Do(ctx, "POST", "config/nsconfig?action=clear", map[string]any{"nsconfig": map[string]any{"level": "basic"}})
		return s.done(err)
	case "diff":
		if group != "ns config" {
			return fmt.Errorf("ERROR: usage: diff ns config")
		}
		r, err := s.Client.Do(ctx, "POST", "config/nsconfig?action=diff", map[string]any{"nsconfig": map[string]any{}})
		if err != nil {
			return err
		}
		for _, o := range r.Objects("nsconfig") {
			fmt.Fprint(s.Out, o["response"])
		}
		return s.done(nil)
	case "rm":
		if group == "gslb ldnsentry" {
			if len(rest) != 3 {
				return fmt.Errorf("ERROR: usage: rm gslb ldnsentry <IPAddress>")
			}
			_, err := s.Client.Do(ctx, "DELETE", nitro.Path("config", "gslbldnsentry", rest[2], nil), nil)
			return s.done(err)
		}
	}
	c, err := nsconf.ParseLine(line)
	if err != nil {
		if l, ok := nsconf.AsList(err); ok && len(l) > 0 {
			return fmt.Errorf("ERROR: %s", l[0].Msg)
		}
		var e *nsconf.Error
		if errors.As(err, &e) {
			return fmt.Errorf("ERROR: %s", e.Msg)
		}
		return err
	}
	if c == nil {
		return nil
	}
	req, err := translate(c)
	if err != nil {
		return err
	}
	// Ask for warnings, and print them before Done as the appliance does.
	sep := "?"
	if strings.Contains(req.path, "?") {
		sep = "&"
	}
	_, err = s.Client.Do(ctx, req.method, req.path+sep+"warning=yes", req.body)
	if err == nil {
		for _, w := range s.Client.Warnings {
			if _, text, ok := strings.Cut(w, " - "); ok {
				w = text // "<code> - <text>": the appliance's CLI shows the text
			}
			fmt.Fprintln(s.Out, "Warning: "+w)
		}
	}
	return s.done(err)
}

// explain is gslbd's `explain <domain> [-client IP] [-ecs PREFIX] [-type
// T]`: why that client would get its answer (NITRO gslbexplain).
func (s *Shell) explain(ctx context.Context, rest []string) error {
	usage := fmt.Errorf("ERROR: usage: explain <domain> [-client IP] [-ecs PREFIX] [-type A]")
	if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		return usage
	}
	q := url.Values{"domain": {rest[0]}}
	for i := 1; i < len(rest); i += 2 {
		k := strings.ToLower(strings.TrimPrefix(rest[i], "-"))
		if i+1 >= len(rest) || (k != "client" && k != "ecs" && k != "type") {
			return usage
		}
		q.Set(k, rest[i+1])
	}
	r, err := s.Client.Do(ctx, "GET", "stat/gslbexplain?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	tr, _ := r["gslbexplain"].(map[string]any)
	str := func(k string) string { v, _ := tr[k].(string); return v }
	fmt.Fprintf(s.Out, "\t%s %s from %s", str("domain"), str("type"), str("resolver"))
	if e := str("ecs"); e != "" {
		fmt.Fprintf(s.Out, " (ECS %s)", e)
	}
	fmt.Fprintln(s.Out)
	if v := str("vserver"); v != "" {
		fmt.Fprintf(s.Out, "\tvserver: %s (answering from %s)", v, or(str("serving"), "none"))
		if m := str("method"); m != "" {
			fmt.Fprintf(s.Out, ", method %s", m)
		}
		fmt.Fprintln(s.Out)
	}
	if f := str("fallback"); f != "" {
		fmt.Fprintf(s.Out, "\tfallback: %s\n", f)
	}
	if cs, _ := tr["candidates"].([]any); len(cs) > 0 {
		fmt.Fprintln(s.Out, "\tcandidates:")
		for _, c := range cs {
			m, _ := c.(map[string]any)
			fmt.Fprintf(s.Out, "\t\t%v %v (site %v, weight %v)\n", m["service"], m["address"], m["site"], m["weight"])
		}
	}
	steps, _ := tr["steps"].([]any)
	for i, st := range steps {
		fmt.Fprintf(s.Out, "\t%d) %v\n", i+1, st)
	}
	ans, _ := tr["answer"].([]any)
	var as []string
	for _, a := range ans {
		as = append(as, fmt.Sprint(a))
	}
	fmt.Fprintf(s.Out, "\tanswer: %s %s", str("rcode"), or(strings.Join(as, " "), "(no records)"))
	if ttl, ok := tr["ttl"]; ok {
		fmt.Fprintf(s.Out, ", TTL %v", ttl)
	}
	fmt.Fprintln(s.Out)
	return s.done(nil)
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Shell) done(err error) error {
	if err == nil {
		fmt.Fprintln(s.Out, " Done")
	}
	return err
}

// show lists a resource (or one object), laid out as NetScaler does.
func (s *Shell) show(ctx context.Context, v, group string, rest []string) error {
	res, ok := readResources[group]
	words := 2 // the group's words: two (gslb vserver) or one (location)
	if !ok {
		g := groupNamed(group)
		if g == "" && len(rest) > 0 {
			g, words = groupNamed(rest[0]), 1
		}
		if g == "" {
			return fmt.Errorf("ERROR: %s: no such entity type", strings.Join(rest, " "))
		}
		group, res = g, resourceOf(g)
	}
	key := ""
	if len(rest) > words {
		key = rest[words]
	}
	kind := "config"
	if v == "stat" {
		kind = "stat"
	}
	r, err := s.Client.Do(ctx, "GET", nitro.Path(kind, res, key, nil), nil)
	if err != nil {
		return err
	}
	objs := r.Objects(res)
	if res == "gslbrunningconfig" {
		for _, o := range objs {
			fmt.Fprint(s.Out, o["response"])
		}
		return s.done(nil)
	}
	if key == "" && len(objs) > 0 {
		fmt.Fprintf(s.Out, "%d %s\n", len(objs), plural(len(objs), "entity", "entities"))
	}
	for i, o := range objs {
		s.layout(group, o, i+1, key != "")
	}
	if key != "" && kind == "config" {
		s.bindings(ctx, group, key)
	}
	return s.done(nil)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// groupNamed finds the modelled CLI group for two words, any case.
func groupNamed(g string) string {
	for _, x := range schema.Groups() {
		if strings.EqualFold(x, g) {
			return x
		}
	}
	return ""
}

// title is what NetScaler prints first: the name (the group's key field,
// else "name" or "username"), and the type after a dash.
func title(group string, o map[string]any) (string, []string) {
	used := []string{}
	name := ""
	for _, k := range []string{schema.KeyNITRO(group), "name", "username", "ipaddress"} {
		if n, ok := o[k]; ok {
			name = fmt.Sprint(n)
			used = append(used, k)
			break
		}
	}
	for _, k := range []string{"servicetype", "type"} {
		if t, ok := o[k]; ok {
			name += " - " + fmt.Sprint(t)
			used = append(used, k)
			break
		}
	}
	return name, used
}

// layout prints one object: numbered in lists, then each field with its
// CLI name.
func (s *Shell) layout(group string, o map[string]any, n int, single bool) {
	name, used := title(group, o)
	if single {
		fmt.Fprintf(s.Out, "\t%s\n", name)
	} else {
		fmt.Fprintf(s.Out, "%d)\t%s\n", n, name)
	}
	var keys []string
	for k := range o {
		if !slices.Contains(used, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(s.Out, "\t%s: %s\n", cliName(group, k), show(o[k]))
	}
}

func show(v any) string {
	if l, ok := v.([]any); ok {
		var parts []string
		for _, x := range l {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprint(v)
}

// cliName is the CLI spelling of a NITRO field when the group knows it.
func cliName(group, field string) string {
	if l, ok := statLabels[field]; ok {
		return l
	}
	for _, verb := range []string{"add", "set", "bind"} {
		c := schema.Lookup(verb, group)
		if c == nil {
			continue
		}
		for _, a := range append(append([]schema.Arg{}, c.Pos...), c.Opts...) {
			if a.NITRO == field {
				return a.Name
			}
			if a.Extra != nil && a.Extra.NITRO == field {
				return a.Extra.Name
			}
		}
	}
	return field
}

// statLabels are the appliance's labels for the live figures of `stat`
// and `show` (docs §3.11).
var statLabels = map[string]string{
	"tothits":                  "Vserver hits",
	"totvserverdownbackuphits": "Vserver Down Backup Hits",
	"vslbhealth":               "Vserver Health",
	"actsvcs":                  "Total ACTIVE services",
	"inactsvcs":                "Total INACTIVE services",
	"vsvrservicehits":          "Hits",
	"dnstotalqueries":          "DNS queries",
	"responsetime":             "Response time",
	"curload":                  "Current load",
	"curclntconnections":       "Current client connections",
}

// bindings prints what is bound to one object, as `show gslb vserver v`
// does after its settings.
func (s *Shell) bindings(ctx context.Context, group, key string) {
	res := resourceOf(group)
	r, err := s.Client.Do(ctx, "GET", nitro.Path("config", res+"_binding", key, nil), nil)
	if err != nil {
		return
	}
	for _, agg := range r.Objects(res + "_binding") {
		var kinds []string
		for k := range agg {
			if strings.HasSuffix(k, "_binding") {
				kinds = append(kinds, k)
			}
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			list, _ := agg[k].([]any)
			fmt.Fprintf(s.Out, "\n%d bound %s:\n", len(list), strings.TrimSuffix(strings.TrimPrefix(k, res+"_"), "_binding"))
			for i, b := range list {
				m, _ := b.(map[string]any)
				fmt.Fprintf(s.Out, "%d)\t%s\n", i+1, fieldsLine(m, "name", schema.KeyNITRO(group)))
			}
		}
	}
}

// fieldsLine is "field: value" for each field but skip, sorted, tab-separated.
func fieldsLine(m map[string]any, skip ...string) string {
	var ks []string
	for f := range m {
		if !slices.Contains(skip, f) {
			ks = append(ks, f)
		}
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, f := range ks {
		parts[i] = fmt.Sprintf("%s: %s", f, show(m[f]))
	}
	return strings.Join(parts, "\t")
}

// RunBatch runs each line of r; it stops at the first error unless keepGoing,
// and reports the failing line by number.
func (s *Shell) RunBatch(ctx context.Context, name string, r io.Reader, keepGoing bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var firstErr error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := s.Run(ctx, line); err != nil {
			err = fmt.Errorf("%s:%d: %s: %w", name, n, line, err)
			if !keepGoing {
				return err
			}
			fmt.Fprintln(s.Out, err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return firstErr
}

// Complete completes the word before pos in line: verbs, then groups,
// then options of the command, then entity names from the server. It
// returns the new line and cursor; ok is false when nothing fits.
func (s *Shell) Complete(ctx context.Context, line string, pos int) (string, int, bool) {
	head := line[:pos]
	ws := strings.Fields(head)
	if strings.HasSuffix(head, " ") || len(ws) == 0 {
		ws = append(ws, "")
	}
	cur := ws[len(ws)-1]
	var cands []string
	switch len(ws) {
	case 1:
		cands = append(slices.Clone(schema.Verbs), "exit", "quit", "help")
	case 2, 3:
		v, err := verb(ws[0])
		if err != nil {
			return line, pos, false
		}
		seen := map[string]bool{}
		for _, g := range slices.Concat(schema.Groups(), []string{"ns runningConfig", "ns config", "gslb domain", "ns version"}) {
			gw := strings.Fields(g)
			if len(ws) == 2 {
				if (v == "show" || v == "stat" || schema.Lookup(v, g) != nil || v == "save" && g == "ns config") && !seen[gw[0]] {
					seen[gw[0]] = true
					cands = append(cands, gw[0])
				}
			} else if strings.EqualFold(gw[0], ws[1]) {
				cands = append(cands, gw[1])
			}
		}
	default:
		v, _ := verb(ws[0])
		group := groupNamed(ws[1] + " " + ws[2])
		if strings.HasPrefix(cur, "-") {
			if c := schema.Lookup(v, group); c != nil {
				for _, a := range c.Opts {
					cands = append(cands, "-"+a.Name)
				}
			}
		} else if len(ws) == 4 && group != "" {
			cands = s.names(ctx, group)
		} else if prev := ws[len(ws)-2]; strings.HasPrefix(prev, "-") {
			if g := optionEntity(prev); g != "" {
				cands = s.names(ctx, g)
			}
		}
	}
	var hits []string
	for _, c := range cands {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(cur)) {
			hits = append(hits, c)
		}
	}
	if len(hits) == 0 {
		return line, pos, false
	}
	fill := hits[0]
	for _, h := range hits[1:] {
		for !strings.HasPrefix(strings.ToLower(h), strings.ToLower(fill)) {
			fill = fill[:len(fill)-1]
		}
	}
	if len(hits) == 1 {
		fill += " "
	}
	if len(fill) < len(cur) {
		return line, pos, false
	}
	newHead := head[:len(head)-len(cur)] + fill
	return newHead + line[pos:], len(newHead), true
}

// optionEntity is the group an option names an entity of.
func optionEntity(opt string) string {
	switch strings.ToLower(strings.TrimPrefix(opt, "-")) {
	case "servicename":
		return "gslb service"
	case "servicegroupname":
		return "gslb serviceGroup"
	case "sitename", "parentsite":
		return "gslb site"
	case "monitorname":
		return "lb monitor"
	case "backupvserver":
		return "gslb vserver"
	}
	return ""
}

// names lists the entities of a group for completion.
func (s *Shell) names(ctx context.Context, group string) []string {
	res, key := resourceOf(group), schema.KeyNITRO(group)
	r, err := s.Client.Do(ctx, "GET", nitro.Path("config", res, "", url.Values{"attrs": {key}}), nil)
	if err != nil {
		return nil
	}
	var out []string
	for _, o := range r.Objects(res) {
		if n, ok := o[key].(string); ok {
			out = append(out, n)
		}
	}
	return out
}
