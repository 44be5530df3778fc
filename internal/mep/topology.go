package mep

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file derives who talks to whom from a configuration (docs/mep.md,
// "Who connects to whom").

// Ports are the exchange's ports (the same at every site).
type Ports struct {
	TLS   uint16 // 3009
	Plain uint16 // 3011
	// AllowPlain opens the plain port (and dials peers on it) for sites
	// with a -sitePassword. Off by default: it authenticates but does
	// not encrypt.
	AllowPlain bool
}

// DefaultPorts are NetScaler's.
var DefaultPorts = Ports{TLS: 3009, Plain: 3011}

// FromSnapshot is the Node configuration for the local site of s: its
// links to the other parent sites (the lower ordering key dials), to its
// child sites (it dials them) or, for a child, to its parent (which dials
// it). ok is false when the configuration has no local site, the local
// site's -metricExchange is DISABLED, or it has no site to exchange with.
func FromSnapshot(s *config.Snapshot, ports Ports) (cfg Config, ok bool) {
	var self *config.SiteInfo
	for _, si := range s.Sites {
		if si.Local {
			self = si
		}
	}
	if self == nil || !self.MetricExchange {
		return Config{}, false
	}
	cfg = Config{Site: self.Name, Role: wire.Role_PARENT, Listen: netip.AddrPortFrom(self.IP, ports.TLS),
		Learning: s.Param.SvcStateLearningTime}
	// -MEPKeepAliveTimeout when written; else gslbd's shorter default
	// (NetScaler's 10 s default would keep a dead site in answers 5x
	// longer).
	if s.Config != nil && s.Config.Parameter.Get("MEPKeepAliveTimeout") != "" {
		cfg.KeepAlive = s.Param.MEPKeepAliveTimeout
	}
	if self.Parent != "" {
		cfg.Role = wire.Role_CHILD
	}
	if ports.AllowPlain {
		cfg.Plain = true
		if self.Password != "" {
			cfg.PlainListen = netip.AddrPortFrom(self.IP, ports.Plain)
			cfg.PSK = []byte(self.Password)
		}
	}
	port := ports.TLS
	if ports.AllowPlain {
		port = ports.Plain
	}
	for _, si := range s.Sites {
		if si == self || !si.MetricExchange {
			continue
		}
		p := Peer{Name: si.Name, Role: wire.Role_PARENT, Addr: netip.AddrPortFrom(dialAddr(si), port), PSK: []byte(si.Password)}
		switch {
		case cfg.Role == wire.Role_CHILD:
			// A child talks to its parent and its backup parents only;
			// they dial it.
			if !strings.EqualFold(si.Name, self.Parent) && !slices.ContainsFunc(self.BackupParents, func(b string) bool { return strings.EqualFold(b, si.Name) }) {
				continue
			}
		case si.Parent == "":
			p.Dial = orderKey(self).Less(orderKey(si))
			p.Sessions = self.SessionExchange && si.SessionExchange
		case strings.EqualFold(si.Parent, self.Name):
			p.Role, p.Dial = wire.Role_CHILD, true
		default:
			// Another parent's child: its state comes through that parent,
			// or through the backup parent that adopted it.
			if cfg.Relayed == nil {
				cfg.Relayed = map[string][]string{}
			}
			cfg.Relayed[strings.ToLower(si.Name)] = append([]string{si.Parent}, si.BackupParents...)
			if k := slices.IndexFunc(si.BackupParents, func(b string) bool { return strings.EqualFold(b, self.Name) }); k >= 0 {
				p.Role, p.Dial = wire.Role_CHILD, true
				cfg.Adoptable = append(cfg.Adoptable, Adoption{Child: p, Parent: si.Parent, Before: si.BackupParents[:k]})
			}
			continue
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	return cfg, len(cfg.Peers) > 0
}

// dialAddr is where a site is reached: its public IP if it has one.
func dialAddr(si *config.SiteInfo) netip.Addr {
	if si.PublicIP.IsValid() {
		return si.PublicIP
	}
	return si.IP
}

// orderKey is a site's ordering key: its public IP if configured, else
// its site IP, as a 16-byte (IPv4-mapped) value.
func orderKey(si *config.SiteInfo) netip.Addr {
	a := dialAddr(si)
	if a.Is4() {
		return netip.AddrFrom16(a.As16())
	}
	return a
}
