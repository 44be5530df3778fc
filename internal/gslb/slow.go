package gslb

import (
	"strings"

	"github.com/miekg/dns"
)

// slow answers everything the fast path declines, with miekg/dns: static
// zone data, malformed or unusual queries, EDNS errors.
func (t *table) slow(dst, q []byte, r *request) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 {
		return nil // too short to answer, or a response: never reply (no reflection loops)
	}
	req := new(dns.Msg)
	if err := req.Unpack(q); err != nil {
		return formErr(dst, q)
	}
	resp := new(dns.Msg)
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	if len(req.Question) > 0 {
		resp.Question = req.Question[:1]
	}
	// EDNS (RFC 6891): one OPT at most, version 0.
	var opt *dns.OPT
	nOPT := 0
	for _, rr := range req.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			opt = o
			nOPT++
		}
	}
	udpSize := uint16(0)
	var ro *dns.OPT
	if opt != nil {
		udpSize = opt.UDPSize()
		ro = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		ro.SetUDPSize(uint16(t.maxUDP))
		ro.SetDo(opt.Do())
		resp.Extra = append(resp.Extra, ro)
	}
	size := t.maxSize(r.TCP, opt != nil, udpSize, r.Reserve)
	ecsOK := true
	if !r.ecsRead {
		// The fast path declined before reading the options.
		r.hasECS, r.scope = false, 0
		if opt != nil && nOPT == 1 {
			rd, ok := scanOPT(q)
			ecsOK = ok && r.setECS(rd)
		}
	}
	switch {
	case nOPT > 1, !ecsOK:
		// Two OPT records, a malformed or repeated ECS option (RFC 7871
		// §7.1.2).
		r.hasECS = false
		resp.Rcode = dns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		resp.Rcode = dns.RcodeBadVers
		resp.Question = nil
	case req.Opcode != dns.OpcodeQuery:
		resp.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1 || len(req.Answer) > 0 || len(req.Ns) > 0:
		resp.Rcode = dns.RcodeFormatError
	default:
		if t.lookup(req.Question[0], resp, r) {
			return nil
		}
	}
	if r.hasECS && ro != nil {
		// The option back with the scope the answer was decided at
		// (0: it does not depend on the client).
		ro.Option = append(ro.Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: uint16(r.ecsFamily),
			SourceNetmask: uint8(r.ecs.Bits()), SourceScope: r.scope, Address: r.ecs.Addr().AsSlice()})
	}
	resp.Truncate(size)
	out, err := resp.PackBuffer(dst[:cap(dst)])
	if err == nil && len(out) > size {
		// Truncate never goes under 512 bytes; a reserve (the server's
		// DNS cookie) can: the records go, TC tells the client to use TCP.
		resp.Truncated = true
		resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
		if ro != nil {
			resp.Extra = append(resp.Extra, ro)
		}
		out, err = resp.PackBuffer(dst[:cap(dst)])
	}
	if err != nil {
		resp.Answer, resp.Ns, resp.Extra = nil, nil, nil
		if ro != nil {
			resp.Extra = append(resp.Extra, ro)
		}
		resp.Rcode = dns.RcodeServerFailure
		if out, err = resp.PackBuffer(dst[:cap(dst)]); err != nil {
			return nil
		}
	}
	return out
}

// lookup answers q into resp; drop: no reply at all (-dropLdnsReq).
func (t *table) lookup(q dns.Question, resp *dns.Msg, r *request) (drop bool) {
	switch {
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		resp.Rcode = dns.RcodeRefused
		return
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		resp.Rcode = dns.RcodeRefused // no zone transfer
		return
	}
	name := dns.CanonicalName(q.Name)
	if rest, ok := strings.CutPrefix(name, explainPrefix); ok && q.Qtype == dns.TypeTXT && t.explainAllowed(r.Src) && !r.dry {
		// gslbd: the decision trace as TXT, for the clients -explainFrom
		// allows (dig _explain.www.example.com TXT).
		t.explainTXT(q.Name, rest, resp, r)
		return
	}
	if t.child {
		// A child site answers no GSLB name: its parents do (NetScaler's
		// child sites have no GSLB ADNS).
		if d, _ := t.domains.Get(strings.TrimSuffix(name, ".")); d != nil {
			resp.Rcode = dns.RcodeRefused
			return
		}
	}
	dyn := func(n string, qtype uint16) []dns.RR {
		d, _ := t.domains.Get(strings.TrimSuffix(n, "."))
		if d == nil {
			return nil
		}
		if qtype != d.rtype && qtype != dns.TypeANY && d.rtype != dns.TypeCNAME {
			return nil
		}
		if !r.viewSet && len(d.views) > 0 && len(t.viewRules) > 0 {
			t.setView(r, d, []byte(strings.TrimSuffix(name, ".")), q.Qtype) // the question's, not a CNAME target's
		}
		blk := t.pick(d, r)
		if blk == dropBlock {
			drop = true
			return nil
		}
		if blk == nil {
			return nil
		}
		owner := n
		if n == name {
			owner = q.Name // keep the client's spelling
		}
		return blk.rrs(owner)
	}
	res := t.zones.Lookup(name, q.Qtype, dyn)
	resp.Rcode = res.Rcode
	resp.Authoritative = res.Authoritative && res.Rcode != dns.RcodeRefused
	resp.Answer = res.Answer
	resp.Ns = res.Ns
	resp.Extra = append(res.Extra, resp.Extra...)
	if name != q.Name {
		// Owners equal to the question keep its spelling (RFC 1034 §3.1 case
		// preservation, for 0x20 clients). Copies: the zone's records are shared.
		var out []dns.RR
		for i, rr := range resp.Answer {
			if rr.Header().Name == name {
				if out == nil {
					out = append([]dns.RR(nil), resp.Answer...)
				}
				c := dns.Copy(rr)
				c.Header().Name = q.Name
				out[i] = c
			}
		}
		if out != nil {
			resp.Answer = out
		}
	}
	return drop
}

// formErr replies FORMERR to an unparsable query: the header only, with
// its ID, opcode and RD copied.
func formErr(dst, q []byte) []byte {
	flags := uint16(flagQR) | (uint16(q[2])<<8|uint16(q[3]))&(0x7800|flagRD)
	return append(dst[:0], q[0], q[1], byte(flags>>8), byte(flags)|dns.RcodeFormatError, 0, 0, 0, 0, 0, 0, 0, 0)
}
