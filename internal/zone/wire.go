package zone

import (
	"github.com/miekg/dns"
)

// Wire is a Set's static answers precomputed as wire bytes, built once
// per configuration so that the query path copies instead of building
// messages: positive answers and NODATA for every name and the types it
// has (CNAME chains within the zones included), NXDOMAIN and empty
// non-terminals with the zone's SOA, referrals with glue, wildcards.
// Each answer is what Lookup says, packed; what it cannot precompute
// (GSLB names, ANY, DS, chains through GSLB names) it leaves to Lookup.
type Wire struct {
	zones map[string]*wireZone // apex in lower case without the trailing dot
}

// Answer is a precomputed response after its question: the header's
// RCODE, AA bit and counts, and the sections' bytes. Owner names equal
// to the question are pointers to it (offset 12); every other name is
// written in full, so the bytes fit any question.
type Answer struct {
	Rcode         uint8
	Authoritative bool
	An, Ns, Ar    uint16
	Body          []byte
}

type wireZone struct {
	nx, nodata *Answer // NXDOMAIN, and NODATA for names that are not the SOA's owner
	names      map[string]*wireName
	ent        map[string]bool
	// cuts are the referrals, by delegation point; wild the wildcards'
	// answers, by the closest encloser they serve (*.p is wild[p]).
	cuts map[string]*Answer
	wild map[string]*wireName
}

// wireName is one name's answers by type; other answers every type not
// in types (nil: none precomputed, Lookup decides).
type wireName struct {
	types map[uint16]*Answer
	other *Answer
	chain *Chain
}

// Chain is a static CNAME chain that ends at a GSLB name: the CNAME
// records (the first owned by the question, as a pointer) and the GSLB
// name, whose answer follows them. The last record's target is written
// in full at TargetAt in Body, for the GSLB records' owners to point at.
type Chain struct {
	Prefix   *Answer
	Target   string // lower case, no trailing dot
	TargetAt int
}

// probeType stands for "a type the name does not have" when asking
// Lookup for NODATA (a private-use type no record has).
const probeType = 65400

// Compile precomputes the set's static answers.
func (s *Set) Compile() *Wire {
	w := &Wire{zones: map[string]*wireZone{}}
	for apex, z := range s.zones {
		if apex == "." || z.SOA == nil {
			continue // the root zone: Lookup answers it
		}
		wz := &wireZone{names: map[string]*wireName{}, ent: map[string]bool{}, cuts: map[string]*Answer{},
			wild: map[string]*wireName{}}
		// A name that does not exist below the apex: NXDOMAIN; an empty
		// non-terminal: NODATA; both with the SOA (as Lookup answers
		// them; a wildcard or a cut is looked for first, apart).
		soa := packAll(nil, z.NegativeSOA())
		if soa == nil {
			continue
		}
		wz.nx = &Answer{Rcode: dns.RcodeNameError, Authoritative: true, Ns: 1, Body: soa}
		wz.nodata = &Answer{Authoritative: true, Ns: 1, Body: soa}
		for e := range z.ent {
			wz.ent[trimDot(e)] = true
		}
		for name, n := range z.names {
			if n.dynamic {
				wz.names[trimDot(name)] = &wireName{} // a GSLB name: Lookup
				continue
			}
			if len(name) > 2 && name[:2] == "*." {
				p := name[2:]
				if _, cname := n.rrsets[dns.TypeCNAME]; cname {
					// A wildcard CNAME's chain may come back under the
					// wildcard (Lookup's loop check sees the real
					// question): Lookup answers it.
					wz.wild[trimDot(p)] = &wireName{}
				} else {
					wz.wild[trimDot(p)] = s.compileName("\x00w."+p, n)
				}
			}
			wz.names[trimDot(name)] = s.compileName(name, n)
		}
		for cut := range z.cuts {
			wz.cuts[trimDot(cut)] = s.precompute("\x00r."+cut, dns.TypeA, "")
		}
		w.zones[trimDot(apex)] = wz
	}
	return w
}

// compileName precomputes a name's answers: each type it has, A and
// AAAA (CNAME chains), and the rest (NODATA) unless it has a CNAME.
func (s *Set) compileName(qname string, n *node) *wireName {
	wn := &wireName{types: map[uint16]*Answer{}}
	for t := range n.rrsets {
		if a := s.precompute(qname, t, qname); a != nil {
			wn.types[t] = a
		}
	}
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		if wn.types[t] == nil {
			if a := s.precompute(qname, t, qname); a != nil {
				wn.types[t] = a
			}
		}
	}
	if _, cname := n.rrsets[dns.TypeCNAME]; !cname {
		wn.other = s.precompute(qname, probeType, qname)
	} else {
		wn.chain = s.chainToDynamic(qname)
	}
	return wn
}

