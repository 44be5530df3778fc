package nsconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nserr"
	"github.com/gslbd/gslbd/internal/schema"
)

// MaxLine is the longest line the reader accepts; a longer line is an error
// and is skipped without being held in memory.
const MaxLine = 1 << 20

// Val is one argument as written: a positional or a named argument with its
// values, already checked and normalised against the schema.
type Val struct {
	Arg    *schema.Arg // nil for an unknown option of a Loose command
	Name   string      // canonical name (or the name as written, for unknown options)
	Values []string    // normalised values; empty for flags and unset switches
	Extra  string      // the optional extra positional (-cip ENABLED <hdr>)
	Pos    Pos
}

// Value returns the first value, or "".
func (v *Val) Value() string {
	if v == nil || len(v.Values) == 0 {
		return ""
	}
	return v.Values[0]
}

// Cmd is one parsed command line.
type Cmd struct {
	Pos  Pos
	Spec *schema.Command // nil when gslbd does not model the command
	// Kind is "verb group" in canonical spelling for modelled commands, and
	// the lower-cased first words for the others (used for skip warnings).
	Kind       string
	Positional []Val   // positionals present, in schema order
	Opts       []Val   // named arguments in the order written
	Rest       []Token // extra positional tokens of a Loose command
	Raw        string  // the line as read, for commands kept verbatim
}

// Arg returns the positional or named argument with this canonical name, or nil.
func (c *Cmd) Arg(name string) *Val {
	for i := range c.Positional {
		if strings.EqualFold(c.Positional[i].Name, name) {
			return &c.Positional[i]
		}
	}
	for i := range c.Opts {
		if strings.EqualFold(c.Opts[i].Name, name) {
			return &c.Opts[i]
		}
	}
	return nil
}

// Get returns the first value of an argument, or "".
func (c *Cmd) Get(name string) string { return c.Arg(name).Value() }

// Has reports whether the argument was given.
func (c *Cmd) Has(name string) bool { return c.Arg(name) != nil }

// File is a parsed configuration source.
type File struct {
	Cmds     []*Cmd
	Skipped  []*Cmd   // commands gslbd does not model, in order (kept verbatim)
	Comments []Line   // comment and blank lines, in order (kept as written)
	Warnings []*Error // one per kind of skipped command, and other tolerances
	skipSeen map[string]*skipped
}

// Line is one line of the source that is not a command.
type Line struct {
	No   int
	Text string // without the line ending
}

// skipped is the warning of one kind of skipped command and how many lines
// of that kind were kept: counted as they come, so that a file of 100,000
// unmanaged lines costs one map update per line, not a rescan.
type skipped struct {
	w    *Error
	n    int
	note string // what becomes of the lines (default: not applied)
}

// Parse reads a whole configuration. Every error is collected; the returned
// error, if not nil, is an ErrorList. A reader error ends the parse.
func Parse(file string, r io.Reader) (*File, error) {
	f := &File{skipSeen: map[string]*skipped{}}
	var errs ErrorList
	size := 64 << 10
	if l, ok := r.(interface{ Len() int }); ok {
		// A short text (an API change) needs no 64 KiB buffer; longer
		// lines still work (ErrBufferFull below).
		size = min(size, max(l.Len()+1, 16))
	}
	br := bufio.NewReaderSize(r, size)
	lineNo := 0
	var long []byte
	for {
		lineNo++
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Accumulate up to MaxLine; beyond that, report and skip the rest.
			long = append(long[:0], line...)
			tooLong := false
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				if !tooLong && len(long)+len(line) <= MaxLine {
					long = append(long, line...)
				} else {
					tooLong = true
					long = long[:0]
				}
			}
			if tooLong {
				errs.Add(Pos{File: file, Line: lineNo}, nserr.StrMaxLen, "line is longer than %d bytes", MaxLine)
				if err != nil && err != io.EOF {
					errs.Add(Pos{File: file, Line: lineNo}, 0, "read: %v", err)
					break
				}
				if err == io.EOF {
					break
				}
				continue
			}
			line = long
		}
		if len(line) > 0 {
			f.parseLine(string(line), lineNo, file, &errs)
		}
		if err != nil {
			if err != io.EOF {
				errs.Add(Pos{File: file, Line: lineNo}, 0, "read: %v", err)
			}
			break
		}
	}
	f.finish()
	errs.Sort()
	return f, errs.Err()
}

