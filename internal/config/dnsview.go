package config

// This file holds DNS views and the policies that choose them (split
// horizon): add/rm dns view, add/set/rm dns action, add/set/unset/rm dns
// policy, bind/unbind dns global, and how Build compiles the view
// policies into the ordered rules the answer path evaluates. The
// per-service view addresses are gslb service bindings (service.go).

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/dnspolicy"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// DNSView is `add dns view <name>`.
type DNSView struct {
	Name string
	Pos  nsconf.Pos
}

func (v *DNSView) clone() *DNSView { x := *v; return &x }

// DNSAction is `add dns action <name> <type> [-viewName v] ...`.
type DNSAction struct {
	Name, Type string
	Args       Args
	Pos        nsconf.Pos
}

func (a *DNSAction) clone() *DNSAction { x := *a; x.Args = a.Args.clone(); return &x }

// DNSPolicy is `add dns policy <name> <rule> [<actionName>] [-viewName v]
// ...`.
type DNSPolicy struct {
	Name, Rule, Action string
	Args               Args
	Pos                nsconf.Pos
}

func (p *DNSPolicy) clone() *DNSPolicy { x := *p; x.Args = p.Args.clone(); return &x }

// DNSGlobalBinding is `bind dns global <policy> <priority> [-type t]
// [-gotoPriorityExpression e]`; Name, the table key, is "<type> <policy>"
// (a policy is bound once per bind point).
type DNSGlobalBinding struct {
	Name     string
	Policy   string
	Priority int
	Args     Args
	Pos      nsconf.Pos
}

func (b *DNSGlobalBinding) clone() *DNSGlobalBinding { x := *b; x.Args = b.Args.clone(); return &x }

// The built-in DNS actions (NetScaler's; they exist without add dns
// action).
var builtinDNSActions = []string{"dns_default_act_Drop", "dns_default_act_Cachebypass"}

// ViewRule is one view policy in the order the answer path evaluates
// them: REQ_OVERRIDE bindings by priority, then REQ_DEFAULT.
type ViewRule struct {
	Policy string
	Expr   *dnspolicy.Expr
	View   string // lower-case view name
	// Next: -gotoPriorityExpression NEXT, evaluation goes on after a
	// match (a later match's view wins); else it ends.
	Next bool
}

func (a *applier) dnsView() *nsconf.Error {
	c := a.c
	name := a.pos("viewName")
	v, ok := c.DNSViews.Get(name)
	if ok {
		a.owner = v
	}
	if a.cmd.Spec.Verb == "add" {
		if ok {
			return a.errf(nserr.Exist, "dns view %q: already exists", name)
		}
		v = &DNSView{Name: name, Pos: a.cmd.Pos}
		c.DNSViews.Put(name, v)
		a.owner = v
		return nil
	}
	if !ok {
		return a.errf(nserr.NoEnt, "dns view %q: no such view", name)
	}
	for _, p := range c.DNSPolicies.All() {
		if strings.EqualFold(p.Args.Get("viewName"), name) {
			return a.errf(nserr.Inval, "dns view %q: used by dns policy %q", name, p.Name)
		}
	}
	for _, x := range c.DNSActions.All() {
		if strings.EqualFold(x.Args.Get("viewName"), name) {
			return a.errf(nserr.Inval, "dns view %q: used by dns action %q", name, x.Name)
		}
	}
	for _, s := range c.Services.All() {
		if slices.ContainsFunc(s.Views, func(b ViewBinding) bool { return strings.EqualFold(b.View, name) }) {
			return a.errf(nserr.Inval, "dns view %q: bound to gslb service %q", name, s.Name)
		}
	}
	c.DNSViews.Delete(name)
	return nil
}

// viewExists checks a -viewName value.
func (a *applier) viewExists(what, view string) *nsconf.Error {
	if view == "" {
		return nil
	}
	if _, ok := a.c.DNSViews.Get(view); !ok {
		return a.errf(nserr.NoEnt, "%s: no such dns view %q", what, view)
	}
	return nil
}

