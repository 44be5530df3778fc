package mep

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

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
		Source: self.IP, Learning: s.Param.SvcStateLearningTime, Digest: sync.OnceValue(func() []byte { return Digest(s) })}
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
			p.NWMetrics = self.NWMetricExchange && si.NWMetricExchange
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

// Digest is the hash of the GSLB configuration a site believes in, sent
// in HELLO: the sites (names, addresses, parents), the GSLB services
// (name, site, type, address) and the vservers (method, backup, bound
// services with weights, domains). It leaves out what may differ between
// the sites' files without meaning a different deployment: which site is
// LOCAL, site passwords, timers, kept lb/cs/ssl lines. Two sites with
// different digests still exchange (NetScaler tolerates drift too); the
// link says so (LinkStatus.ConfigMismatch, a log line).
func Digest(s *config.Snapshot) []byte {
	var lines []string
	for _, si := range s.Sites {
		lines = append(lines, fmt.Sprintf("site %s %s %s %s %s", strings.ToLower(si.Name), si.IP, si.PublicIP,
			strings.ToLower(si.Parent), strings.ToLower(strings.Join(si.BackupParents, ","))))
	}
	for _, sv := range s.Services {
		lines = append(lines, fmt.Sprintf("service %s %s %s %s %d", strings.ToLower(sv.Name), strings.ToLower(sv.Site), sv.Type, sv.IP, sv.Port))
	}
	for _, vs := range s.VServers {
		var bound, domains []string
		for _, b := range vs.Bindings {
			bound = append(bound, fmt.Sprintf("%s/%d", strings.ToLower(b.Service.Name), b.Weight))
		}
		for _, d := range vs.Domains {
			domains = append(domains, d.Name)
		}
		slices.Sort(bound)
		slices.Sort(domains)
		lines = append(lines, fmt.Sprintf("vserver %s %s %s %s %s %s", strings.ToLower(vs.Name), vs.Method, vs.BackupMethod,
			strings.ToLower(vs.Backup), strings.Join(bound, ","), strings.Join(domains, ",")))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}
