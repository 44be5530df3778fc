package config

// This file holds gslb site: its model, the commands that change it, how
// Build types and checks it, and how it is written.

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Site is a GSLB site.
type Site struct {
	Name string
	Type string // LOCAL, REMOTE, or "" for auto-detect
	IP   string
	Args Args
	Pos  nsconf.Pos
}

func (s *Site) clone() *Site { x := *s; x.Args = s.Args.clone(); return &x }

func (a *applier) addSite() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("siteName")
	if _, ok := c.Sites.Get(name); ok {
		return a.errf(nserr.Exist, "gslb site %q: already exists", name)
	}
	s := &Site{Name: name, Type: a.pos("siteType"), IP: a.pos("siteIPAddress"), Args: a.optArgs(), Pos: cmd.Pos}
	if s.Args.Has("parentSite") && s.Args.Has("backupParentlist") {
		return a.errf(nserr.ArgsMutex, "gslb site %q: -parentSite and -backupParentlist are mutually exclusive on add", name)
	}
	c.Sites.Put(name, s)
	a.owner = s
	return nil
}

// site applies set/unset/rm/rename gslb site.
func (a *applier) site() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("siteName")
	s, ok := c.Sites.Edit(name)
	if !ok {
		return a.errf(nserr.SiteNotFound, "gslb site %q: no such site", name)
	}
	a.owner = s
	switch cmd.Spec.Verb {
	case "set":
		a.merge(&s.Args)
	case "unset":
		a.unset(&s.Args)
	case "rm":
		for _, svc := range c.Services.All() {
			if strings.EqualFold(svc.Args.Get("siteName"), name) {
				return a.errf(nserr.Inval, "gslb site %q: gslb service %q still belongs to it", name, svc.Name)
			}
		}
		c.Sites.Delete(name)
	case "rename":
		nn := a.pos("newName")
		if _, ok := c.Sites.Get(nn); ok && !strings.EqualFold(nn, name) {
			return a.errf(nserr.Exist, "gslb site %q: already exists", nn)
		}
		c.renameSite(s, nn)
	}
	return nil
}

func (c *Config) renameSite(s *Site, nn string) {
	old := s.Name
	c.Sites.Rename(old, nn, s)
	s.Name = nn
	for _, svc := range c.Services.All() {
		if strings.EqualFold(svc.Args.Get("siteName"), old) {
			svc, _ = c.Services.Edit(svc.Name)
			renameArg(&svc.Args, "siteName", nn)
		}
	}
	for _, g := range c.ServiceGroups.All() {
		if strings.EqualFold(g.Args.Get("siteName"), old) {
			g, _ = c.ServiceGroups.Edit(g.Name)
			renameArg(&g.Args, "siteName", nn)
		}
	}
	for _, o := range c.Sites.All() {
		if strings.EqualFold(o.Args.Get("parentSite"), old) {
			o, _ = c.Sites.Edit(o.Name)
			renameArg(&o.Args, "parentSite", nn)
		}
		if v, ok := o.Args.Val("backupParentlist"); ok && slices.ContainsFunc(v.Values, func(p string) bool { return strings.EqualFold(p, old) }) {
			v.Values = slices.Clone(v.Values)
			for i, p := range v.Values {
				if strings.EqualFold(p, old) {
					v.Values[i] = nn
				}
			}
			o, _ = c.Sites.Edit(o.Name)
			o.Args.Set(v)
		}
	}
}

// SiteInfo is a typed GSLB site.
type SiteInfo struct {
	Name     string
	Local    bool
	IP       netip.Addr
	PublicIP netip.Addr
	Parent   string
	// BackupParents is -backupParentlist, in order.
	BackupParents []string
	// TriggerMonitor is -triggerMonitor (ALWAYS, MEPDOWN, MEPDOWN_SVCDOWN).
	TriggerMonitor string
	// MetricExchange, NWMetricExchange and SessionExchange are the
	// site's exchange channels (-metricExchange ...).
	MetricExchange, NWMetricExchange, SessionExchange bool
	// Password is -sitePassword as written (the plain exchange port's
	// key; an appliance writes it encrypted, and every gslbd of the
	// deployment reads the same text).
	Password string
	// Location is -location (gslbd): where the site's services are for
	// static proximity when they have none of their own (nil: unset).
	Location *location.Location
}

