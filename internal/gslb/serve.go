package gslb

import (
	"bytes"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnspolicy"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/zone"
	"github.com/miekg/dns"
)

// Header flag bits.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagCD = 1 << 4
)

// fastQuery is a query simple enough for the fast path: one question of
// class IN, no answer/authority records, at most an OPT record of
// version 0.
type fastQuery struct {
	qtype   uint16
	qEnd    int // offset just past the question
	edns    bool
	udpSize uint16
	do      bool
	keyLen  int // length of the lower-case name (no trailing dot) written to the key buffer
	// ecs: an ECS option is among the OPT record's options, which are
	// q[optStart:].
	ecs      bool
	optStart int
}

// parseFast parses q into f, writing the lookup key into key (by index:
// an append would make the buffer escape to the heap). It returns false for
// anything it does not handle, which then takes the slow path.
func parseFast(q []byte, f *fastQuery, key *[256]byte) bool {
	if len(q) < 17 {
		return false
	}
	flags := uint16(q[2])<<8 | uint16(q[3])
	if flags&flagQR != 0 || flags&0x7800 != 0 { // a response, or opcode != QUERY
		return false
	}
	if q[4] != 0 || q[5] != 1 || q[6]|q[7]|q[8]|q[9] != 0 || q[10] != 0 || q[11] > 1 {
		return false
	}
	i := 12
	n := 0
	for {
		if i >= len(q) {
			return false
		}
		l := int(q[i])
		if l == 0 {
			i++
			break
		}
		if l > 63 || i+1+l > len(q) || n+l+1 > 254 {
			return false // also rejects compression pointers
		}
		if n > 0 {
			key[n] = '.'
			n++
		}
		for _, c := range q[i+1 : i+1+l] {
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			default:
				return false // escapes, dots in labels: slow path
			}
			key[n] = c
			n++
		}
		i += 1 + l
	}
	if i+4 > len(q) {
		return false
	}
	f.qtype = uint16(q[i])<<8 | uint16(q[i+1])
	if q[i+2] != 0 || q[i+3] != 1 { // class IN only
		return false
	}
	i += 4
	f.qEnd = i
	f.keyLen = n
	f.edns = false
	if q[11] == 0 {
		return i == len(q)
	}
	// OPT: root owner, type 41, class = UDP size, TTL = ext-rcode, version, flags.
	if i+11 > len(q) || q[i] != 0 || q[i+1] != 0 || q[i+2] != 41 {
		return false
	}
	if q[i+6] != 0 { // EDNS version != 0: BADVERS on the slow path
		return false
	}
	f.edns = true
	f.udpSize = uint16(q[i+3])<<8 | uint16(q[i+4])
	f.do = q[i+7]&0x80 != 0
	rdlen := int(q[i+9])<<8 | int(q[i+10])
	j := i + 11
	if j+rdlen != len(q) {
		return false
	}
	// Walk options only to check their framing and find ECS; unknown ones
	// are ignored (RFC 6891 §6.1.2) and never echoed.
	f.optStart, f.ecs = j, false
	for end := j + rdlen; j < end; {
		if j+4 > end {
			return false
		}
		f.ecs = f.ecs || q[j] == 0 && q[j+1] == optECS
		ol := int(q[j+2])<<8 | int(q[j+3])
		j += 4 + ol
		if j > end {
			return false
		}
	}
	return true
}

// request is what the engine decides on: how the query arrived (the
// server's Request) and what the query carries beyond its question.
type request struct {
	dnsserver.Request
	// hasECS: the query carries a well-formed ECS option: ecs is its
	// prefix, ecsFamily its family as sent; scope is the SCOPE
	// PREFIX-LENGTH of the answer (set by the decision that read ecs).
	// ecsRead: the fast path read the options whole (ECS or none).
	hasECS    bool
	ecsRead   bool
	ecs       netip.Prefix
	ecsFamily byte
	scope     uint8
	// view is the DNS view the view policies chose ("": none), once
	// viewSet.
	view    string
	viewSet bool
	// dry: the query is explained, not answered: no counter, session or
	// resolver sighting changes; trace, when set, collects the path.
	dry   bool
	trace *Trace
}

// next returns a round-robin counter's value for this query: taken
// (incremented) for a real one, only read for an explained one, which
// so predicts the next real answer.
func (r *request) next(c *uint64) uint64 {
	if r.dry {
		return atomic.LoadUint64(c)
	}
	return atomic.AddUint64(c, 1) - 1
}

