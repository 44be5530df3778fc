package dnspolicy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Input is what an expression reads of a query.
type Input struct {
	Src, Dst netip.Addr // the query's source, and the address it arrived on
	// Name is the question name in lower case without the trailing dot.
	Name []byte
	Type uint16
	TCP  bool
}

// Expr is a compiled expression; Eval may be called concurrently.
type Expr struct {
	root *node
	text string
}

// String returns the expression as written.
func (e *Expr) String() string { return e.text }

// Eval reports whether the expression holds for in. It allocates nothing.
func (e *Expr) Eval(in *Input) bool { return e.root.eval(in) }

type op uint8

const (
	opTrue op = iota
	opFalse
	opAnd
	opOr
	opNot
	opSrcIn // address in prefix (pfx); v6: the IPV6 family
	opDstIn
	opSrcEq
	opDstEq
	opNameEq
	opNameEnds
	opNameStarts
	opNameContains
	opTypeEq
	opTCP // transport is TCP (tcp) or UDP (!tcp)
)

type node struct {
	op    op
	a, b  *node
	v6    bool // CLIENT.IPV6: the address must be IPv6, else IPv4
	pfx   netip.Prefix
	addr  netip.Addr
	str   []byte
	qtype uint16
	tcp   bool
	// transport, when set, also requires the transport tcp (CLIENT.UDP.DNS
	// and CLIENT.TCP.DNS).
	transport bool
}

func (n *node) eval(in *Input) bool {
	switch n.op {
	case opTrue:
		return true
	case opFalse:
		return false
	case opAnd:
		return n.a.eval(in) && n.b.eval(in)
	case opOr:
		return n.a.eval(in) || n.b.eval(in)
	case opNot:
		return !n.a.eval(in)
	}
	if n.transport && in.TCP != n.tcp {
		return false
	}
	switch n.op {
	case opSrcIn, opDstIn, opSrcEq, opDstEq:
		a := in.Src
		if n.op == opDstIn || n.op == opDstEq {
			a = in.Dst
		}
		a = a.Unmap()
		if !a.IsValid() || a.Is6() != n.v6 {
			return false // CLIENT.IP on an IPv6 client is UNDEF: no match
		}
		if n.op == opSrcIn || n.op == opDstIn {
			return n.pfx.Contains(a)
		}
		return a == n.addr
	case opNameEq:
		return bytes.Equal(in.Name, n.str)
	case opNameEnds:
		return bytes.HasSuffix(in.Name, n.str)
	case opNameStarts:
		return bytes.HasPrefix(in.Name, n.str)
	case opNameContains:
		return bytes.Contains(in.Name, n.str)
	case opTypeEq:
		return in.Type == n.qtype
	case opTCP:
		return in.TCP == n.tcp
	}
	return false
}

// Error is a compile error at a column (1-based) of the expression.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Supported lists the functions Compile knows, for error messages and
// the documentation.
var Supported = []string{
	"CLIENT.IP.SRC.IN_SUBNET(a.b.c.d/n)", "CLIENT.IP.SRC.EQ(a.b.c.d)", "CLIENT.IP.DST.IN_SUBNET(a.b.c.d/n)", "CLIENT.IP.DST.EQ(a.b.c.d)",
	"CLIENT.IPV6.SRC.IN_SUBNET(x::/n)", "CLIENT.IPV6.SRC.EQ(x::y)", "CLIENT.IPV6.DST.IN_SUBNET(x::/n)", "CLIENT.IPV6.DST.EQ(x::y)",
	`DNS.REQ.QUESTION.DOMAIN.EQ("name")`, `.ENDSWITH("suffix")`, `.STARTSWITH("prefix")`, `.CONTAINS("text")`,
	"DNS.REQ.QUESTION.TYPE.EQ(A)", "DNS.REQ.TRANSPORT.EQ(TCP|UDP)", `CLIENT.UDP.DNS.DOMAIN.EQ("name")`, `CLIENT.TCP.DNS.DOMAIN.EQ("name")`,
	"true", "false", "&&", "||", "!", "( )", ".NOT",
}