// finish writes the skip warnings with their final counts.
func (f *File) finish() {
	for kind, sk := range f.skipSeen {
		sk.w.Msg = skipMsg(kind, sk.n, sk.note)
	}
}

// NoteKept says in the warning about the kept lines of kind (a command
// kind as in the warning, "add lb vserver") what gslbd still makes of
// them, instead of "not applied".
func (f *File) NoteKept(kind, note string) {
	if sk := f.skipSeen[kind]; sk != nil {
		sk.note = note
		sk.w.Msg = skipMsg(kind, sk.n, note)
	}
}

// ParseLine parses a single command (as the interactive CLI or NITRO would).
func ParseLine(line string) (*Cmd, error) {
	f := &File{skipSeen: map[string]*skipped{}}
	var errs ErrorList
	f.parseLine(line, 1, "", &errs)
	f.finish()
	if len(errs) > 0 {
		return nil, errs
	}
	if len(f.Cmds) == 1 {
		return f.Cmds[0], nil
	}
	if len(f.Skipped) == 1 {
		c := f.Skipped[0]
		return nil, &Error{Pos: c.Pos, Code: nserr.NoSuchCmd, Msg: fmt.Sprintf("%s: command not supported by gslbd", c.Kind)}
	}
	return nil, nil
}

func (f *File) parseLine(line string, lineNo int, file string, errs *ErrorList) {
	line = strings.TrimRight(line, "\r\n")
	trimmed := strings.TrimLeft(line, " \t")
	if trimmed == "" || trimmed[0] == '#' {
		f.Comments = append(f.Comments, Line{No: lineNo, Text: line})
		return
	}
	toks, lerr := Lex(line, lineNo, file)
	if lerr != nil {
		*errs = append(*errs, lerr)
		return
	}
	if len(toks) == 0 {
		f.Comments = append(f.Comments, Line{No: lineNo, Text: line}) // only \v or \f
		return
	}
	p := parser{file: file, line: lineNo, raw: line, errs: errs}
	cmd, ok := p.command(toks)
	if !ok {
		return
	}
	if cmd.Spec == nil {
		f.Skipped = append(f.Skipped, cmd)
		sk := f.skipSeen[cmd.Kind]
		if sk == nil {
			sk = &skipped{w: &Error{Pos: cmd.Pos}}
			f.skipSeen[cmd.Kind] = sk
			f.Warnings = append(f.Warnings, sk.w)
		}
		sk.n++
		return
	}
	f.Cmds = append(f.Cmds, cmd)
}

func skipMsg(kind string, n int, note string) string {
	if note == "" {
		note = "not applied"
	}
	if n == 1 {
		return fmt.Sprintf("%q is not managed by gslbd: 1 line kept verbatim, %s", kind, note)
	}
	return fmt.Sprintf("%q is not managed by gslbd: %d lines kept verbatim, %s", kind, n, note)
}

type parser struct {
	file string
	line int
	raw  string
	errs *ErrorList
}

func (p *parser) pos(col int) Pos { return Pos{File: p.file, Line: p.line, Col: col} }

func (p *parser) errf(col int, code nserr.Code, format string, args ...any) {
	p.errs.Add(p.pos(col), code, format, args...)
}