func (a *applier) dnsAction() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("actionName")
	x, ok := c.DNSActions.Get(name)
	if ok && cmd.Spec.Verb != "rm" {
		x, _ = c.DNSActions.Edit(name)
	}
	if ok {
		a.owner = x
	}
	what := "dns action " + strconv.Quote(name)
	switch cmd.Spec.Verb {
	case "add":
		if ok || slices.ContainsFunc(builtinDNSActions, func(b string) bool { return strings.EqualFold(b, name) }) {
			return a.errf(nserr.Exist, "%s: already exists", what)
		}
		args := a.optArgs()
		typ := a.pos("actionType")
		if typ == "ViewName" && args.Get("viewName") == "" {
			return a.errf(nserr.ArgMissing, "%s: a ViewName action needs -viewName", what)
		}
		if err := a.viewExists(what, args.Get("viewName")); err != nil {
			return err
		}
		x = &DNSAction{Name: name, Type: typ, Args: args, Pos: cmd.Pos}
		c.DNSActions.Put(name, x)
		a.owner = x
		return nil
	}
	if !ok {
		return a.errf(nserr.NoEnt, "%s: no such action", what)
	}
	if cmd.Spec.Verb == "rm" {
		for _, p := range c.DNSPolicies.All() {
			if strings.EqualFold(p.Action, name) {
				return a.errf(nserr.Inval, "%s: used by dns policy %q", what, p.Name)
			}
		}
		c.DNSActions.Delete(name)
		return nil
	}
	if v := cmd.Arg("viewName"); v != nil {
		if err := a.viewExists(what, v.Value()); err != nil {
			return err
		}
	}
	a.merge(&x.Args)
	return nil
}

func (a *applier) dnsPolicy() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	p, ok := c.DNSPolicies.Get(name)
	if ok && cmd.Spec.Verb != "rm" {
		p, _ = c.DNSPolicies.Edit(name)
	}
	if ok {
		a.owner = p
	}
	what := "dns policy " + strconv.Quote(name)
	actionExists := func(act string) *nsconf.Error {
		if act == "" || slices.ContainsFunc(builtinDNSActions, func(b string) bool { return strings.EqualFold(b, act) }) {
			return nil
		}
		if _, ok := c.DNSActions.Get(act); !ok {
			return a.errf(nserr.NoEnt, "%s: no such dns action %q", what, act)
		}
		return nil
	}
	switch cmd.Spec.Verb {
	case "add":
		if ok {
			return a.errf(nserr.Exist, "%s: already exists", what)
		}
		args := a.optArgs()
		p = &DNSPolicy{Name: name, Rule: a.pos("rule"), Action: a.pos("actionName"), Args: args, Pos: cmd.Pos}
		if err := a.viewExists(what, args.Get("viewName")); err != nil {
			return err
		}
		if err := actionExists(p.Action); err != nil {
			return err
		}
		if p.Action != "" && args.Get("viewName") != "" {
			return a.errf(nserr.ArgsMutex, "%s: an action and -viewName are mutually exclusive", what)
		}
		c.DNSPolicies.Put(name, p)
		a.owner = p
		return nil
	}
	if !ok {
		return a.errf(nserr.NoEnt, "%s: no such policy", what)
	}
	switch cmd.Spec.Verb {
	case "rm":
		for _, b := range c.DNSGlobal.All() {
			if strings.EqualFold(b.Policy, name) {
				return a.errf(nserr.Inval, "%s: bound to dns global", what)
			}
		}
		c.DNSPolicies.Delete(name)
	case "set":
		if v := cmd.Arg("viewName"); v != nil {
			if err := a.viewExists(what, v.Value()); err != nil {
				return err
			}
		}
		if r := cmd.Arg("rule"); r != nil {
			p.Rule = r.Value()
		}
		if x := cmd.Arg("actionName"); x != nil {
			if err := actionExists(x.Value()); err != nil {
				return err
			}
			p.Action = x.Value()
		}
		a.merge(&p.Args, "rule", "actionName")
		if p.Action != "" && p.Args.Get("viewName") != "" {
			return a.errf(nserr.ArgsMutex, "%s: an action and -viewName are mutually exclusive", what)
		}
	case "unset":
		a.unset(&p.Args)
	}
	return nil
}

