// Package shell is gslbctl: NetScaler's CLI, line by line, over NITRO.
// A command is parsed with the same parser as ns.conf, turned into the
// NITRO request the appliance's CLI would make, and the answer is laid
// out as NetScaler's `show` does.
package shell

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/schema"
)

// request is one NITRO call.
type request struct {
	method string
	path   string
	body   map[string]any
}

// resourceOf is the NITRO resource of a CLI group: "gslb vserver" ->
// "gslbvserver".
func resourceOf(group string) string {
	return strings.ToLower(strings.ReplaceAll(group, " ", ""))
}

// bindingOf names the binding resource a bind/unbind command means, from
// the option that says what is bound.
func bindingOf(c *nsconf.Cmd) (string, error) {
	group := c.Spec.Group
	has := func(n string) bool { return c.Arg(n) != nil }
	switch strings.ToLower(group) {
	case "gslb vserver":
		switch {
		case has("serviceName"):
			return "gslbvserver_gslbservice_binding", nil
		case has("serviceGroupName"):
			return "gslbvserver_gslbservicegroup_binding", nil
		case has("domainName"):
			return "gslbvserver_domain_binding", nil
		case has("policyName"):
			return "gslbvserver_lbpolicy_binding", nil
		}
	case "gslb service":
		switch {
		case has("monitorName"):
			return "gslbservice_lbmonitor_binding", nil
		case has("viewName"):
			return "gslbservice_dnsview_binding", nil
		}
	case "gslb servicegroup":
		if has("monitorName") {
			return "gslbservicegroup_lbmonitor_binding", nil
		}
		return "gslbservicegroup_gslbservicegroupmember_binding", nil
	case "lb monitor":
		return "lbmonitor_metric_binding", nil
	case "lb metrictable":
		return "lbmetrictable_metric_binding", nil
	}
	return "", fmt.Errorf("ERROR: %s: say what to bind", c.Kind)
}

// jsonValue is a CLI value as NITRO sends it: numbers as numbers.
func jsonValue(a *schema.Arg, s string) any {
	if a != nil && (a.Kind == schema.Int || a.Kind == schema.Port) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

// fields are a command's arguments under their NITRO names. For unset,
// each named argument is sent as true (the positionals name the object).
func fields(c *nsconf.Cmd, unset bool) map[string]any {
	o := map[string]any{}
	put := func(v nsconf.Val, flag bool) {
		if v.Arg == nil {
			o[strings.ToLower(v.Name)] = strings.Join(v.Values, " ")
			return
		}
		switch {
		case flag || v.Arg.Kind == schema.Flag:
			o[v.Arg.NITRO] = true
			return
		case v.Arg.List:
			o[v.Arg.NITRO] = append([]string(nil), v.Values...)
		case len(v.Values) > 0:
			o[v.Arg.NITRO] = jsonValue(v.Arg, v.Values[0])
		}
		if v.Extra != "" && v.Arg.Extra != nil {
			o[v.Arg.Extra.NITRO] = jsonValue(v.Arg.Extra, v.Extra)
		}
	}
	for _, v := range c.Positional {
		put(v, false)
	}
	for _, v := range c.Opts {
		put(v, unset)
	}
	return o
}

// translate turns a modelled CLI command into its NITRO request.
func translate(c *nsconf.Cmd) (*request, error) {
	if c.Spec == nil {
		return nil, fmt.Errorf("ERROR: %s: command not supported", c.Kind)
	}
	verb, group := c.Spec.Verb, c.Spec.Group
	res := resourceOf(group)
	key := ""
	if len(c.Positional) > 0 && len(c.Spec.Pos) > 0 && strings.EqualFold(c.Positional[0].Name, c.Spec.Pos[0].Name) {
		key = c.Positional[0].Value()
	}
	switch verb {
	case "add":
		return &request{"POST", nitro.Path("config", res, "", nil), map[string]any{res: fields(c, false)}}, nil
	case "set":
		if key == "" {
			return &request{"PUT", nitro.Path("config", res, "", nil), map[string]any{res: fields(c, false)}}, nil
		}
		return &request{"PUT", nitro.Path("config", res, key, nil), map[string]any{res: fields(c, false)}}, nil
	case "unset":
		return &request{"POST", nitro.Path("config", res, "", url.Values{"action": {"unset"}}), map[string]any{res: fields(c, true)}}, nil
	case "enable", "disable", "rename":
		return &request{"POST", nitro.Path("config", res, "", url.Values{"action": {verb}}), map[string]any{res: fields(c, false)}}, nil
	case "rm":
		return &request{"DELETE", nitro.Path("config", res, key, args(c, 1)), nil}, nil
	case "bind":
		b, err := bindingOf(c)
		if err != nil {
			return nil, err
		}
		return &request{"POST", nitro.Path("config", b, "", nil), map[string]any{b: fields(c, false)}}, nil
	case "unbind":
		b, err := bindingOf(c)
		if err != nil {
			return nil, err
		}
		return &request{"DELETE", nitro.Path("config", b, key, args(c, 1)), nil}, nil
	}
	return nil, fmt.Errorf("ERROR: %s: not available in gslbctl", c.Kind)
}

// args are the arguments after the key, as NITRO's ?args=k:v,... .
func args(c *nsconf.Cmd, skip int) url.Values {
	var parts []string
	for i, v := range c.Positional {
		if i < skip || v.Arg == nil {
			continue
		}
		parts = append(parts, v.Arg.NITRO+":"+strings.Join(v.Values, " "))
	}
	for _, v := range c.Opts {
		if v.Arg == nil {
			continue
		}
		val := strings.Join(v.Values, " ")
		if v.Arg.Kind == schema.Flag {
			val = "true"
		}
		parts = append(parts, v.Arg.NITRO+":"+val)
	}
	if len(parts) == 0 {
		return nil
	}
	return url.Values{"args": {strings.Join(parts, ",")}}
}