// twoWord lists first words of appliance groups that take a second word, so
// that skipped commands are grouped by kind ("add lb vserver").
var twoWord = map[string]bool{"lb": true, "cs": true, "ssl": true, "ns": true, "dns": true, "gslb": true,
	"system": true, "snmp": true, "audit": true, "aaa": true, "vpn": true, "cache": true, "cmp": true,
	"rewrite": true, "responder": true, "policy": true, "appfw": true, "authentication": true,
	"authorization": true, "tm": true, "cr": true, "db": true, "feo": true, "ica": true, "ipsec": true,
	"lsn": true, "network": true, "protocol": true, "sc": true, "spillover": true, "stream": true,
	"transform": true, "tunnel": true, "appflow": true, "appqoe": true, "bot": true, "cloud": true,
	"content": true, "contentinspection": true, "dos": true, "ha": true, "cluster": true, "rnat": true,
	"rdp": true, "user": true, "videooptimization": true, "analytics": true, "adm": true, "api": true,
	"smpp": true, "subscriber": true, "lldp": true, "urlfiltering": true, "reputation": true, "hostname": false}

func (p *parser) command(toks []Token) (*Cmd, bool) {
	cmd := &Cmd{Pos: p.pos(toks[0].Col), Raw: strings.TrimSpace(p.raw)}
	verb, ok := p.resolveVerb(toks[0])
	if !ok {
		return nil, false
	}
	rest := toks[1:]
	if len(rest) == 0 {
		p.errf(toks[0].Col, nserr.ArgsTooFew, "%s: missing command group", verb)
		return nil, false
	}
	group, used, amb := resolveGroup(rest)
	if amb != "" {
		p.errf(rest[0].Col, nserr.CmdAmbiguous, "ambiguous command %q: %s", joinText(rest, 2), amb)
		return nil, false
	}
	if group == "" {
		if strings.EqualFold(rest[0].Text, "gslb") && (len(rest) < 2 || !knownGSLBGroup(rest[1].Text)) {
			p.errf(rest[0].Col, nserr.NoSuchCmd, "unknown command %q", verb+" "+joinText(rest, 2))
			return nil, false
		}
		n := 1
		if twoWord[strings.ToLower(rest[0].Text)] && len(rest) > 1 && !rest[1].IsOption() {
			n = 2
		}
		cmd.Kind = strings.ToLower(verb + " " + joinText(rest, n))
		return cmd, true
	}
	spec := schema.Lookup(verb, group)
	if spec == nil {
		cmd.Kind = verb + " " + group
		return cmd, true
	}
	cmd.Spec = spec
	cmd.Kind = spec.Key()
	before := len(*p.errs)
	p.args(cmd, rest[used:], toks[0].Col)
	return cmd, len(*p.errs) == before // a line with any error is not applied
}

// knownGSLBGroup reports whether w is (a prefix of) a gslb group that the
// appliance has, modelled or not, so that typos in the GSLB family are
// errors rather than silently skipped lines.
func knownGSLBGroup(w string) bool {
	l := strings.ToLower(w)
	for _, g := range []string{"site", "service", "servicegroup", "vserver", "parameter", "config", "domain", "webhook",
		"ldnsentries", "ldnsentry", "runningconfig", "syncstatus"} {
		if l != "" && strings.HasPrefix(g, l) {
			return true
		}
	}
	return false
}

func joinText(toks []Token, n int) string {
	var parts []string
	for i := 0; i < n && i < len(toks); i++ {
		parts = append(parts, toks[i].Text)
	}
	return strings.Join(parts, " ")
}

func (p *parser) resolveVerb(t Token) (string, bool) {
	w := strings.ToLower(t.Text)
	var matches []string
	for _, v := range schema.Verbs {
		if v == w {
			return v, true
		}
		if strings.HasPrefix(v, w) {
			matches = append(matches, v)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], true
	case 0:
		p.errf(t.Col, nserr.NoSuchCmd, "unknown command %q", t.Text)
	default:
		p.errf(t.Col, nserr.CmdAmbiguous, "ambiguous command %q: %s", t.Text, strings.Join(matches, ", "))
	}
	return "", false
}

