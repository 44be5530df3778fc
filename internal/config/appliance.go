package config

// This file holds the appliance entities gslbd models in part: features,
// NS IPs, servers and services (ADNS services are the DNS listeners).

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Server is `add server`: a name for an address.
type Server struct {
	Name string
	Addr string // IP address or domain
	Args Args
	Pos  nsconf.Pos
}

// AppService is an `add service` line. ADNS / ADNS_TCP services are the DNS
// listeners; other types are kept and re-emitted.
type AppService struct {
	Name   string
	Target string // IP or server name
	Type   string
	Port   int
	Args   Args
	Rest   []string
	Pos    nsconf.Pos
	// Builtin marks one of the appliance's own services, which saved
	// files only set (set service nshttpd-gui-127.0.0.1-80 -cip ENABLED).
	Builtin bool
}

// builtinService tells whether name is one of the services an appliance
// makes for itself, and which: ns<kind>-<IP>-<port> (nshttpd-gui,
// nshttpd-vpn, nshttps, nsrpcs, nskrpcs, nsrnatsip... on 127.0.0.1, on
// ::1, written "::1l", or on one of the box's own addresses), and the
// Gateway's vpndbssvc_<n>. Saved files set them without adding them.
func builtinService(name string) (*AppService, bool) {
	if n, ok := strings.CutPrefix(name, "vpndbssvc_"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return &AppService{Name: name, Type: "SSL", Builtin: true}, true
		}
		return nil, false
	}
	if !strings.HasPrefix(name, "ns") {
		return nil, false
	}
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return nil, false
	}
	port, err := strconv.Atoi(name[i+1:])
	if err != nil || port < 1 || port > 65535 {
		return nil, false
	}
	rest := name[:i]
	j := strings.LastIndexByte(rest, '-')
	if j < 0 {
		return nil, false
	}
	kind, ip := rest[:j], rest[j+1:]
	if ip == "::1l" {
		ip = "::1"
	}
	if _, err := netip.ParseAddr(ip); err != nil {
		return nil, false
	}
	typ := "SSL" // nshttps, nsrpcs, nskrpcs, nsrnatsip: the appliance binds certificates to them
	if strings.HasPrefix(kind, "nshttpd") {
		typ = "HTTP"
	}
	return &AppService{Name: name, Target: ip, Type: typ, Port: port, Builtin: true}, true
}

func (s *Server) clone() *Server { x := *s; x.Args = s.Args.clone(); return &x }

func (s *AppService) clone() *AppService {
	x := *s
	x.Args = s.Args.clone()
	x.Rest = slices.Clone(s.Rest)
	return &x
}

// feature applies enable/disable ns feature.
func (a *applier) feature() {
	c, cmd := a.c, a.cmd
	a.owner = featuresKey
	if cmd.Spec.Verb == "enable" {
		for _, f := range cmd.Arg("feature").Values {
			f = upperASCII(f)
			if f != "" && !slices.Contains(c.Features, f) {
				c.Features = append(c.Features, f)
			}
		}
		return
	}
	for _, f := range cmd.Arg("feature").Values {
		c.Features = slices.DeleteFunc(c.Features, func(x string) bool { return strings.EqualFold(x, f) })
	}
}

// upperASCII upper-cases the ASCII letters of s and keeps every other
// byte: strings.ToUpper turns each byte that is not UTF-8 into U+FFFD
// (three bytes), so a value could grow past its length limit and the
// written file stop parsing.
func upperASCII(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'a' || s[i] > 'z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// nsIP keeps add ns ip / ip6 verbatim and notes its address (it marks the
// local site).
func (a *applier) nsIP() {
	c, cmd := a.c, a.cmd
	ip := cmd.Positional[0].Value()
	if i := strings.IndexByte(ip, '/'); i >= 0 {
		ip = ip[:i]
	}
	c.NSIPs = append(c.NSIPs, NSIP{Addr: ip, Raw: cmd.Raw, Pos: cmd.Pos})
	a.kept = a.doc // a Document line: written back as read, in its place
}

// server applies add/rm server.
func (a *applier) server() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if cmd.Spec.Verb == "add" {
		if _, ok := c.Servers.Get(name); ok {
			return a.errf(nserr.Exist, "server %q: already exists", name)
		}
		s := &Server{Name: name, Addr: a.pos("IPAddress"), Args: a.optArgs(), Pos: cmd.Pos}
		c.Servers.Put(name, s)
		a.owner = s
		return nil
	}
	s, ok := c.Servers.Get(name)
	if !ok {
		return a.errf(nserr.NoEnt, "server %q: no such server", name)
	}
	a.owner = s
	c.Servers.Delete(name)
	return nil
}

// addAppService applies add service (ADNS listeners; other types kept).
func (a *applier) addAppService() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	if _, ok := c.AppServices.Get(name); ok {
		return a.errf(nserr.Exist, "service %q: already exists", name)
	}
	s := &AppService{Name: name, Target: a.pos("IP"), Type: a.pos("serviceType"), Port: atoi(a.pos("port")),
		Args: a.optArgs(), Pos: cmd.Pos}
	for _, t := range cmd.Rest {
		s.Rest = append(s.Rest, t.Text)
	}
	c.AppServices.Put(name, s)
	a.owner = s
	return nil
}

