package nsconf

import (
	"strings"
)

// Format renders a command as one ns.conf line: verb, group, positionals,
// then named arguments, each value quoted only where needed.
func Format(c *Cmd) string {
	if c.Spec == nil {
		return c.Raw
	}
	var b strings.Builder
	b.WriteString(c.Spec.Verb)
	b.WriteByte(' ')
	b.WriteString(c.Spec.Group)
	for i, v := range c.Positional {
		quoted := i < len(c.Spec.Pos) && c.Spec.Pos[i].Quoted
		for _, s := range v.Values {
			b.WriteByte(' ')
			b.WriteString(quote(s, quoted))
		}
	}
	for _, t := range c.Rest {
		b.WriteByte(' ')
		b.WriteString(Quote(t.Text))
	}
	for _, v := range c.Opts {
		b.WriteString(" -")
		b.WriteString(v.Name)
		a := c.Spec.Opt(v.Name)
		for _, s := range v.Values {
			b.WriteByte(' ')
			b.WriteString(quote(s, a != nil && a.Quoted))
		}
		if v.Extra != "" {
			b.WriteByte(' ')
			b.WriteString(Quote(v.Extra))
		}
	}
	return b.String()
}
