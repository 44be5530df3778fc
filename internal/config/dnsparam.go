package config

// This file holds the dns parameter singleton: its rate limits are
// modelled, its other options (the appliance's cache and resolver
// settings) kept as they were written.

import (
	"net/netip"
	"slices"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// RateLimit is what set dns parameter says about limiting responses.
type RateLimit struct {
	// NXDOMAINThreshold is the appliance's -NXDOMAINRateLimitThreshold:
	// NXDOMAIN answers per second, whoever asks; beyond it they are
	// dropped (0: no limit).
	NXDOMAINThreshold int
	// gslbd's response rate limiting (-rrl...): responses per second per
	// client network, per answer (0: that kind not limited).
	ResponsesPerSecond, NXDOMAINsPerSecond, ErrorsPerSecond int
	Window, Slip                                            int
	IPv4PrefixLen, IPv6PrefixLen                            int
	LogOnly                                                 bool
	Exempt                                                  []netip.Prefix
}

// Enabled reports whether anything is limited.
func (r RateLimit) Enabled() bool {
	return r.NXDOMAINThreshold > 0 || r.ResponsesPerSecond > 0 || r.NXDOMAINsPerSecond > 0 || r.ErrorsPerSecond > 0
}

// Equal reports whether two settings are the same.
func (r RateLimit) Equal(o RateLimit) bool {
	return r.NXDOMAINThreshold == o.NXDOMAINThreshold && r.ResponsesPerSecond == o.ResponsesPerSecond &&
		r.NXDOMAINsPerSecond == o.NXDOMAINsPerSecond && r.ErrorsPerSecond == o.ErrorsPerSecond &&
		r.Window == o.Window && r.Slip == o.Slip && r.IPv4PrefixLen == o.IPv4PrefixLen &&
		r.IPv6PrefixLen == o.IPv6PrefixLen && r.LogOnly == o.LogOnly && slices.Equal(r.Exempt, o.Exempt)
}

// dnsParameter applies set/unset dns parameter.
func (a *applier) dnsParameter() {
	a.owner = dnsParamKey
	if a.cmd.Spec.Verb == "set" {
		a.merge(&a.c.DNSParam)
	} else {
		a.unset(&a.c.DNSParam)
	}
}

func (b *builder) dnsParameter() {
	p := &b.c.DNSParam
	g := "dns parameter"
	r := RateLimit{
		NXDOMAINThreshold:  getInt(p, g, "NXDOMAINRateLimitThreshold"),
		ResponsesPerSecond: getInt(p, g, "rrlResponsesPerSecond"),
		NXDOMAINsPerSecond: getInt(p, g, "rrlNXDOMAINsPerSecond"),
		ErrorsPerSecond:    getInt(p, g, "rrlErrorsPerSecond"),
		Window:             getInt(p, g, "rrlWindow"),
		Slip:               getInt(p, g, "rrlSlip"),
		IPv4PrefixLen:      getInt(p, g, "rrlIPv4PrefixLength"),
		IPv6PrefixLen:      getInt(p, g, "rrlIPv6PrefixLength"),
		LogOnly:            get(p, g, "rrlLogOnly") == "YES",
	}
	if v, ok := p.Val("rrlExempt"); ok {
		r.Exempt = b.prefixes(v, "dns parameter: -rrlExempt")
	}
	b.s.RateLimit = r
}

// dnsParameter writes set dns parameter: as read while unchanged, else
// the options set (the modelled ones and the kept ones, in order).
func (w *writer) dnsParameter(c *Config) {
	if w.doc != nil && slices.EqualFunc(c.DNSParam.vals, w.doc.dnsParam, sameVal) &&
		slices.EqualFunc(c.DNSParam.Loose, w.doc.dnsParamLoose, sameVal) && w.raw(dnsParamKey, slotMain) {
		return
	}
	w.putEntity(w.entity("dns parameter", nil, nil, &c.DNSParam, nsconf.Pos{}, false))
}
