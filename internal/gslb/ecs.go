package gslb

import (
	"net/netip"

	"github.com/gslbd/gslbd/internal/config"
)

// This file holds EDNS Client Subnet (RFC 7871, docs/proximity.md
// "ECS"): the option is read from the query's raw bytes on both paths
// (miekg/dns does not check its length or trailing bits), a vserver with
// -ECS ENABLED decides on the client subnet instead of the resolver's
// address, and every answer to a query with ECS carries the option back
// with the SCOPE PREFIX-LENGTH that decided it (0 when the answer does
// not depend on the client).

// optECS is the EDNS option code of Client Subnet.
const optECS = 8

// parseECS checks an ECS option's data (RFC 7871 §6): family 1 or 2
// (0 with a zero source prefix, as dig sends to opt out), a source
// prefix that fits the family, exactly the address bytes it needs, no
// bit set past it. ok false: malformed (FORMERR).
func parseECS(b []byte) (netip.Prefix, bool) {
	if len(b) < 4 {
		return netip.Prefix{}, false
	}
	family, source := uint16(b[0])<<8|uint16(b[1]), int(b[2])
	addr := b[4:]
	var full [16]byte
	bits := 32
	switch family {
	case 0:
		if source != 0 || len(addr) != 0 {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), true
	case 1:
	case 2:
		bits = 128
	default:
		return netip.Prefix{}, false
	}
	if source > bits || len(addr) != (source+7)/8 {
		return netip.Prefix{}, false
	}
	copy(full[:], addr)
	var a netip.Addr
	if family == 1 {
		a = netip.AddrFrom4([4]byte(full[:4]))
	} else {
		a = netip.AddrFrom16(full)
	}
	p := netip.PrefixFrom(a, source)
	if p.Masked() != p {
		return netip.Prefix{}, false
	}
	return p, true
}

// scanOPT finds the OPT record's data in a whole message (nil: none or
// the message does not parse); more than one OPT returns ok false.
func scanOPT(q []byte) (rdata []byte, ok bool) {
	if len(q) < 12 {
		return nil, false
	}
	count := func(i int) int { return int(q[i])<<8 | int(q[i+1]) }
	i := 12
	skipName := func() bool {
		for i < len(q) {
			l := int(q[i])
			switch {
			case l == 0:
				i++
				return true
			case l&0xC0 == 0xC0:
				i += 2
				return i <= len(q)
			case l > 63:
				return false
			}
			i += 1 + l
		}
		return false
	}
	for range count(4) {
		if !skipName() || i+4 > len(q) {
			return nil, false
		}
		i += 4
	}
	n := count(6) + count(8) + count(10)
	found := 0
	for k := range n {
		if !skipName() || i+10 > len(q) {
			return nil, false
		}
		typ, rdlen := count(i), count(i+8)
		i += 10
		if i+rdlen > len(q) {
			return nil, false
		}
		if typ == 41 && k >= count(6)+count(8) {
			found++
			rdata = q[i : i+rdlen]
		}
		i += rdlen
	}
	return rdata, found <= 1
}

// setECS reads the ECS option from an OPT record's options into r; false
// when it is malformed or given twice (FORMERR, RFC 7871 §7.1.2).
func (r *request) setECS(rdata []byte) bool {
	for j := 0; j < len(rdata); {
		if j+4 > len(rdata) {
			return false
		}
		code, ol := int(rdata[j])<<8|int(rdata[j+1]), int(rdata[j+2])<<8|int(rdata[j+3])
		if j+4+ol > len(rdata) {
			return false
		}
		if code == optECS {
			p, ok := parseECS(rdata[j+4 : j+4+ol])
			if r.hasECS || !ok {
				return false
			}
			r.hasECS, r.ecs, r.ecsFamily = true, p, rdata[j+5]
		}
		j += 4 + ol
	}
	return true
}

// routable reports whether an ECS address may decide under
// -ecsAddrValidation: not private, loopback, link-local, CGN, multicast
// or unspecified.
func routable(a netip.Addr) bool {
	return !(a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || a.Is4() && a.As4()[0] == 100 && a.As4()[1]&0xC0 == 64)
}

// client returns the address a vserver decides on: the ECS subnet when
// the vserver has -ECS ENABLED and the query carries a usable one, else
// the query's source; ecs reports which.
func (r *request) client(vs *config.VServerInfo) (a netip.Addr, ecs bool) {
	if vs.ECS && r.hasECS && r.ecs.Bits() > 0 && (!vs.ECSAddrValidation || routable(r.ecs.Addr())) {
		return r.ecs.Addr(), true
	}
	return r.Src, false
}

// decidedBy records that the answer depended on the client subnet's
// first bits (clipped to the source prefix): the SCOPE PREFIX-LENGTH.
func (r *request) decidedBy(bits int) {
	r.scope = uint8(min(bits, r.ecs.Bits()))
}

// appendECS writes the ECS option of the answer: the query's family,
// source prefix and address, and the scope.
func appendECS(b []byte, r *request) []byte {
	p := r.ecs
	n := (p.Bits() + 7) / 8
	b = append(b, 0, optECS, 0, byte(4+n), 0, r.ecsFamily, byte(p.Bits()), r.scope)
	a := p.Addr().AsSlice()
	return append(b, a[:n]...)
}

// ecsLen is the length appendECS adds (0 without ECS).
func (r *request) ecsLen() int {
	if !r.hasECS {
		return 0
	}
	return 8 + (r.ecs.Bits()+7)/8
}
