package config

// This file holds the gslb parameter singleton.

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Parameter is the typed `gslb parameter` singleton.
type Parameter struct {
	// DefaultMonitors (gslbd: set gslb parameter -defaultMonitors): a
	// local service without a monitor is probed by its type's default
	// monitor, or follows its LB vserver.
	DefaultMonitors      bool
	LDNSEntryTimeout     time.Duration
	RTTTolerance         time.Duration
	SvcStateDelayTime    time.Duration
	SvcStateLearningTime time.Duration
	MEPKeepAliveTimeout  time.Duration
	DropLDNSReq          bool
	LDNSMaskBits, V6Bits int
	// LDNSProbeOrder is -ldnsProbeOrder: the probes of a resolver's RTT,
	// each tried when the one before got no reply (default PING DNS TCP).
	LDNSProbeOrder      []string
	AutomaticConfigSync bool
	// ExplainFrom (gslbd: -explainFrom) are the clients a query for
	// _explain.<domain> TXT answers with the decision trace (none: no one).
	ExplainFrom []netip.Prefix
}

// gslbParameter applies set/unset gslb parameter.
func (a *applier) gslbParameter() {
	a.owner = paramKey
	if a.cmd.Spec.Verb == "set" {
		a.merge(&a.c.Parameter)
	} else {
		a.unset(&a.c.Parameter)
	}
}

func (b *builder) parameter() {
	p := &b.c.Parameter
	g := "gslb parameter"
	sec := func(name string) time.Duration { return time.Duration(getInt(p, g, name)) * time.Second }
	b.s.Param = Parameter{
		LDNSEntryTimeout:     sec("ldnsEntryTimeout"),
		RTTTolerance:         time.Duration(getInt(p, g, "RTTTolerance")) * time.Millisecond,
		SvcStateDelayTime:    sec("GSLBSvcStateDelayTime"),
		SvcStateLearningTime: sec("SvcStateLearningTime"),
		MEPKeepAliveTimeout:  sec("MEPKeepAliveTimeout"),
		DropLDNSReq:          enabled(p, g, "dropLdnsReq"),
		LDNSMaskBits:         maskBits(get(p, g, "ldnsMask")),
		V6Bits:               getInt(p, g, "v6ldnsmasklen"),
		AutomaticConfigSync:  enabled(p, g, "AutomaticConfigSync"),
		DefaultMonitors:      enabled(p, g, "defaultMonitors"),
		LDNSProbeOrder:       []string{"PING", "DNS", "TCP"},
	}
	if v, ok := p.Val("explainFrom"); ok {
		b.s.Param.ExplainFrom = b.prefixes(v, "gslb parameter: -explainFrom")
	}
	if v, ok := p.Val("ldnsProbeOrder"); ok && len(v.Values) > 0 {
		b.s.Param.LDNSProbeOrder = nil
		for _, m := range v.Values {
			m = strings.ToUpper(m)
			if !slices.Contains(b.s.Param.LDNSProbeOrder, m) {
				b.s.Param.LDNSProbeOrder = append(b.s.Param.LDNSProbeOrder, m)
			}
		}
	}
}

// prefixes reads a list of prefixes or addresses (an address is its own
// prefix), each masked; what names the option in errors.
func (b *builder) prefixes(v nsconf.Val, what string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range v.Values {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				b.errf(v.Pos, nserr.ArgValBad, "%s %q: not a prefix (10.0.0.0/8) or an address", what, s)
				continue
			}
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// parameter writes set gslb parameter: as read while unchanged, else one
// set line per line that set something, and what changed on a new one.
func (w *writer) parameter(c *Config) {
	if w.doc != nil && slices.EqualFunc(c.Parameter.vals, w.doc.param, sameVal) && w.raw(paramKey, slotMain) {
		return
	}
	w.putEntity(w.entity("gslb parameter", nil, nil, &c.Parameter, nsconf.Pos{}, false))
}
