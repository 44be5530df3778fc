package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// maxChain bounds CNAME chasing (loops are rejected at config time, but a
// chain through dynamic names could still be long).
const maxChain = 8

type node struct {
	rrsets  map[uint16][]dns.RR
	dynamic bool
}

// Zone is one authoritative zone.
type Zone struct {
	Apex  string // canonical: lower case, trailing dot
	SOA   *dns.SOA
	names map[string]*node
	ent   map[string]bool // empty non-terminals
	cuts  map[string]bool // names below the apex that carry NS (delegations)
}

// Set is every zone served, found by longest suffix match.
type Set struct {
	zones map[string]*Zone
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{zones: map[string]*Zone{}} }

// New creates a zone from its records. The SOA record must be among them.
// dynamic lists names answered by a Dynamic callback.
func New(apex string, rrs []dns.RR, dynamic []string) *Zone {
	z := &Zone{Apex: dns.CanonicalName(apex), names: map[string]*node{}, ent: map[string]bool{}, cuts: map[string]bool{}}
	get := func(name string) *node {
		n := z.names[name]
		if n == nil {
			n = &node{rrsets: map[uint16][]dns.RR{}}
			z.names[name] = n
		}
		return n
	}
	for _, rr := range rrs {
		h := rr.Header()
		h.Name = dns.CanonicalName(h.Name)
		n := get(h.Name)
		n.rrsets[h.Rrtype] = append(n.rrsets[h.Rrtype], rr)
		if soa, ok := rr.(*dns.SOA); ok && h.Name == z.Apex {
			z.SOA = soa
		}
		if h.Rrtype == dns.TypeNS && h.Name != z.Apex {
			z.cuts[h.Name] = true
		}
	}
	for _, d := range dynamic {
		get(dns.CanonicalName(d)).dynamic = true
	}
	for name := range z.names {
		for p := parent(name); p != "" && dns.IsSubDomain(z.Apex, p) && p != z.Apex; p = parent(p) {
			if _, ok := z.names[p]; !ok {
				z.ent[p] = true
			}
		}
	}
	return z
}

func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// Add puts a zone in the set, replacing one with the same apex.
func (s *Set) Add(z *Zone) { s.zones[z.Apex] = z }

// Find returns the zone with the longest apex that contains name
// (canonical form), or nil.
func (s *Set) Find(name string) *Zone {
	for n := name; n != ""; n = parent(n) {
		if z, ok := s.zones[n]; ok {
			return z
		}
		if n == "." {
			break
		}
	}
	if z, ok := s.zones["."]; ok {
		return z
	}
	return nil
}

// Dynamic answers a name registered as dynamic. It returns the records for
// qtype (nil for NODATA) and, for NODATA, nothing else is needed.
type Dynamic func(name string, qtype uint16) []dns.RR

// Result is the outcome of a lookup.
type Result struct {
	Rcode         int
	Authoritative bool
	Answer        []dns.RR
	Ns            []dns.RR
	Extra         []dns.RR
}

// NegativeSOA returns the zone's SOA with the RFC 2308 §5 negative TTL:
// the lesser of the SOA's own TTL and its MINIMUM field.
func (z *Zone) NegativeSOA() dns.RR {
	soa := *z.SOA
	soa.Hdr.Ttl = min(z.SOA.Hdr.Ttl, z.SOA.Minttl)
	return &soa
}