func (b *builder) sites(owned map[netip.Addr]bool) {
	var v4, v6 bool
	ips := map[netip.Addr]string{}
	peers, children := 0, 0
	for _, s := range b.c.Sites.All() {
		ip, _ := netip.ParseAddr(s.IP)
		const g = "gslb site"
		info := &SiteInfo{Name: s.Name, IP: ip, Parent: s.Args.Get("parentSite"), TriggerMonitor: get(&s.Args, g, "triggerMonitor"),
			MetricExchange: enabled(&s.Args, g, "metricExchange"), NWMetricExchange: enabled(&s.Args, g, "nwMetricExchange"),
			SessionExchange: enabled(&s.Args, g, "sessionExchange")}
		info.PublicIP, _ = netip.ParseAddr(s.Args.Get("publicIP"))
		info.Password = s.Args.Get("sitePassword")
		info.Location = b.locationArg(&s.Args, fmt.Sprintf("gslb site %q", s.Name))
		switch {
		case b.c.Self != "":
			info.Local = strings.EqualFold(s.Name, b.c.Self)
		case s.Type == "LOCAL":
			info.Local = true
		case s.Type == "":
			info.Local = owned[ip]
		}
		if info.Local {
			if b.s.LocalSite != "" {
				b.errf(s.Pos, nserr.LocalSiteExists, "gslb site %q: a local site already exists (%q)", s.Name, b.s.LocalSite)
			} else {
				b.s.LocalSite = s.Name
			}
			if t := s.Args.Get("triggerMonitor"); t != "" && t != "ALWAYS" && b.c.Self == "" {
				// (With -site, one file serves every site: the option is
				// meant for where the site is remote.)
				b.warnCode(s.Args.Pos("triggerMonitor"), nserr.TriggerMonitorLocal,
					"gslb site %q: -triggerMonitor %s has no meaning for the local site: its monitors always probe", s.Name, t)
			}
		}
		if other, dup := ips[ip]; dup {
			b.errf(s.Pos, nserr.SiteIPExists, "gslb site %q: site IP %s is already used by site %q", s.Name, ip, other)
		}
		ips[ip] = s.Name
		if ip.Is4() {
			v4 = true
		} else {
			v6 = true
		}
		if v4 && v6 {
			b.errf(s.Pos, nserr.MixedSiteFamily, "gslb site %q: IPv4 and IPv6 site IPs cannot be mixed", s.Name)
			v4, v6 = ip.Is4(), ip.Is6()
		}
		if info.Parent != "" {
			children++
			p, ok := b.c.Sites.Get(info.Parent)
			switch {
			case !ok:
				b.errf(s.Args.Pos("parentSite"), nserr.SiteNotFound, "gslb site %q: unknown parent site %q", s.Name, info.Parent)
			case p.Args.Get("parentSite") != "":
				b.errf(s.Args.Pos("parentSite"), nserr.Inval, "gslb site %q: parent site %q is itself a child site", s.Name, info.Parent)
			default:
				info.Parent = p.Name
			}
			for _, k := range []string{"nwMetricExchange", "sessionExchange"} {
				if s.Args.Get(k) == "ENABLED" {
					b.errf(s.Args.Pos(k), 3017, "gslb site %q: -%s cannot be enabled on a child site", s.Name, k)
				}
			}
		} else {
			peers++
		}
		if v, ok := s.Args.Val("backupParentlist"); ok {
			for _, p := range v.Values {
				switch bp, ok := b.c.Sites.Get(p); {
				case strings.EqualFold(p, "None"):
				case !ok:
					b.errf(v.Pos, nserr.SiteNotFound, "gslb site %q: unknown backup parent site %q", s.Name, p)
				default:
					info.BackupParents = append(info.BackupParents, bp.Name)
				}
			}
		}
		b.s.Sites = append(b.s.Sites, info)
	}
	if b.c.Self != "" && b.s.LocalSite == "" {
		b.errf(nsconf.Pos{File: b.fileName()}, nserr.SiteNotFound, "-site %q: the configuration has no such gslb site", b.c.Self)
	}
	if peers > MaxPeerSites {
		b.errf(nsconf.Pos{File: b.fileName()}, nserr.MaxSites, "at most %d parent/peer sites are allowed, found %d", MaxPeerSites, peers)
	}
	if children > MaxChildSites {
		b.errf(nsconf.Pos{File: b.fileName()}, nserr.MaxChildSites, "at most %d child sites are allowed, found %d", MaxChildSites, children)
	}
}

func (b *builder) site(name string) *SiteInfo {
	for _, s := range b.s.Sites {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

func (b *builder) fileName() string {
	for _, s := range b.c.Sites.All() {
		return s.Pos.File
	}
	return ""
}

// sites writes the sites, parents before their children, then their set
// lines (-backupParentlist names other sites).
func (w *writer) sites(c *Config) {
	var sets []wline
	for _, s := range sitesParentsFirst(c) {
		if w.raw(s, slotMain) {
			continue
		}
		pos := []string{s.Name}
		if s.Type != "" {
			pos = append(pos, s.Type)
		}
		add, ss := w.entity("gslb site", append(pos, s.IP), nil, &s.Args, s.Pos, true, "backupParentlist")
		w.put(*add)
		sets = append(sets, ss...)
	}
	w.put(sets...)
}

// sitesParentsFirst orders sites so that a parent precedes its children.
func sitesParentsFirst(c *Config) []*Site {
	var parents, children []*Site
	for _, s := range c.Sites.All() {
		if s.Args.Has("parentSite") {
			children = append(children, s)
		} else {
			parents = append(parents, s)
		}
	}
	return append(parents, children...)
}