// resolveGroup matches the words after the verb against the modelled
// groups. A group whose every word is spelt out wins (the longest, so
// "gslb service" is not taken for "gslb serviceGroup"); otherwise a unique
// prefix match does. It returns the group and how many tokens it used, or
// a list of candidates when the prefix is ambiguous.
func resolveGroup(toks []Token) (group string, used int, ambiguous string) {
	var exact, prefix []int
	var low [4]string // the first words of the line, lower-cased once
	for i := 0; i < len(toks) && i < len(low); i++ {
		low[i] = strings.ToLower(toks[i].Text)
	}
	for gi, words := range schema.GroupWords() {
		if len(words) > len(toks) || len(words) > len(low) {
			continue
		}
		match, all := true, true
		for i, lw := range words {
			t := low[i]
			if toks[i].Quoted || toks[i].IsOption() || !strings.HasPrefix(lw, t) {
				match = false
				break
			}
			all = all && lw == t
		}
		switch {
		case match && all:
			exact = append(exact, gi)
		case match:
			prefix = append(prefix, gi)
		}
	}
	groups, words := schema.Groups(), schema.GroupWords()
	switch {
	case len(exact) > 0:
		best := exact[0]
		for _, g := range exact[1:] {
			if len(words[g]) > len(words[best]) {
				best = g
			}
		}
		return groups[best], len(words[best]), ""
	case len(prefix) == 1:
		return groups[prefix[0]], len(words[prefix[0]]), ""
	case len(prefix) > 1:
		names := make([]string, len(prefix))
		for i, g := range prefix {
			names[i] = groups[g]
		}
		return "", 0, strings.Join(names, ", ")
	}
	return "", 0, ""
}

func (p *parser) args(cmd *Cmd, toks []Token, verbCol int) {
	spec := cmd.Spec
	// Positional tokens: those before the first option, plus the extras.
	var posToks []Token
	i := 0
	for i < len(toks) && !toks[i].IsOption() {
		posToks = append(posToks, toks[i])
		i++
	}
	p.positionals(cmd, posToks, verbCol)
	unset := spec.Verb == "unset"
	seen := map[string]bool{}
	for i < len(toks) {
		t := toks[i]
		i++
		if !t.IsOption() {
			if spec.Loose {
				cmd.Rest = append(cmd.Rest, t)
				continue
			}
			p.errf(t.Col, nserr.ArgOrderBad, "%s: unexpected value %q", spec.Key(), t.Text)
			continue
		}
		name := t.Text[1:]
		arg, amb := resolveOpt(spec, name)
		if amb != "" {
			p.errf(t.Col, nserr.ArgAmbiguous, "%s: ambiguous argument -%s: %s", spec.Key(), name, amb)
			continue
		}
		if arg == nil {
			if spec.Loose {
				v := Val{Name: name, Pos: p.pos(t.Col)}
				for i < len(toks) && !toks[i].IsOption() {
					v.Values = append(v.Values, toks[i].Text)
					i++
				}
				cmd.Opts = append(cmd.Opts, v)
				continue
			}
			p.errf(t.Col, nserr.NoSuchArg, "%s: unknown argument -%s", spec.Key(), name)
			// Skip its values so they do not produce more errors.
			for i < len(toks) && !toks[i].IsOption() {
				i++
			}
			continue
		}
		if seen[arg.Name] {
			p.errf(t.Col, nserr.ArgsMutex, "%s: argument -%s given twice", spec.Key(), arg.Name)
		}
		seen[arg.Name] = true
		v := Val{Arg: arg, Name: arg.Name, Pos: p.pos(t.Col)}
		if arg.Kind == schema.Flag || unset {
			cmd.Opts = append(cmd.Opts, v)
			continue
		}
		var vals []Token
		for i < len(toks) && !toks[i].IsOption() {
			vals = append(vals, toks[i])
			i++
			if !arg.List {
				break
			}
		}
		if len(vals) == 0 {
			p.errf(t.Col, nserr.ArgValMissing, "%s: -%s needs a value", spec.Key(), arg.Name)
			continue
		}
		ok := true
		for _, vt := range vals {
			nv, err := checkValue(arg, vt.Text)
			if err != nil {
				p.errf(vt.Col, err.Code, "%s: -%s: %s", spec.Key(), arg.Name, err.Msg)
				ok = false
				continue
			}
			v.Values = append(v.Values, nv)
		}
		if arg.Extra != nil && i < len(toks) && !toks[i].IsOption() {
			nv, err := checkValue(arg.Extra, toks[i].Text)
			if err != nil {
				p.errf(toks[i].Col, err.Code, "%s: -%s %s: %s", spec.Key(), arg.Name, arg.Extra.Name, err.Msg)
				ok = false
			}
			v.Extra = nv
			i++
		}
		if ok {
			cmd.Opts = append(cmd.Opts, v)
		}
	}
}