// note adds a step to the trace (formatted only when explaining).
func (r *request) note(format string, args ...any) {
	if r.trace != nil {
		r.trace.Steps = append(r.trace.Steps, fmt.Sprintf(format, args...))
	}
}

// setView evaluates the DNS view policies, once per query, for a domain
// with answers in some view: the view of the first policy that matches
// (a NEXT binding lets a later match choose instead). qname is the
// question in lower case without the trailing dot; it is only read (the
// fast path's is on its stack).
func (t *table) setView(r *request, d *domainEntry, qname []byte, qtype uint16) {
	if r.viewSet || len(d.views) == 0 || len(t.viewRules) == 0 {
		return
	}
	r.viewSet = true
	in := dnspolicy.Input{Src: r.Src, Dst: r.Local, Name: qname, Type: qtype, TCP: r.TCP}
	for i := range t.viewRules {
		rule := &t.viewRules[i]
		if rule.Expr.Eval(&in) {
			r.view = rule.View
			if !rule.Next {
				break
			}
		}
	}
}

// ServeDNS answers one query. It appends the response to dst[:0] and
// returns it, or nil when no reply must be sent (a response packet, bytes
// too short to be a DNS header, a query -dropLdnsReq drops). The request
// says how the query arrived: its source address, whether over TCP (no
// size limit), when.
func (e *Engine) ServeDNS(dst, q []byte, sr dnsserver.Request) []byte {
	r := request{Request: sr}
	return e.serve(dst, q, &r)
}

// serve answers (or, r.dry, explains) one query.
func (e *Engine) serve(dst, q []byte, r *request) []byte {
	t := e.table.Load()
	var kb [256]byte
	var f fastQuery
	fast := parseFast(q, &f, &kb)
	if fast && f.ecs {
		fast = r.setECS(q[f.optStart:]) // malformed: the slow path says FORMERR
	}
	r.ecsRead = fast // the options are read: the slow path need not again
	if fast {
		// The table's domain index in its two layers, looked up directly
		// so that string(bytes) allocates nothing.
		base, over := t.domains.Layers()
		d, changed := over[string(kb[:f.keyLen])]
		if !changed {
			d = base[string(kb[:f.keyLen])]
		}
		if d != nil && !t.child {
			t.setView(r, d, kb[:f.keyLen], f.qtype)
			if resp, ok := t.answerFast(dst, q, &f, d, r); ok {
				return resp
			}
		} else if d == nil {
			if resp, ok := t.answerStatic(dst, q, &f, kb[:f.keyLen], r); ok {
				return resp
			}
		}
	}
	return t.slow(dst, q, r)
}

// maxSize is the largest response the client accepts (RFC 6891 §6.2.5:
// at least 512, at most our own limit), less what the server adds after
// (reserve: the DNS cookie).
func (t *table) maxSize(tcp bool, edns bool, udpSize uint16, reserve int) int {
	if tcp {
		return dns.MaxMsgSize - reserve
	}
	if !edns || udpSize < 512 {
		return 512 - reserve
	}
	return min(int(udpSize), t.maxUDP) - reserve
}

// pick chooses the answer block for a query and counts it: the
// vserver's hits (and backup hits), the domain's queries, the chosen
// service's hits. Each counter is its own cache line.
func (t *table) pick(d *domainEntry, r *request) *block {
	if r.dry {
		return t.selectBlock(d, r)
	}
	atomic.AddUint64(&d.vs.hits.hits, 1)
	if d.vs.backup {
		atomic.AddUint64(&d.vs.hits.backupHits, 1)
	}
	atomic.AddUint64(&d.hits.hits, 1)
	b := t.selectBlock(d, r)
	if b != nil && b.hit != nil {
		atomic.AddUint64(&b.hit.hits, 1)
	}
	return b
}

