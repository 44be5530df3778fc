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
	for _, v := range c.Positional {
		for _, s := range v.Values {
			b.WriteByte(' ')
			b.WriteString(Quote(s))
		}
	}
	for _, t := range c.Rest {
		b.WriteByte(' ')
		b.WriteString(Quote(t.Text))
	}
	for _, v := range c.Opts {
		b.WriteString(" -")
		b.WriteString(v.Name)
		for _, s := range v.Values {
			b.WriteByte(' ')
			b.WriteString(Quote(s))
		}
		if v.Extra != "" {
			b.WriteByte(' ')
			b.WriteString(Quote(v.Extra))
		}
	}
	return b.String()
}