func (a *applier) dnsGlobal() *nsconf.Error {
	c, cmd := a.c, a.cmd
	policy := a.pos("policyName")
	typ := "REQ_DEFAULT"
	if t := cmd.Arg("type"); t != nil {
		typ = t.Value()
	}
	key := typ + " " + policy
	b, ok := c.DNSGlobal.Get(key)
	if ok {
		a.owner = b
	}
	if cmd.Spec.Verb == "unbind" {
		if !ok {
			return a.errf(nserr.NoEnt, "dns global: policy %q is not bound at %s", policy, typ)
		}
		c.DNSGlobal.Delete(key)
		return nil
	}
	if ok {
		return a.errf(nserr.Exist, "dns global: policy %q is already bound at %s", policy, typ)
	}
	if _, ok := c.DNSPolicies.Get(policy); !ok {
		return a.errf(nserr.NoEnt, "dns global: no such dns policy %q", policy)
	}
	prio, _ := strconv.Atoi(a.pos("priority"))
	for _, o := range c.DNSGlobal.All() {
		if o.Priority == prio && get(&o.Args, "dns global", "type") == typ {
			return a.errf(nserr.Exist, "dns global: priority %d is taken by policy %q at %s", prio, o.Policy, typ)
		}
	}
	b = &DNSGlobalBinding{Name: key, Policy: policy, Priority: prio, Args: a.optArgs(), Pos: cmd.Pos}
	c.DNSGlobal.Put(key, b)
	a.owner = b
	return nil
}

// dnsViews builds the view list and the view rules: every policy bound
// at a request bind point whose action is a view. An expression those
// rules need that gslbd cannot evaluate is an error on the policy's
// line; policies with other actions (drop, cache bypass, rewrite) are
// kept but not evaluated (NoEffectWarnings names them).
func (b *builder) dnsViews() {
	c := b.c
	b.s.Views = b.s.Views[:0]
	for _, v := range c.DNSViews.All() {
		b.s.Views = append(b.s.Views, key(v.Name))
	}
	binds := slices.Clone(c.DNSGlobal.All())
	rank := func(x *DNSGlobalBinding) int {
		if get(&x.Args, "dns global", "type") == "REQ_OVERRIDE" {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(binds, func(x, y *DNSGlobalBinding) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x.Priority, y.Priority))
	})
	b.s.ViewRules = nil
	for _, gb := range binds {
		if t := get(&gb.Args, "dns global", "type"); t != "REQ_OVERRIDE" && t != "REQ_DEFAULT" {
			continue
		}
		p, ok := c.DNSPolicies.Get(gb.Policy)
		if !ok {
			continue // refused when bound, and rm refuses a bound policy
		}
		view := p.Args.Get("viewName")
		if x, ok := c.DNSActions.Get(p.Action); ok && x.Type == "ViewName" {
			view = x.Args.Get("viewName")
		}
		if view == "" {
			continue
		}
		e, err := dnspolicy.Compile(p.Rule)
		if err != nil {
			b.errf(p.Pos, nserr.ArgValBad, "dns policy %q: rule %s", p.Name, err)
			continue
		}
		next := false
		switch g := strings.ToUpper(gb.Args.Get("gotoPriorityExpression")); g {
		case "", "END":
		case "NEXT":
			next = true
		default:
			b.errf(gb.Args.Pos("gotoPriorityExpression"), nserr.ArgValBad,
				"dns global %q: -gotoPriorityExpression %s: gslbd evaluates END and NEXT", gb.Policy, g)
		}
		b.s.ViewRules = append(b.s.ViewRules, ViewRule{Policy: p.Name, Expr: e, View: key(view), Next: next})
	}
}

// dnsPolicies writes the views, actions, policies and their global
// bindings, in that order, before the zones (docs §2.3).
func (w *writer) dnsPolicies(c *Config) {
	for _, v := range c.DNSViews.All() {
		if !w.raw(v, slotMain) {
			w.putEntity(w.entity("dns view", []string{v.Name}, nil, &Args{}, v.Pos, true))
		}
	}
	for _, x := range c.DNSActions.All() {
		if !w.raw(x, slotMain) {
			w.putEntity(w.entity("dns action", []string{x.Name, x.Type}, nil, &x.Args, x.Pos, true))
		}
	}
	for _, p := range c.DNSPolicies.All() {
		if !w.raw(p, slotMain) {
			pos := []string{p.Name, p.Rule}
			if p.Action != "" {
				pos = append(pos, p.Action)
			}
			w.putEntity(w.entity("dns policy", pos, nil, &p.Args, p.Pos, true))
		}
	}
	for _, gb := range c.DNSGlobal.All() {
		if !w.raw(gb, slotMain) {
			w.bindLine("dns global", []string{gb.Policy, strconv.Itoa(gb.Priority)}, slices.Concat(gb.Args.All(), gb.Args.Loose), gb.Pos)
		}
	}
}