// selectBlock picks the answer block for a query: the method's choice,
// in the client's DNS view when a view policy put it in one.
func (t *table) selectBlock(d *domainEntry, r *request) *block {
	blocks, down := d.blocks, d.down
	if r.view != "" {
		blocks, down = d.forView(r.view)
	}
	dec := &d.vs.dec
	now := r.Now
	if r.trace != nil {
		r.trace.begin(d, r.view)
	}
	switch dec.mode {
	case modeAllDown:
		if r.trace != nil {
			r.note("no service is UP: %s", d.allDown.note())
		}
		return down
	case modeEmpty:
		if r.trace != nil {
			r.note("no service to answer with: an empty answer")
		}
		return nil
	}
	if len(blocks) == 0 {
		return nil
	}
	if d.mir {
		i := (r.next(&dec.counter.n) + 1) % uint64(len(blocks))
		if r.trace != nil {
			r.note("MIR: every candidate, rotation %d of %d", i, len(blocks))
		}
		return &blocks[i]
	}
	vs := d.vs.info
	client, ecs := r.client(vs)
	if r.trace != nil {
		r.trace.Client = client.String()
		if ecs {
			r.note("ECS: the client subnet %s decides instead of the resolver %s", r.ecs, r.Src)
		} else if r.hasECS && vs.ECS {
			r.note("ECS %s not used (-ecsAddrValidation: not a routable address)", r.ecs)
		}
	}
	if vs.PersistSourceIP && client.IsValid() {
		// With ECS the client subnet is the key as sent (NetScaler: the
		// persistence mask is then ignored), and decides at its length.
		ip := client
		if ecs {
			r.decidedBy(r.ecs.Bits())
		} else {
			ip = maskAddr(client, vs.PersistMaskBits, vs.V6PersistMaskBits)
		}
		k := persistKey{vs: d.vs.lname, ip: ip}
		if svc, created, tell, ok := t.persist.lookup(k, now, vs.PersistTimeout, r.dry); ok {
			if i, ok := dec.index[svc]; ok {
				if r.trace != nil {
					r.note("persistence: the session of %s answers %s", k.ip, svc)
				}
				if tell && !r.dry {
					t.persist.share(vs, k.ip, svc, unixOrZero(created), now)
				}
				return &blocks[i]
			}
		}
		if r.trace != nil {
			r.note("persistence: no session for %s: a new choice", ip)
		}
		i, ok := t.choose(dec, r, vs, client, ecs)
		if !ok {
			return dropBlock
		}
		if ecs {
			r.decidedBy(r.ecs.Bits()) // the session's key, whatever chose
		}
		if r.dry {
			return &blocks[i]
		}
		created := t.persist.put(k, dec.cands[i].lname, now, vs.PersistTimeout)
		t.persist.share(vs, k.ip, dec.cands[i].lname, time.Unix(0, created), now)
		return &blocks[i]
	}
	i, ok := t.choose(dec, r, vs, client, ecs)
	if !ok {
		return dropBlock
	}
	return &blocks[i]
}

// dropBlock is the answer to a query that gets none: an RTT vserver with
// -dropLdnsReq ENABLED asked by a resolver no site has measured yet.
var dropBlock = &block{}

// choose picks a candidate for a new choice: by RTT when the vserver's
// method is RTT and a site measured the query's resolver (the source:
// probes reach resolvers, not client subnets), else by the (backup)
// method decided at rebuild, on client (the ECS subnet when ecs). ok
// false: drop the query.
func (t *table) choose(dec *decision, r *request, vs *config.VServerInfo, client netip.Addr, ecs bool) (int, bool) {
	if dec.rtt && r.Src.IsValid() {
		if i, ok := t.ldns.rttChoice(dec, r); ok {
			return i, true
		}
		if !r.dry {
			atomic.AddUint64(&dec.counter.fallbacks, 1)
		}
		if dec.dropLDNS {
			if r.trace != nil {
				r.note("RTT: no figure for the resolver, and -dropLdnsReq ENABLED: no answer")
			}
			return 0, false
		}
	}
	if dec.static {
		if i, ok := staticChoice(dec, r, client, ecs); ok {
			return i, true
		}
		if !r.dry {
			atomic.AddUint64(&dec.counter.fallbacks, 1)
		}
	}
	if ecs && dec.hash != nil {
		bits := vs.NetmaskBits
		if client.Is6() {
			bits = vs.V6NetmaskBits
		}
		r.decidedBy(bits)
	}
	return choose(dec, r, client, vs.NetmaskBits, vs.V6NetmaskBits), true
}

