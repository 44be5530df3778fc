package nitro

import (
	"strings"

	"github.com/gslbd/gslbd/internal/config"
)

// The DNS view resources: dnsview, dnsaction, dnspolicy and the global
// policy bindings (dnsglobal_dnspolicy_binding, deleted with
// ?args=policyname:p[,type:t] and no key).
func init() {
	resources["dnsview"] = &resource{group: "dns view", list: func(c *config.Config, key string) (out []obj) {
		each(&c.DNSViews, key, func(v *config.DNSView) { out = append(out, obj{"viewname": v.Name}) })
		return out
	}}
	resources["dnsaction"] = &resource{group: "dns action", list: func(c *config.Config, key string) (out []obj) {
		each(&c.DNSActions, key, func(x *config.DNSAction) {
			out = append(out, row(obj{"actionname": x.Name, "actiontype": x.Type}, "dns action", &x.Args, "add", "set"))
		})
		return out
	}}
	resources["dnspolicy"] = &resource{group: "dns policy", list: func(c *config.Config, key string) (out []obj) {
		each(&c.DNSPolicies, key, func(p *config.DNSPolicy) {
			o := row(obj{"name": p.Name, "rule": p.Rule}, "dns policy", &p.Args, "add", "set")
			if p.Action != "" {
				o["actionname"] = p.Action
			}
			out = append(out, o)
		})
		return out
	}}
	resources["dnsglobal_dnspolicy_binding"] = &resource{group: "dns global", binding: true, keyless: true,
		list: func(c *config.Config, key string) (out []obj) {
			for _, b := range c.DNSGlobal.All() {
				if key != "" && !strings.EqualFold(key, b.Policy) {
					continue
				}
				o := row(obj{"policyname": b.Policy, "priority": int64(b.Priority)}, "dns global", &b.Args, "bind")
				putDefaults(o, "dns global", "bind")
				out = append(out, o)
			}
			return out
		}}
}

// gslbwebhook is gslbd's add gslb webhook (the secret never returned).
func init() {
	resources["gslbwebhook"] = &resource{group: "gslb webhook", list: func(c *config.Config, key string) (out []obj) {
		each(&c.Webhooks, key, func(w *config.Webhook) {
			out = append(out, row(obj{"name": w.Name, "url": w.URL}, "gslb webhook", &w.Args, "add", "set"))
		})
		return out
	}}
}
