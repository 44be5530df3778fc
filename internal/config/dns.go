package config

// This file holds DNS zones and records: their model, the commands that
// change them, how Build makes the authoritative zones, and how they are
// written.

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Zone is `add dns zone`.
type Zone struct {
	Name string
	Args Args
	Pos  nsconf.Pos
}

// Record is one `add dns <kind>` line: Kind is the schema group's second
// word ("soaRec", "addRec"...), Name the owner, Data the further positionals.
type Record struct {
	Kind string
	Name string
	Data []string
	Args Args
	Pos  nsconf.Pos
}

func (z *Zone) clone() *Zone { x := *z; x.Args = z.Args.clone(); return &x }

func (r *Record) clone() *Record {
	x := *r
	x.Args = r.Args.clone()
	x.Data = slices.Clone(r.Data)
	return &x
}

// zone applies add/set/rm dns zone.
func (a *applier) zone() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("zoneName")
	switch cmd.Spec.Verb {
	case "add":
		if _, ok := c.Zones.Get(name); ok {
			return a.errf(nserr.ZoneExists, "dns zone %q: already configured", name)
		}
		z := &Zone{Name: name, Args: a.optArgs(), Pos: cmd.Pos}
		c.Zones.Put(name, z)
		a.owner = z
	case "set":
		z, ok := c.Zones.Edit(name)
		if !ok {
			return a.errf(nserr.NoEnt, "dns zone %q: no such zone", name)
		}
		a.owner = z
		a.merge(&z.Args)
	case "rm":
		z, ok := c.Zones.Get(name)
		if !ok {
			return a.errf(nserr.NoEnt, "dns zone %q: no such zone", name)
		}
		a.owner = z
		c.Zones.Delete(name)
	}
	return nil
}

// record applies add/set/unset/rm dns <kind>Rec.
func (a *applier) record() *nsconf.Error {
	c, cmd := a.c, a.cmd
	kind := strings.TrimPrefix(cmd.Spec.Group, "dns ")
	name := cmd.Positional[0].Value()
	var data []string
	for _, p := range cmd.Positional[1:] {
		data = append(data, p.Values...)
	}
	label := "dns " + kind + " " + strconv.Quote(name)
	same := c.recordsNamed(kind, name)
	switch cmd.Spec.Verb {
	case "add":
		r := &Record{Kind: kind, Name: name, Data: data, Args: a.optArgs(), Pos: cmd.Pos}
		for _, o := range same {
			if sameData(kind, o, r) {
				return a.errf(nserr.Exist, "%s: already exists", label)
			}
		}
		switch kind {
		case "soaRec":
			if !r.Args.Has("originServer") || !r.Args.Has("contact") {
				return a.errf(nserr.ArgMissing, "%s: -originServer and -contact are required", label)
			}
		case "mxRec":
			if !r.Args.Has("mx") || !r.Args.Has("pref") {
				return a.errf(nserr.ArgMissing, "%s: -mx and -pref are required", label)
			}
		case "srvRec":
			for _, k := range []string{"priority", "weight", "port"} {
				if !r.Args.Has(k) {
					return a.errf(nserr.ArgMissing, "%s: -%s is required", label, k)
				}
			}
		}
		c.Records = append(c.Records, r)
		c.ownRecord(r)
		a.owner = r
	case "set", "unset":
		i := slices.IndexFunc(same, func(o *Record) bool { return kind != "mxRec" || o.Args.Get("mx") == cmd.Get("mx") })
		if i < 0 {
			return a.errf(nserr.NoEnt, "%s: no such record", label)
		}
		target := c.editRecord(same[i])
		a.owner = target
		if cmd.Spec.Verb == "set" {
			a.merge(&target.Args)
		} else {
			a.unset(&target.Args)
		}
	case "rm":
		// Records may be shared with the parent config: build a new slice
		// and never change a shared record in place.
		touched := false
		kept := make([]*Record, 0, len(c.Records))
		for _, o := range c.Records {
			if o.Kind != kind || o.Name != name {
				kept = append(kept, o)
				continue
			}
			switch kind {
			case "mxRec", "srvRec", "nsRec":
				match := len(data) == 0 || (kind == "mxRec" && o.Args.Get("mx") == data[0]) ||
					(kind != "mxRec" && len(o.Data) > 0 && o.Data[0] == data[0])
				touched = touched || match
				if !match {
					kept = append(kept, o)
				}
			case "addRec", "aaaaRec", "txtRec", "ptrRec":
				left := o.Data[:0:0]
				if len(data) > 0 {
					left = slices.DeleteFunc(slices.Clone(o.Data), func(d string) bool { return slices.Contains(data, d) })
				}
				switch {
				case len(left) == len(o.Data):
					kept = append(kept, o)
				case len(left) > 0:
					x := o.clone()
					x.Data = left
					kept = append(kept, x)
					c.ownRecord(x)
					touched = true
				default:
					touched = true
				}
			default:
				touched = true
			}
		}
		c.Records = kept
		c.recIndex = nil // rebuilt on the next use
		if !touched {
			return a.errf(nserr.NoEnt, "%s: no such record", label)
		}
	}
	return nil
}

