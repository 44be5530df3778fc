package nitro

import "github.com/gslbd/gslbd/internal/config"

// dnsparameter: the set dns parameter singleton (its rate limits, and
// the appliance's other options as they were written).
func init() {
	resources["dnsparameter"] = &resource{group: "dns parameter", singleton: true, list: func(c *config.Config, _ string) []obj {
		o := obj{}
		putArgs(o, "dns parameter", &c.DNSParam, "set")
		putDefaults(o, "dns parameter", "set")
		return []obj{o}
	}}
}