func resolveOpt(spec *schema.Command, name string) (*schema.Arg, string) {
	l := strings.ToLower(name)
	var matches []*schema.Arg
	for i := range spec.Opts {
		a := &spec.Opts[i]
		la := strings.ToLower(a.Name)
		if la == l {
			return a, ""
		}
		if strings.HasPrefix(la, l) {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 0:
		return nil, ""
	case 1:
		return matches[0], ""
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = "-" + m.Name
	}
	return nil, strings.Join(names, ", ")
}

func (p *parser) positionals(cmd *Cmd, toks []Token, verbCol int) {
	spec := cmd.Spec
	required := 0
	hasList := false
	for _, a := range spec.Pos {
		if !a.Optional {
			required++
		}
		if a.List {
			hasList = true
		}
	}
	extra := len(toks) - required
	if extra < 0 {
		missing := spec.Pos[len(toks)]
		for _, a := range spec.Pos[len(toks):] {
			if !a.Optional {
				missing = a
				break
			}
		}
		p.errf(verbCol, nserr.ArgMissing, "%s: missing %s", spec.Key(), missing.Name)
		return
	}
	ti := 0
	for ai := range spec.Pos {
		a := &spec.Pos[ai]
		if a.List {
			// Take every token not needed by later required positionals.
			later := 0
			for _, b := range spec.Pos[ai+1:] {
				if !b.Optional {
					later++
				}
			}
			n := len(toks) - ti - later
			if n <= 0 {
				if !a.Optional {
					p.errf(verbCol, nserr.ArgMissing, "%s: missing %s", spec.Key(), a.Name)
				}
				continue
			}
			v := Val{Arg: a, Name: a.Name, Pos: p.pos(toks[ti].Col)}
			for _, t := range toks[ti : ti+n] {
				nv, err := checkValue(a, t.Text)
				if err != nil {
					p.errf(t.Col, err.Code, "%s: %s: %s", spec.Key(), a.Name, err.Msg)
					continue
				}
				v.Values = append(v.Values, nv)
			}
			ti += n
			cmd.Positional = append(cmd.Positional, v)
			continue
		}
		if a.Optional {
			if extra <= 0 {
				continue
			}
			extra--
		}
		if ti >= len(toks) {
			break
		}
		t := toks[ti]
		ti++
		nv, err := checkValue(a, t.Text)
		if err != nil {
			p.errf(t.Col, err.Code, "%s: %s: %s", spec.Key(), a.Name, err.Msg)
			continue
		}
		cmd.Positional = append(cmd.Positional, Val{Arg: a, Name: a.Name, Values: []string{nv}, Pos: p.pos(t.Col)})
	}
	if ti < len(toks) {
		if spec.Loose {
			cmd.Rest = append(cmd.Rest, toks[ti:]...)
			return
		}
		if !hasList {
			p.errf(toks[ti].Col, nserr.ArgOrderBad, "%s: unexpected value %q", spec.Key(), toks[ti].Text)
		}
	}
}

func checkValue(a *schema.Arg, s string) (string, *nserr.Error) {
	switch a.Kind {
	case schema.Flag:
		return "", nil
	case schema.String:
		if len(s) > 8191 {
			return "", nserr.New(nserr.StrMaxLen, "value longer than 8191 characters")
		}
		return s, nil
	case schema.Name:
		if err := checkName(s); err != nil {
			return "", err
		}
		return s, nil
	case schema.Int:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", nserr.New(nserr.ArgValBad, "%q is not an integer", s)
		}
		if v < a.Min {
			return "", nserr.New(nserr.IntMinVal, "%d is below the minimum %d", v, a.Min)
		}
		if a.Max != 0 && v > a.Max {
			return "", nserr.New(nserr.IntMaxVal, "%d is above the maximum %d", v, a.Max)
		}
		return strconv.FormatInt(v, 10), nil
	case schema.Port:
		if s == "*" {
			return "65535", nil
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil || v < 1 || v > math.MaxUint16 {
			return "", nserr.New(nserr.ArgValBad, "%q is not a port (1-65535 or *)", s)
		}
		return strconv.FormatUint(v, 10), nil
	case schema.Enum:
		l := strings.ToLower(s)
		var matches []string
		for _, ev := range a.Enum {
			le := strings.ToLower(ev)
			if le == l {
				return ev, nil
			}
			if l != "" && strings.HasPrefix(le, l) {
				matches = append(matches, ev)
			}
		}
		if len(matches) == 1 {
			return matches[0], nil
		}
		if len(matches) > 1 {
			return "", nserr.New(nserr.ArgValAmbiguous, "ambiguous value %q: %s", s, strings.Join(matches, ", "))
		}
		return "", nserr.New(nserr.ArgValBad, "invalid value %q (one of %s)", s, strings.Join(a.Enum, ", "))
	case schema.IP:
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return "", nserr.New(nserr.InvalidIP, "%q is not an IP address", s)
		}
		return ip.Unmap().String(), nil
	case schema.IPOrStar:
		if s == "*" {
			return s, nil
		}
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return "", nserr.New(nserr.InvalidIP, "%q is not an IP address or *", s)
		}
		return ip.Unmap().String(), nil
	case schema.IPOrName:
		if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
			return ip.Unmap().String(), nil
		}
		if err := checkName(s); err != nil {
			return "", nserr.New(nserr.InvalidIP, "%q is neither an IP address nor a server name", s)
		}
		return s, nil
	case schema.Mask:
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is4() {
			return "", nserr.New(nserr.InvalidNetmask, "%q is not an IPv4 netmask", s)
		}
		b := ip.As4()
		m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if m != 0 && (^m)&((^m)+1) != 0 {
			return "", nserr.New(nserr.InvalidNetmask, "%q is not a contiguous netmask", s)
		}
		return ip.String(), nil
	case schema.FQDN:
		return checkFQDN(s)
	}
	return s, nil
}

