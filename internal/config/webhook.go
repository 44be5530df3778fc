package config

// This file holds gslbd's add gslb webhook: HTTP endpoints that receive
// state-change events (internal/webhook delivers them).

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Webhook is `add gslb webhook <name> <URL> [-secret s] [-events k ...]`.
type Webhook struct {
	Name, URL string
	Args      Args // secret, events
	Pos       nsconf.Pos
}

func (w *Webhook) clone() *Webhook { x := *w; x.Args = w.Args.clone(); return &x }

// WebhookInfo is a checked webhook.
type WebhookInfo struct {
	Name, URL, Secret string
	Events            []string // lower case; none: service, vserver, site
}

func (a *applier) webhook() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	w, ok := c.Webhooks.Get(name)
	if ok && cmd.Spec.Verb != "rm" {
		w, _ = c.Webhooks.Edit(name)
	}
	if ok {
		a.owner = w
	}
	what := "gslb webhook " + strconv.Quote(name)
	switch cmd.Spec.Verb {
	case "add":
		if ok {
			return a.errf(nserr.Exist, "%s: already exists", what)
		}
		raw := a.pos("URL")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return a.errf(nserr.ArgValBad, "%s: URL %q: want http:// or https://host/path", what, raw)
		}
		if u.User != nil {
			return a.errf(nserr.ArgValBad, "%s: URL: no credentials in the URL (use -secret)", what)
		}
		w = &Webhook{Name: name, URL: raw, Args: a.optArgs(), Pos: cmd.Pos}
		c.Webhooks.Put(name, w)
		a.owner = w
		return nil
	}
	if !ok {
		return a.errf(nserr.NoEnt, "%s: no such webhook", what)
	}
	switch cmd.Spec.Verb {
	case "rm":
		c.Webhooks.Delete(name)
	case "set":
		a.merge(&w.Args)
	case "unset":
		a.unset(&w.Args)
	}
	return nil
}

func (b *builder) webhooks() {
	b.s.Webhooks = nil
	for _, w := range b.c.Webhooks.All() {
		info := WebhookInfo{Name: w.Name, URL: w.URL, Secret: w.Args.Get("secret")}
		if v, ok := w.Args.Val("events"); ok {
			for _, k := range v.Values {
				info.Events = append(info.Events, strings.ToLower(k))
			}
		}
		b.s.Webhooks = append(b.s.Webhooks, info)
	}
}

// webhooks writes the add gslb webhook lines (with the configuration's
// other gslbd-only lines, after the monitors).
func (w *writer) webhooks(c *Config) {
	for _, h := range c.Webhooks.All() {
		if !w.raw(h, slotMain) {
			w.putEntity(w.entity("gslb webhook", []string{h.Name, h.URL}, nil, &h.Args, h.Pos, true))
		}
	}
}
