package config

import (
	"strings"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// noEffect lists, per CLI group, the arguments gslbd parses, checks,
// stores and writes back but does not act on yet (docs/configuration.md
// "Accepted, no effect yet"). A name ending in "*" covers every argument
// starting with it; "*" alone covers the whole group.
var noEffect = map[string][]string{
	"gslb site": {"clip", "naptrReplacementSuffix"},
	"gslb service": {"maxBandwidth", "cip", "sitePersistence", "cookieTimeout", "sitePrefix",
		"cltTimeout", "svrTimeout", "downStateFlush", "maxAAAUsers", "appflowLog", "naptr*"},
	"lb monitor": {"deviation", "resptimeoutThresh", "alertRetries", "transparent", "ipTunnel",
		"tos", "tosId", "sslProfile", "netProfile", "action", "storefrontcheckbackendservices"},
	"gslb vserver": {"dynamicWeight",
		"so*", "backupSessionTimeout", "toggleOrder", "orderThreshold", "rule", "comment",
		"order", "cookieDomain", "cookieTimeout", "sitedomainTTL"},
	"gslb parameter": {"AutomaticConfigSync", "GSLBSync*", "GslbConfigSyncMonitor", "undefAction"},
	"dns zone":       {"dnssecOffload", "nsec"},
	// Qualifier wildcards in policy expressions (MATCHES_LOCATION), which
	// gslbd does not evaluate.
	"locationParameter": {"matchWildcardtoany"},
	// DNS policies act by choosing a view; their other actions are kept.
	"dns policy": {"drop", "cacheBypass", "preferredLoc*", "logAction"},
	"dns action": {"IPAddress", "TTL", "preferredLocList", "dnsProfileName"},
}

// NoEffectWarnings returns a warning for every argument of cmds that gslbd
// accepts without acting on it (set and bind verbs; unset and unbind only
// take something away). The code is nserr.NoEffect.
func NoEffectWarnings(cmds []*nsconf.Cmd) []*nsconf.Error {
	var out []*nsconf.Error
	for _, cmd := range cmds {
		if cmd.Spec == nil {
			continue
		}
		switch cmd.Spec.Verb {
		case "add", "set", "bind":
		default:
			continue
		}
		names := noEffect[cmd.Spec.Group]
		for _, v := range cmd.Opts {
			if v.Arg != nil && matchesAny(names, v.Name) {
				out = append(out, &nsconf.Error{Pos: v.Pos, Code: nserr.NoEffect,
					Msg: "-" + v.Name + " is accepted and saved, but gslbd does not act on it yet"})
			}
		}
	}
	return out
}

func matchesAny(names []string, arg string) bool {
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(strings.ToLower(arg), strings.ToLower(p)) || strings.EqualFold(n, arg) {
			return true
		}
	}
	return false
}
