package config

// This file holds the dns parameter singleton: its rate limits are
// modelled, its other options (the appliance's cache and resolver
// settings) kept as they were written.

import (
	"slices"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/rrl"
)

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
	r := rrl.Config{
		NXDomainThreshold:  getInt(p, g, "NXDOMAINRateLimitThreshold"),
		ResponsesPerSecond: getInt(p, g, "rrlResponsesPerSecond"),
		NXDomainsPerSecond: getInt(p, g, "rrlNXDOMAINsPerSecond"),
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