// staticChoice picks among dec's candidates by location: those whose
// location agrees with the client's on the most leading qualifiers, in
// turn. ok false: the client has no location, or no candidate agrees
// even on the first qualifier (the backup method decides).
func staticChoice(dec *decision, r *request, client netip.Addr, ecs bool) (int, bool) {
	loc, scope, ok := dec.locs.Lookup(client)
	if !ok {
		if r.trace != nil {
			r.note("STATICPROXIMITY: %s has no location: the backup method", client)
		}
		return 0, false
	}
	var depth [maxRTTCands]int8
	best, n := 0, 0
	for j, sl := range dec.svcLoc[:min(len(dec.svcLoc), maxRTTCands)] {
		d := location.NumQualifiers // no location: matches any
		if sl != nil {
			d = location.Match(loc, sl)
		}
		depth[j] = int8(d)
		switch {
		case d > best:
			best, n = d, 1
		case d == best:
			n++
		}
	}
	if r.trace != nil {
		for j := range min(len(dec.svcLoc), maxRTTCands) {
			where := "no location (matches any)"
			if dec.svcLoc[j] != nil {
				where = dec.svcLoc[j].String()
			}
			r.note("STATICPROXIMITY: %s at %s agrees with the client (%s) on %d qualifiers", dec.cands[j].svc.Name, where, loc, max(depth[j], 0))
		}
	}
	if best <= 0 {
		if r.trace != nil {
			r.note("STATICPROXIMITY: no service agrees even on the continent: the backup method")
		}
		return 0, false
	}
	if ecs {
		r.decidedBy(scope)
	}
	k := int(r.next(&dec.counter.n) % uint64(n))
	for j := range min(len(dec.svcLoc), maxRTTCands) {
		if int(depth[j]) == best {
			if k == 0 {
				return j, true
			}
			k--
		}
	}
	panic("unreachable: n counts the candidates at the best depth")
}

func choose(dec *decision, r *request, client netip.Addr, v4bits, v6bits int) int {
	if dec.hash != nil && client.IsValid() {
		slot := clientSlot(client, v4bits, v6bits)
		if r.trace != nil {
			r.note("hash: %s hashes to bucket %d of %d: %s", client, slot, len(dec.hash), dec.cands[dec.hash[slot]].svc.Name)
		}
		return int(dec.hash[slot])
	}
	seq := dec.seq
	k := r.next(&dec.counter.n) % uint64(len(seq))
	if r.trace != nil {
		r.note("round robin: position %d of the weighted sequence of %d: %s", k, len(seq), dec.cands[seq[k]].svc.Name)
	}
	return int(seq[k])
}

// answerFast builds the response for a GSLB domain. It declines (false)
// query types that static zone data may answer.
func (t *table) answerFast(dst, q []byte, f *fastQuery, d *domainEntry, r *request) ([]byte, bool) {
	var blk *block
	switch {
	case f.qtype == d.rtype || f.qtype == dns.TypeANY || d.rtype == dns.TypeCNAME:
		blk = t.pick(d, r)
		if blk == dropBlock {
			return nil, true // no reply (-dropLdnsReq)
		}
	case f.qtype == dns.TypeA || f.qtype == dns.TypeAAAA || f.qtype == dns.TypeCNAME:
		// NODATA: a GSLB domain has no static address or CNAME data.
	default:
		return nil, false
	}
	flags := uint16(flagQR|flagAA) | (uint16(q[2])<<8|uint16(q[3]))&(flagRD|flagCD)
	var an, ns uint16
	if blk != nil && blk.n > 0 {
		an = blk.n
	} else if d.neg != nil {
		ns = 1
	}
	var ar uint16
	if f.edns {
		ar = 1
	}
	resp := appendHead(dst[:0], q, f.qEnd, flags, an, ns, ar)
	if an > 0 {
		resp = append(resp, blk.b...)
	} else if ns > 0 {
		resp = append(resp, d.neg...)
	}
	if f.edns {
		resp = appendOPT(resp, t.maxUDP, f.do, r)
	}
	if len(resp) > t.maxSize(r.TCP, f.edns, f.udpSize, r.Reserve) {
		resp = t.truncate(resp, q, f, flags, ar, r)
	}
	return resp, true
}

// truncate rewrites resp, too long for the client, as its truncated
// form (RFC 2181 §9): TC set, the sections dropped, our OPT kept; the
// client retries over TCP.
func (t *table) truncate(resp, q []byte, f *fastQuery, flags, ar uint16, r *request) []byte {
	resp = appendHead(resp[:0], q, f.qEnd, flags|flagTC, 0, 0, ar)
	if f.edns {
		resp = appendOPT(resp, t.maxUDP, f.do, r)
	}
	return resp
}