// maxLen bounds an expression (NetScaler: 8191 characters).
const maxLen = 8191

// maxDepth bounds nesting, so that compiling and evaluating stay shallow.
const maxDepth = 64

// Compile parses an expression. It runs in time linear in its length.
func Compile(text string) (*Expr, error) {
	if len(text) > maxLen {
		return nil, &Error{Col: 1, Msg: fmt.Sprintf("expression longer than %d characters", maxLen)}
	}
	p := &parser{s: text}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %q", p.rest())
	}
	return &Expr{root: n, text: text}, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) errf(format string, args ...any) error {
	return &Error{Col: p.i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *parser) or(depth int) (*node, error) {
	n, err := p.and(depth)
	for err == nil && p.eat("||") {
		var m *node
		if m, err = p.and(depth); err == nil {
			n = &node{op: opOr, a: n, b: m}
		}
	}
	return n, err
}

func (p *parser) and(depth int) (*node, error) {
	n, err := p.unary(depth)
	for err == nil && p.eat("&&") {
		var m *node
		if m, err = p.unary(depth); err == nil {
			n = &node{op: opAnd, a: n, b: m}
		}
	}
	return n, err
}

func (p *parser) unary(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errf("nested more than %d deep", maxDepth)
	}
	if p.eat("!") {
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, a: n}, nil
	}
	var n *node
	if p.eat("(") {
		m, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.errf("missing )")
		}
		n = m
	} else {
		m, err := p.term()
		if err != nil {
			return nil, err
		}
		n = m
	}
	for p.eatWord(".NOT") {
		n = &node{op: opNot, a: n}
	}
	return n, nil
}

// eatWord eats tok (case-insensitive) when no word character follows.
func (p *parser) eatWord(tok string) bool {
	p.space()
	if len(p.s)-p.i < len(tok) || !strings.EqualFold(p.s[p.i:p.i+len(tok)], tok) {
		return false
	}
	if j := p.i + len(tok); j < len(p.s) && isWord(p.s[j]) {
		return false
	}
	p.i += len(tok)
	return true
}