// Lookup answers qname/qtype (qname in canonical form) from the set.
// Answer owner names use qname's spelling as given in owner.
func (s *Set) Lookup(qname string, qtype uint16, dyn Dynamic) Result {
	z := s.Find(qname)
	if z == nil {
		return Result{Rcode: dns.RcodeRefused}
	}
	res := Result{Rcode: dns.RcodeSuccess, Authoritative: true}
	name := qname
	seen := map[string]bool{}
	for hop := 0; hop <= maxChain; hop++ {
		if seen[name] {
			break
		}
		seen[name] = true
		if cut := z.cutFor(name); cut != "" && !(qtype == dns.TypeDS && cut == name) {
			// Referral (RFC 1034 §4.3.2 step 3b). Only a pure referral
			// clears AA; after a CNAME the answer part stays authoritative.
			if len(res.Answer) == 0 {
				res.Authoritative = false
			}
			ns := z.names[cut].rrsets[dns.TypeNS]
			res.Ns = append(res.Ns, ns...)
			res.Extra = append(res.Extra, z.glue(ns)...)
			return res
		}
		n, wildcard := z.names[name], false
		if n == nil {
			if z.ent[name] {
				res.Ns = append(res.Ns, z.NegativeSOA())
				return res
			}
			n = z.wildcard(name)
			if n == nil {
				res.Rcode = dns.RcodeNameError
				res.Ns = append(res.Ns, z.NegativeSOA())
				return res
			}
			wildcard = true
		}
		if n.dynamic && dyn != nil {
			// The callback answers only the types its name serves (nil
			// otherwise), so it is asked for every type.
			if rrs := dyn(name, qtype); len(rrs) > 0 {
				res.Answer = append(res.Answer, rrs...)
				return res
			}
			if rrs, ok := n.rrsets[qtype]; ok {
				res.Answer = append(res.Answer, rrs...)
				return res
			}
			res.Ns = append(res.Ns, z.NegativeSOA())
			return res
		}
		own := func(rrs []dns.RR) []dns.RR {
			if !wildcard {
				return rrs
			}
			out := make([]dns.RR, len(rrs))
			for i, rr := range rrs {
				c := dns.Copy(rr)
				c.Header().Name = name
				out[i] = c
			}
			return out
		}
		if rrs, ok := n.rrsets[qtype]; ok {
			res.Answer = append(res.Answer, own(rrs)...)
			res.Extra = append(res.Extra, s.additional(rrs)...)
			return res
		}
		if qtype == dns.TypeANY && len(n.rrsets) > 0 {
			// RFC 8482 §4.2: answer with one RRset instead of all.
			res.Answer = append(res.Answer, own(n.rrsets[lowestType(n.rrsets)])...)
			return res
		}
		if c, ok := n.rrsets[dns.TypeCNAME]; ok {
			res.Answer = append(res.Answer, own(c)...)
			target := dns.CanonicalName(c[0].(*dns.CNAME).Target)
			nz := s.Find(target)
			if nz == nil {
				return res // target outside our zones: the resolver follows it
			}
			z, name = nz, target
			continue
		}
		res.Ns = append(res.Ns, z.NegativeSOA())
		return res
	}
	return res
}

func lowestType(m map[uint16][]dns.RR) uint16 {
	best := uint16(0xffff)
	for t := range m {
		if t < best {
			best = t
		}
	}
	return best
}

// cutFor returns the highest delegation point at or above name, below the apex.
func (z *Zone) cutFor(name string) string {
	if len(z.cuts) == 0 || name == z.Apex {
		return ""
	}
	cut := ""
	for n := name; n != "" && n != z.Apex; n = parent(n) {
		if z.cuts[n] {
			cut = n
		}
	}
	return cut
}

// wildcard returns the node of *.<closest encloser> (RFC 4592 §3.3.1).
func (z *Zone) wildcard(name string) *node {
	for p := parent(name); p != ""; p = parent(p) {
		if _, ok := z.names[p]; ok || z.ent[p] || p == z.Apex {
			return z.names["*."+p]
		}
	}
	return nil
}

// glue returns A/AAAA records for NS targets inside this zone.
func (z *Zone) glue(ns []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range ns {
		t := dns.CanonicalName(rr.(*dns.NS).Ns)
		if n, ok := z.names[t]; ok && dns.IsSubDomain(z.Apex, t) {
			out = append(out, n.rrsets[dns.TypeA]...)
			out = append(out, n.rrsets[dns.TypeAAAA]...)
		}
	}
	return out
}

// additional returns addresses for MX, SRV and NS targets served here
// (RFC 1035 §3.3.9, RFC 2782).
func (s *Set) additional(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		var t string
		switch r := rr.(type) {
		case *dns.MX:
			t = r.Mx
		case *dns.SRV:
			t = r.Target
		case *dns.NS:
			t = r.Ns
		default:
			continue
		}
		t = dns.CanonicalName(t)
		z := s.Find(t)
		if z == nil {
			continue
		}
		if n, ok := z.names[t]; ok && !n.dynamic {
			out = append(out, n.rrsets[dns.TypeA]...)
			out = append(out, n.rrsets[dns.TypeAAAA]...)
		}
	}
	return out
}