// answerStatic answers from the zones' precomputed answers (zone.Wire):
// the query's header and question, the answer's sections, our OPT. It
// declines what has none (GSLB names, ANY, DS...), the _explain names,
// and an answer too long for the client, which the slow path truncates.
func (t *table) answerStatic(dst, q []byte, f *fastQuery, name []byte, r *request) ([]byte, bool) {
	if t.wire == nil || f.qtype == dns.TypeTXT && bytes.HasPrefix(name, []byte(explainPrefix)) {
		return nil, false
	}
	a := t.wire.Answer(name, f.qtype)
	if a == nil {
		if f.qtype == dns.TypeCNAME {
			return nil, false
		}
		if c := t.wire.Chain(name); c != nil {
			return t.answerChain(dst, q, f, name, c, r)
		}
		return nil, false
	}
	flags := uint16(flagQR) | (uint16(q[2])<<8|uint16(q[3]))&(flagRD|flagCD) | uint16(a.Rcode)
	if a.Authoritative {
		flags |= flagAA
	}
	ar := a.Ar
	if f.edns {
		ar++
	}
	resp := appendHead(dst[:0], q, f.qEnd, flags, a.An, a.Ns, ar)
	resp = append(resp, a.Body...)
	if f.edns {
		resp = appendOPT(resp, t.maxUDP, f.do, r)
	}
	if len(resp) > t.maxSize(r.TCP, f.edns, f.udpSize, r.Reserve) {
		return nil, false
	}
	return resp, true
}

// answerChain answers a static CNAME chain into a GSLB name: the chain's
// records, then the GSLB answer with its owners pointing at the chain's
// last target. It declines (the slow path answers) what is not a plain
// GSLB answer of the question's type: NODATA, the static records a GSLB
// name may also have, an empty answer.
func (t *table) answerChain(dst, q []byte, f *fastQuery, name []byte, c *zone.Chain, r *request) ([]byte, bool) {
	d, _ := t.domains.Get(c.Target)
	if d == nil || t.child || f.qtype != d.rtype || !d.hasRecords() {
		return nil, false // before pick: the slow path counts the query
	}
	t.setView(r, d, name, f.qtype) // on the question's name, as the slow path does
	blk := t.pick(d, r)
	if blk == dropBlock {
		return nil, true // no reply (-dropLdnsReq)
	}
	if blk == nil || blk.n == 0 {
		return nil, false
	}
	flags := uint16(flagQR|flagAA) | (uint16(q[2])<<8|uint16(q[3]))&(flagRD|flagCD)
	var ar uint16
	if f.edns {
		ar = 1
	}
	resp := appendHead(dst[:0], q, f.qEnd, flags, c.Prefix.An+blk.n, 0, ar)
	resp = append(resp, c.Prefix.Body...)
	// The GSLB records' owners point at the question (offset 12): at the
	// chain's target instead.
	ptr := f.qEnd + c.TargetAt
	at := len(resp)
	resp = append(resp, blk.b...)
	for k := 0; k < int(blk.n) && at+12 <= len(resp); k++ {
		resp[at], resp[at+1] = 0xc0|byte(ptr>>8), byte(ptr)
		at += 12 + (int(resp[at+10])<<8 | int(resp[at+11]))
	}
	if f.edns {
		resp = appendOPT(resp, t.maxUDP, f.do, r)
	}
	if len(resp) > t.maxSize(r.TCP, f.edns, f.udpSize, r.Reserve) || ptr > 0x3fff {
		resp = t.truncate(resp, q, f, flags, ar, r)
	}
	return resp, true
}

// hasRecords reports whether the domain answers with records (not an
// empty answer).
func (d *domainEntry) hasRecords() bool {
	switch d.vs.dec.mode {
	case modeServe:
		return len(d.blocks) > 0
	case modeAllDown:
		return d.down != nil && d.down.n > 0
	}
	return false
}

// explainPrefix starts the names of decision traces (slow.go).
const explainPrefix = "_explain."

// appendHead writes the header (the query's ID, these flags and counts,
// one question) and the query's question section as sent.
func appendHead(b, q []byte, qEnd int, flags, an, ns, ar uint16) []byte {
	b = append(b, q[0], q[1], byte(flags>>8), byte(flags), 0, 1, byte(an>>8), byte(an), byte(ns>>8), byte(ns), byte(ar>>8), byte(ar))
	return append(b, q[12:qEnd]...)
}

// appendOPT adds our OPT record: version 0, our buffer size, the DO bit
// copied from the query (RFC 3225 §3), and the ECS option when the query
// had one.
func appendOPT(b []byte, size int, do bool, r *request) []byte {
	var fl byte
	if do {
		fl = 0x80
	}
	n := r.ecsLen()
	b = append(b, 0, 0, 41, byte(size>>8), byte(size), 0, 0, fl, 0, byte(n>>8), byte(n))
	if n > 0 {
		b = appendECS(b, r)
	}
	return b
}