// chainToDynamic follows qname's CNAME chain through static names of the
// set to a GSLB (dynamic) name; nil when it ends elsewhere, goes through
// a delegation or a wildcard, or loops.
func (s *Set) chainToDynamic(qname string) *Chain {
	var hops []dns.RR
	name := qname
	for range maxChain + 1 {
		z := s.Find(name)
		if z == nil || z.cutFor(name) != "" {
			return nil
		}
		n := z.names[name]
		if n == nil {
			return nil
		}
		if n.dynamic {
			if len(hops) == 0 {
				return nil
			}
			a := &Answer{Authoritative: true, An: uint16(len(hops))}
			for _, rr := range hops {
				if a.Body = appendRR(a.Body, rr, qname); a.Body == nil {
					return nil
				}
			}
			targetLen, err := dns.PackDomainName(name, make([]byte, 256), 0, nil, false)
			if err != nil {
				return nil
			}
			return &Chain{Prefix: a, Target: trimDot(name), TargetAt: len(a.Body) - targetLen}
		}
		c, ok := n.rrsets[dns.TypeCNAME]
		if !ok {
			return nil
		}
		hops = append(hops, c[0])
		name = dns.CanonicalName(c[0].(*dns.CNAME).Target)
	}
	return nil
}

// Chain returns the static CNAME chain from name to a GSLB name (nil:
// none), for questions other than CNAME.
func (w *Wire) Chain(name []byte) *Chain {
	if z, _ := w.zoneOf(name); z != nil {
		if n := z.names[string(name)]; n != nil {
			return n.chain
		}
	}
	return nil
}

// zoneOf returns the zone of name, the longest apex that is a suffix of
// it at a label boundary, and where the apex starts in name (nil: none).
func (w *Wire) zoneOf(name []byte) (*wireZone, int) {
	for i := 0; i < len(name); {
		if z, ok := w.zones[string(name[i:])]; ok {
			return z, i
		}
		for i < len(name) && name[i] != '.' {
			i++
		}
		i++
	}
	return nil, -1
}

// precompute packs Lookup's answer to qname/qtype, with owners equal to
// self (the question: "" for none) written as pointers to it; nil when
// the answer goes through a GSLB name (it changes with every choice).
func (s *Set) precompute(qname string, qtype uint16, self string) *Answer {
	touched := false
	res := s.Lookup(qname, qtype, func(string, uint16) []dns.RR { touched = true; return nil })
	if touched || res.Rcode == dns.RcodeRefused {
		return nil
	}
	a := &Answer{Rcode: uint8(res.Rcode), Authoritative: res.Authoritative,
		An: uint16(len(res.Answer)), Ns: uint16(len(res.Ns)), Ar: uint16(len(res.Extra))}
	for _, sec := range [][]dns.RR{res.Answer, res.Ns, res.Extra} {
		for _, rr := range sec {
			if a.Body = appendRR(a.Body, rr, self); a.Body == nil {
				return nil
			}
		}
	}
	return a
}

// appendRR appends rr to b uncompressed, its owner as a pointer to the
// question (offset 12) when it is self ("": never); nil when it does
// not pack.
func appendRR(b []byte, rr dns.RR, self string) []byte {
	if self == "" || dns.CanonicalName(rr.Header().Name) != self {
		return packAll(b, rr)
	}
	whole := packAll(nil, rr)
	nameLen, err := dns.PackDomainName(self, make([]byte, 256), 0, nil, false)
	if whole == nil || err != nil {
		return nil
	}
	return append(append(b, 0xc0, 0x0c), whole[nameLen:]...)
}

// packAll appends rr to b, uncompressed (nil: it does not pack).
func packAll(b []byte, rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+16)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	return append(b, buf[:off]...)
}

func trimDot(s string) string {
	if len(s) > 1 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// Answer returns the precomputed answer to a question: name in lower
// case without the trailing dot, as the fast path reads it. nil: none
// precomputed (Lookup answers it).
func (w *Wire) Answer(name []byte, qtype uint16) *Answer {
	switch qtype {
	case dns.TypeANY, dns.TypeDS, dns.TypeAXFR, dns.TypeIXFR:
		return nil
	}
	z, apexAt := w.zoneOf(name)
	if z == nil {
		return nil
	}
	// The apex is always among the names (it has the SOA), so what
	// follows is below it.
	if n, ok := z.names[string(name)]; ok {
		if a := n.types[qtype]; a != nil {
			return a
		}
		return n.other
	}
	// Below a delegation: the referral of the highest cut (the
	// question is not a name of the zone, so it is no cut itself).
	if len(z.cuts) > 0 {
		var cut *Answer
		for i := 0; i < apexAt; {
			if a, ok := z.cuts[string(name[i:])]; ok {
				cut = a
			}
			for i < apexAt && name[i] != '.' {
				i++
			}
			i++
		}
		if cut != nil {
			return cut
		}
	}
	if z.ent[string(name)] {
		return z.nodata
	}
	// A wildcard of the closest encloser (RFC 4592): the first parent
	// that exists (the apex at the latest: it has the SOA).
	if len(z.wild) > 0 {
		for i := 0; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			p := name[i+1:]
			if _, ok := z.names[string(p)]; ok || z.ent[string(p)] {
				if wn := z.wild[string(p)]; wn != nil {
					if a := wn.types[qtype]; a != nil {
						return a
					}
					return wn.other
				}
				break
			}
		}
	}
	return z.nx
}