func checkName(s string) *nserr.Error {
	if s == "" {
		return nserr.New(nserr.InvalidName, "empty name")
	}
	if len(s) > 127 {
		return nserr.New(nserr.InvalidName, "name longer than 127 characters")
	}
	c := s[0]
	if !(c == '_' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return nserr.New(nserr.InvalidName, "invalid name %q: must start with a letter, digit or _", s)
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '_' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			strings.IndexByte("#. :@=-", c) >= 0 {
			continue
		}
		return nserr.New(nserr.InvalidName, "invalid name %q: character %q not allowed", s, c)
	}
	return nil
}

// checkFQDN normalises a domain name: lower case, no trailing dot (except
// the root "."), each label 1-63 bytes, whole name at most 253 bytes.
func checkFQDN(s string) (string, *nserr.Error) {
	if s == "." {
		return s, nil
	}
	if s == "" {
		return "", nserr.New(nserr.ArgValBad, "empty domain name")
	}
	n := strings.TrimSuffix(strings.ToLower(s), ".")
	if len(n) > 253 || strings.Contains(n, "..") || n == "" || strings.HasPrefix(n, ".") {
		return "", nserr.New(nserr.ArgValBad, "%q is not a valid domain name", s)
	}
	for _, l := range strings.Split(n, ".") {
		if len(l) == 0 || len(l) > 63 {
			return "", nserr.New(nserr.ArgValBad, "%q is not a valid domain name", s)
		}
		for i := 0; i < len(l); i++ {
			if l[i] <= ' ' || l[i] >= 0x7f || l[i] == '\\' || l[i] == '"' {
				return "", nserr.New(nserr.ArgValBad, "%q is not a valid domain name", s)
			}
		}
	}
	return n, nil
}