func isWord(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// term is true, false, or PATH(arg).
func (p *parser) term() (*node, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (isWord(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	path := strings.ToUpper(p.s[start:p.i])
	switch path {
	case "TRUE":
		return &node{op: opTrue}, nil
	case "FALSE":
		return &node{op: opFalse}, nil
	case "":
		if p.i >= len(p.s) {
			return nil, p.errf("expression ends early")
		}
		return nil, p.errf("unexpected %q", p.rest())
	}
	col := start
	fail := func(format string, args ...any) error {
		return &Error{Col: col + 1, Msg: fmt.Sprintf(format, args...)}
	}
	if !p.eat("(") {
		return nil, fail("%s: not a function gslbd evaluates (supported: %s)", path, strings.Join(Supported, ", "))
	}
	argStart := p.i
	arg, quoted, err := p.arg()
	if err != nil {
		return nil, err
	}
	if !p.eat(")") {
		return nil, p.errf("missing ) after the argument of %s", path)
	}
	n := &node{}
	obj, fn, _ := cut(path)
	if rest, ok := strings.CutPrefix(obj, "CLIENT.UDP.DNS."); ok {
		obj, n.transport, n.tcp = "DNS.REQ.QUESTION."+rest, true, false
	} else if rest, ok := strings.CutPrefix(obj, "CLIENT.TCP.DNS."); ok {
		obj, n.transport, n.tcp = "DNS.REQ.QUESTION."+rest, true, true
	}
	argErr := func(format string, args ...any) error {
		return &Error{Col: argStart + 1, Msg: fmt.Sprintf(format, args...)}
	}
	switch obj {
	case "CLIENT.IP.SRC", "CLIENT.IP.DST", "CLIENT.IPV6.SRC", "CLIENT.IPV6.DST":
		n.v6 = strings.HasPrefix(obj, "CLIENT.IPV6")
		dst := strings.HasSuffix(obj, ".DST")
		switch fn {
		case "IN_SUBNET":
			pfx, err := netip.ParsePrefix(arg)
			if err != nil || pfx.Addr().Is6() != n.v6 || pfx.Addr().Is4In6() {
				return nil, argErr("%s(%s): not an %s prefix", path, arg, map[bool]string{false: "IPv4", true: "IPv6"}[n.v6])
			}
			n.op, n.pfx = opSrcIn, pfx.Masked()
			if dst {
				n.op = opDstIn
			}
		case "EQ":
			a, err := netip.ParseAddr(arg)
			if err != nil || a.Is6() != n.v6 || a.Is4In6() {
				return nil, argErr("%s(%s): not an %s address", path, arg, map[bool]string{false: "IPv4", true: "IPv6"}[n.v6])
			}
			n.op, n.addr = opSrcEq, a
			if dst {
				n.op = opDstEq
			}
		default:
			return nil, fail("%s: gslbd evaluates IN_SUBNET and EQ on %s (supported: %s)", path, obj, strings.Join(Supported, ", "))
		}
	case "DNS.REQ.QUESTION.DOMAIN":
		if !quoted {
			return nil, argErr("%s: the name must be a quoted string", path)
		}
		s := strings.ToLower(strings.TrimSuffix(arg, "."))
		n.str = []byte(s)
		switch fn {
		case "EQ":
			n.op = opNameEq
		case "ENDSWITH":
			n.op = opNameEnds
		case "STARTSWITH":
			n.op = opNameStarts
		case "CONTAINS":
			n.op = opNameContains
		default:
			return nil, fail("%s: gslbd evaluates EQ, ENDSWITH, STARTSWITH and CONTAINS on the domain (supported: %s)", path, strings.Join(Supported, ", "))
		}
	case "DNS.REQ.QUESTION.TYPE":
		t, ok := dns.StringToType[strings.ToUpper(arg)]
		if fn != "EQ" || !ok {
			return nil, argErr("%s(%s): want TYPE.EQ(<record type>)", path, arg)
		}
		n.op, n.qtype = opTypeEq, t
	case "DNS.REQ.TRANSPORT":
		switch strings.ToUpper(arg) {
		case "TCP":
			n.tcp = true
		case "UDP":
		default:
			return nil, argErr("%s(%s): the transport is TCP or UDP", path, arg)
		}
		if fn != "EQ" || n.transport {
			return nil, fail("%s: want DNS.REQ.TRANSPORT.EQ(TCP|UDP)", path)
		}
		n.op = opTCP
	default:
		return nil, fail("%s: not a function gslbd evaluates (supported: %s)", path, strings.Join(Supported, ", "))
	}
	return n, nil
}

// cut splits PATH.FN.
func cut(path string) (obj, fn string, ok bool) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return path, "", false
	}
	return path[:i], path[i+1:], true
}

// arg reads one argument: a double-quoted string (\" and \\ escapes) or
// a bare word up to the closing parenthesis.
func (p *parser) arg() (string, bool, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for j := p.i + 1; j < len(p.s); j++ {
			switch c := p.s[j]; {
			case c == '\\' && j+1 < len(p.s):
				j++
				b.WriteByte(p.s[j])
			case c == '"':
				p.i = j + 1
				return b.String(), true, nil
			default:
				b.WriteByte(c)
			}
		}
		return "", false, p.errf("unterminated string")
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ')' && p.s[p.i] != ' ' {
		p.i++
	}
	if p.i == start {
		return "", false, p.errf("missing argument")
	}
	return p.s[start:p.i], false, nil
}