// appService applies set/rm/enable/disable service.
func (a *applier) appService() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("name")
	s, ok := c.AppServices.Edit(name)
	if !ok {
		if gs, ok := c.Services.Get(name); ok && (cmd.Spec.Verb == "enable" || cmd.Spec.Verb == "disable") {
			// A GSLB service is a service to the appliance: NITRO clients
			// (Terraform, Ansible) enable and disable it as one.
			gs, _ = c.Services.Edit(gs.Name)
			a.owner = gs
			if cmd.Spec.Verb == "enable" {
				gs.Args.Unset("state")
			} else {
				gs.Args.SetValue("state", "DISABLED", cmd.Pos)
			}
			return nil
		}
		b, builtin := builtinService(name)
		if !builtin || cmd.Spec.Verb == "rm" {
			return a.errf(nserr.NoEnt, "service %q: no such service", name)
		}
		b.Pos = cmd.Pos
		c.AppServices.Put(name, b)
		s, _ = c.AppServices.Edit(name)
	}
	a.owner = s
	switch cmd.Spec.Verb {
	case "rm":
		if s.Builtin {
			return a.errf(nserr.Inval, "service %q: built-in services cannot be removed", name)
		}
		c.AppServices.Delete(name)
	case "set":
		a.merge(&s.Args)
	case "enable":
		s.Args.Unset("state")
	case "disable":
		s.Args.SetValue("state", "DISABLED", cmd.Pos)
	}
	return nil
}

// NSIP is an `add ns ip` or `add ns ip6` line: gslbd keeps it as written
// and notes its address, which marks the local site.
type NSIP struct {
	Addr string
	Raw  string // the line as read
	Pos  nsconf.Pos
}

// Listener is one DNS socket to open.
type Listener struct {
	Service string
	Addr    netip.AddrPort
	UDP     bool
	TCP     bool
}

// resolveTarget returns the address of an IP or a server name.
func (b *builder) resolveTarget(target string, pos nsconf.Pos, what string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(target); err == nil {
		return ip, true
	}
	srv, ok := b.c.Servers.Get(target)
	if !ok {
		b.errf(pos, nserr.NoEnt, "%s: unknown server %q", what, target)
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(srv.Addr)
	if err != nil {
		b.errf(pos, nserr.InvalidIP, "%s: server %q has no IP address (%q); domain-based servers are not supported", what, target, srv.Addr)
		return netip.Addr{}, false
	}
	return ip, true
}

// listeners collects ADNS services and returns the set of addresses the
// box owns (for auto-detecting the local site).
func (b *builder) listeners() map[netip.Addr]bool {
	owned := map[netip.Addr]bool{}
	for _, s := range b.c.NSIPs {
		if ip, err := netip.ParseAddr(s.Addr); err == nil {
			owned[ip] = true
		}
	}
	// With -site, one file holds every site's ADNS services: those at
	// another site's address are that site's to serve.
	others := map[netip.Addr]bool{}
	if b.c.Self != "" {
		for _, s := range b.c.Sites.All() {
			if strings.EqualFold(s.Name, b.c.Self) {
				continue
			}
			for _, a := range []string{s.IP, s.Args.Get("publicIP")} {
				if ip, err := netip.ParseAddr(a); err == nil {
					others[ip] = true
				}
			}
		}
	}
	idx := map[netip.AddrPort]int{}
	for _, svc := range b.c.AppServices.All() {
		if svc.Type != "ADNS" && svc.Type != "ADNS_TCP" {
			continue
		}
		ip, ok := b.resolveTarget(svc.Target, svc.Pos, fmt.Sprintf("service %q", svc.Name))
		if !ok {
			continue
		}
		owned[ip] = true
		if svc.Args.Get("state") == "DISABLED" || others[ip] {
			continue
		}
		ap := netip.AddrPortFrom(ip, uint16(svc.Port))
		i, ok := idx[ap]
		if !ok {
			i = len(b.s.Listeners)
			idx[ap] = i
			b.s.Listeners = append(b.s.Listeners, Listener{Service: svc.Name, Addr: ap})
		}
		// Deviation: an ADNS service answers on UDP and TCP (NetScaler needs
		// a separate ADNS_TCP service for TCP, which truncated answers need).
		b.s.Listeners[i].TCP = true
		if svc.Type == "ADNS" {
			b.s.Listeners[i].UDP = true
		}
	}
	return owned
}

// nsIPs writes the add ns ip lines that are not kept in the Document (all
// of them in canonical form): before the sites, whose type they decide.
func (w *writer) nsIPs(c *Config) {
	for _, ip := range c.NSIPs {
		if k := w.key(ip.Pos); k != 0 {
			w.maxKey = max(w.maxKey, k) // kept in place: new ones after it
		} else {
			w.add(ip.Raw, 0)
		}
	}
}

func (w *writer) servers(c *Config) {
	for _, s := range c.Servers.All() {
		if !w.raw(s, slotMain) {
			w.putEntity(w.entity("server", []string{s.Name, s.Addr}, nil, &s.Args, s.Pos, true))
		}
	}
}

func (w *writer) appServices(c *Config) {
	for _, s := range c.AppServices.All() {
		switch {
		case w.raw(s, slotMain):
		case s.Builtin:
			// Set lines only; a disabled one is a disable line.
			args := s.Args.clone()
			state, _ := args.Val("state")
			args.Unset("state")
			w.putEntity(w.entity("service", []string{s.Name}, nil, &args, s.Pos, false))
			if state.Value() == "DISABLED" {
				w.add("disable service "+nsconf.Quote(s.Name), w.key(state.Pos))
			}
		default:
			w.putEntity(w.entity("service", []string{s.Name, s.Target, s.Type, strconv.Itoa(s.Port)}, s.Rest, &s.Args, s.Pos, true))
		}
	}
}