// recordsNamed returns the records of a kind and owner name, through an
// index built on first use (so that a file of 100,000 records checks each
// add against its own name, not every record). The index lives while
// commands are applied to this Config; Clone does not share it.
func (c *Config) recordsNamed(kind, name string) []*Record {
	if c.recIndex == nil {
		c.recIndex = make(map[string][]*Record, len(c.Records))
		for _, r := range c.Records {
			k := r.Kind + "\x00" + r.Name
			c.recIndex[k] = append(c.recIndex[k], r)
		}
	}
	return c.recIndex[kind+"\x00"+name]
}

// ownRecord adds a new record to the index and marks it this config's
// own (changeable in place).
func (c *Config) ownRecord(r *Record) {
	if c.ownRecords == nil {
		c.ownRecords = map[*Record]bool{}
	}
	c.ownRecords[r] = true
	if c.recIndex != nil {
		k := r.Kind + "\x00" + r.Name
		c.recIndex[k] = append(c.recIndex[k], r)
	}
}

// editRecord returns r to change: r itself when this config owns it, else
// a copy that replaces it (records are shared with the parent config).
func (c *Config) editRecord(r *Record) *Record {
	if c.ownRecords[r] {
		return r
	}
	x := r.clone()
	c.Records[slices.Index(c.Records, r)] = x
	c.recIndex = nil
	c.ownRecord(x)
	return x
}

func sameData(kind string, a, b *Record) bool {
	switch kind {
	case "soaRec", "cnameRec":
		return true
	case "mxRec":
		return a.Args.Get("mx") == b.Args.Get("mx")
	}
	return slices.Equal(a.Data, b.Data)
}

// ZoneInfo is one authoritative zone with its static records.
type ZoneInfo struct {
	Apex     string // lower-case, no trailing dot ("" never)
	Implicit bool   // made for a GSLB domain outside every configured zone
	Records  []RecordInfo
}

// RecordInfo is one resource record in text form.
type RecordInfo struct {
	Type string // SOA NS A AAAA CNAME MX TXT SRV PTR
	Name string
	TTL  uint32
	Data []string // type-specific fields, as the zone package reads them
}

// zones builds the authoritative zones: one per `add dns zone` or SOA
// record, plus an implicit zone for each GSLB domain outside all of them.
func (b *builder) zones() {
	if b.prev != nil && !b.c.Zones.changed && slices.Equal(b.c.Records, b.pc.Records) && b.s.Domains.SameKeys(b.prev.Domains) {
		b.s.Zones, b.s.ZoneOf, b.s.zoneWarnings = b.prev.Zones, b.prev.ZoneOf, b.prev.zoneWarnings
		return
	}
	b.warn = &b.s.zoneWarnings
	defer func() { b.warn = nil }()
	apexes := map[string]*ZoneInfo{}
	var order []string
	addZone := func(apex string, implicit bool) *ZoneInfo {
		if z, ok := apexes[apex]; ok {
			return z
		}
		z := &ZoneInfo{Apex: apex, Implicit: implicit}
		apexes[apex] = z
		order = append(order, apex)
		return z
	}
	for _, z := range b.c.Zones.All() {
		if z.Args.Get("proxyMode") == "YES" {
			continue // proxy zones are not authoritative here
		}
		addZone(z.Name, false)
	}
	hasSOA := map[string]bool{}
	for _, r := range b.c.Records {
		if r.Kind == "soaRec" {
			addZone(r.Name, false)
			hasSOA[r.Name] = true
		}
	}
	zoneOf := func(name string) *ZoneInfo {
		for n := name; ; {
			if z, ok := apexes[n]; ok {
				return z
			}
			i := strings.IndexByte(n, '.')
			if i < 0 {
				return nil
			}
			n = n[i+1:]
		}
	}
	// Implicit zones for GSLB domains (NetScaler answers them with SOA/NS of
	// the ADNS service).
	var domains []string
	for d := range b.s.Domains.All() {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	for _, d := range domains {
		if zoneOf(d) == nil {
			addZone(d, true)
		}
	}
	a := map[string]int{}
	aaaa := map[string]int{}
	cnames := map[string]string{}
	owners := map[string]string{} // name -> a non-CNAME type present
	for _, r := range b.c.Records {
		z := zoneOf(r.Name)
		if z == nil {
			// Records outside every zone (root hints of default saved
			// configs) are kept but not served.
			continue
		}
		ttl := uint32(getInt(&r.Args, "dns "+r.Kind, "TTL")) // schema default 3600
		add := func(typ string, data ...string) {
			z.Records = append(z.Records, RecordInfo{Type: typ, Name: r.Name, TTL: ttl, Data: data})
			if typ != "CNAME" {
				owners[r.Name] = typ
			}
		}
		what := fmt.Sprintf("dns %s %q", r.Kind, r.Name)
		switch r.Kind {
		case "soaRec":
			if r.Name != z.Apex {
				continue
			}
			g := "dns soaRec"
			add("SOA", r.Args.Get("originServer"), r.Args.Get("contact"), get(&r.Args, g, "serial"), get(&r.Args, g, "refresh"),
				get(&r.Args, g, "retry"), get(&r.Args, g, "expire"), get(&r.Args, g, "minimum"))
		case "nsRec":
			add("NS", r.Data[0])
		case "addRec", "aaaaRec":
			typ, count, limit, code := "A", a, MaxARecords, nserr.MaxA
			if r.Kind == "aaaaRec" {
				typ, count, limit, code = "AAAA", aaaa, MaxAAAARecord, nserr.MaxAAAA
			}
			for _, ip := range r.Data {
				addr, _ := netip.ParseAddr(ip)
				if (typ == "A") != addr.Is4() {
					b.errf(r.Pos, nserr.InvalidIP, "%s: %s is not an %s address", what, ip, map[bool]string{true: "IPv4", false: "IPv6"}[typ == "A"])
					continue
				}
				count[r.Name]++
				if count[r.Name] == limit+1 {
					// Deviation: the appliance refuses more (1962/1963);
					// gslbd serves an RRset of any size, truncated over
					// UDP when it does not fit and whole over TCP.
					b.warnCode(r.Pos, code, "%s: more than %d addresses for one name: an appliance refuses this file; gslbd serves them all", what, limit)
				}
				add(typ, ip)
			}
			if d, ok := b.s.Domains.Get(r.Name); ok {
				code := nserr.StaticAConflict
				if typ == "AAAA" {
					code = nserr.StaticAAAAConfl
				}
				b.errf(r.Pos, code, "%s: the name is a GSLB domain of gslb vserver %q", what, d.VServer)
			}
		case "cnameRec":
			if _, ok := b.s.Domains.Get(r.Name); ok {
				b.errf(r.Pos, nserr.StaticAConflict, "%s: the name is a GSLB domain", what)
			}
			cnames[r.Name] = r.Data[0]
			z.Records = append(z.Records, RecordInfo{Type: "CNAME", Name: r.Name, TTL: ttl, Data: r.Data})
		case "mxRec":
			add("MX", r.Args.Get("pref"), r.Args.Get("mx"))
		case "txtRec":
			add("TXT", r.Data...)
		case "srvRec":
			add("SRV", r.Args.Get("priority"), r.Args.Get("weight"), r.Args.Get("port"), r.Data[0])
		case "ptrRec":
			for _, d := range r.Data {
				add("PTR", d)
			}
		}
	}
	for _, r := range b.c.Records {
		if r.Kind != "cnameRec" {
			continue
		}
		if t, ok := owners[r.Name]; ok && t != "" {
			b.errf(r.Pos, nserr.Inval, "dns cnameRec %q: the name also has %s data (RFC 1034 §3.6.2)", r.Name, t)
		}
		// CNAME loops (2006).
		seen := map[string]bool{r.Name: true}
		for n := cnames[r.Name]; n != ""; n = cnames[n] {
			if seen[n] {
				b.errf(r.Pos, nserr.CNAMELoop, "dns cnameRec %q: CNAME chain loops at %q", r.Name, n)
				break
			}
			seen[n] = true
		}
	}
	adns := b.adnsAddrs()
	for _, apex := range order {
		z := apexes[apex]
		if !hasSOA[apex] {
			// Deviation: NetScaler needs an SOA record per zone; gslbd
			// makes one for `add dns zone` without it and for implicit zones.
			z.Records = append(z.Records, RecordInfo{Type: "SOA", Name: apex, TTL: 3600,
				Data: []string{"ns1." + apex, "hostmaster." + apex, "100", "3600", "3", "3600", "5"}})
			hasNS := slices.ContainsFunc(z.Records, func(r RecordInfo) bool { return r.Type == "NS" && r.Name == apex })
			if !hasNS {
				z.Records = append(z.Records, RecordInfo{Type: "NS", Name: apex, TTL: 3600, Data: []string{"ns1." + apex}})
				for _, ip := range adns {
					typ := "A"
					if ip.Is6() {
						typ = "AAAA"
					}
					z.Records = append(z.Records, RecordInfo{Type: typ, Name: "ns1." + apex, TTL: 3600, Data: []string{ip.String()}})
				}
			}
		}
		b.s.Zones = append(b.s.Zones, z)
	}
	b.s.ZoneOf = make(map[string]string, b.s.Domains.Len())
	for _, d := range b.s.Domains.All() {
		if z := zoneOf(d.Name); z != nil {
			b.s.ZoneOf[d.Name] = z.Apex
		}
	}
}

func (b *builder) adnsAddrs() []netip.Addr {
	var out []netip.Addr
	for _, l := range b.s.Listeners {
		if !slices.Contains(out, l.Addr.Addr()) && !l.Addr.Addr().IsUnspecified() {
			out = append(out, l.Addr.Addr())
		}
	}
	return out
}

// dns writes the zones, then the records kind by kind.
func (w *writer) dns(c *Config) {
	for _, z := range c.Zones.All() {
		if !w.raw(z, slotMain) {
			w.putEntity(w.entity("dns zone", []string{z.Name}, nil, &z.Args, z.Pos, true))
		}
	}
	for _, kind := range []string{"soaRec", "nsRec", "addRec", "aaaaRec", "cnameRec", "mxRec", "txtRec", "srvRec", "ptrRec"} {
		for _, r := range c.Records {
			if r.Kind == kind && !w.raw(r, slotMain) {
				w.putEntity(w.entity("dns "+kind, append([]string{r.Name}, r.Data...), nil, &r.Args, r.Pos, true))
			}
		}
	}
}
