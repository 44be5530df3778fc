package nitro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
	"github.com/gslbd/gslbd/internal/schema"
)

// resource maps a NITRO resource onto a CLI group.
type resource struct {
	group string // CLI group: "gslb vserver"
	// binding resources (<a>_<b>_binding) add by bind and delete by unbind.
	binding bool
	// singleton resources (gslbparameter) have no key: PUT sets them.
	singleton bool
	// keyless resources (locationfile) are added by POST and deleted
	// without a key in the URL (rm locationFile).
	keyless bool
	// aliases are other names clients use for a field (servername: ip).
	aliases map[string]string
	// fields, when set, are the only fields a write may carry: bindings
	// that share a CLI command (bind gslb service -monitorName / -viewName)
	// take only their own.
	fields []string
	// list returns the objects for GET: those named key (the resource's
	// key field; a binding's parent), or all when key is "". Others are
	// skipped before they are built.
	list func(c *config.Config, key string) []obj
}

// canonical renames the fields clients send under another name
// (servername for ip).
func (rs *resource) canonical(o obj) obj {
	for alias, field := range rs.aliases {
		if v, ok := o[alias]; ok {
			delete(o, alias)
			o[field] = v
		}
	}
	return o
}

// only refuses fields outside rs.fields (when set).
func (rs *resource) only(o obj) error {
	if rs.fields == nil {
		return nil
	}
	var bad []string
	for k := range o {
		if !slices.Contains(rs.fields, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return fail(nserr.NoSuchArg, "No such argument ["+strings.Join(bad, ", ")+"]")
	}
	return nil
}

// The DNS record resources: dns<kind> over `add dns <kind>`.
func init() {
	for _, kind := range []string{"addRec", "aaaaRec", "cnameRec", "mxRec", "nsRec", "soaRec", "txtRec", "srvRec", "ptrRec"} {
		resources["dns"+strings.ToLower(kind)] = &resource{group: "dns " + kind, list: func(c *config.Config, key string) []obj { return listRecords(c, kind, key) }}
	}
}

// obj is one NITRO object: field names in canonical lower case.
type obj = map[string]any

var resources = map[string]*resource{
	"gslbsite":    {group: "gslb site", list: listSites},
	"gslbservice": {group: "gslb service", list: listServices},
	"gslbvserver": {group: "gslb vserver", list: listVServers},
	"lbmonitor":   {group: "lb monitor", list: listMonitors},
	"gslbvserver_gslbservice_binding": {group: "gslb vserver", binding: true, list: func(c *config.Config, key string) []obj {
		return vserverBindings(c, key, serviceBindings)
	}},
	"gslbvserver_domain_binding": {group: "gslb vserver", binding: true, list: func(c *config.Config, key string) []obj {
		return vserverBindings(c, key, domainBindings)
	}},
	"gslbservice_lbmonitor_binding": {group: "gslb service", binding: true, list: listMonitorBindings,
		fields: []string{"servicename", "monitor_name", "monstate", "weight"}},
	"gslbservice_dnsview_binding": {group: "gslb service", binding: true, list: listViewBindings,
		fields: []string{"servicename", "viewname", "viewip"}},
	"lbmonitor_metric_binding": {group: "lb monitor", binding: true, list: listMetricBindings,
		fields: []string{"monitorname", "metric", "metricthreshold", "metricweight"}},
	"gslbservicegroup": {group: "gslb serviceGroup", list: listServiceGroups},
	"lbmetrictable": {group: "lb metricTable", list: func(c *config.Config, key string) (out []obj) {
		each(&c.MetricTables, key, func(t *config.MetricTable) { out = append(out, obj{"metrictable": t.Name}) })
		return out
	}},
	"lbmetrictable_metric_binding": {group: "lb metricTable", binding: true, list: func(c *config.Config, key string) (out []obj) {
		each(&c.MetricTables, key, func(t *config.MetricTable) {
			for _, m := range t.Metrics {
				out = append(out, obj{"metrictable": t.Name, "metric": m.Metric, "Snmpoid": m.OID})
			}
		})
		return out
	}},
	"gslbservicegroup_gslbservicegroupmember_binding": {group: "gslb serviceGroup", binding: true,
		aliases: map[string]string{"servername": "ip"}, list: listMembers},
	"gslbservicegroup_lbmonitor_binding": {group: "gslb serviceGroup", binding: true, list: listGroupMonitors},
	"gslbvserver_gslbservicegroup_binding": {group: "gslb vserver", binding: true, list: func(c *config.Config, key string) []obj {
		return vserverBindings(c, key, groupBindings)
	}},
	"gslbparameter": {group: "gslb parameter", singleton: true, list: func(c *config.Config, _ string) []obj {
		o := obj{}
		putArgs(o, "gslb parameter", &c.Parameter, "set")
		putDefaults(o, "gslb parameter", "set")
		return []obj{o}
	}},
	"service": {group: "service", list: listAppServices},
	"dnszone": {group: "dns zone", list: func(c *config.Config, key string) []obj {
		var out []obj
		for _, z := range c.Zones.All() {
			if named(key, z.Name) {
				o := row(obj{"zonename": z.Name}, "dns zone", &z.Args, "add", "set")
				putDefaults(o, "dns zone", "add")
				out = append(out, o)
			}
		}
		return out
	}},
}

// dispatch serves an authenticated request.
func (s *Server) dispatch(req *request) (*reply, error) {
	if req.kind == "stat" {
		return s.stat(req)
	}
	switch req.resource {
	case "logout":
		return s.logout(req)
	case "nsconfig":
		return s.nsconfig(req)
	case "nsfeature":
		if req.r.Method == http.MethodGet {
			return &reply{fields: obj{"nsfeature": obj{"feature": []string{"LB", "GSLB"}}}}, nil
		}
		return &reply{}, nil // enable/disable: GSLB and LB are always on
	case "nsversion":
		return &reply{fields: obj{"nsversion": obj{"version": "gslbd (NITRO v1 compatible)", "mode": 1}}}, nil
	case "gslbrunningconfig":
		return &reply{fields: obj{"gslbrunningconfig": obj{"response": s.backend.Config().Canonical()}}}, nil
	case "systemuser":
		return s.systemuser(req)
	case "systemuser_systemcmdpolicy_binding":
		return s.userPolicy(req)
	case "gslbdomain":
		return s.get(req, domainResource)
	case "gslbldnsentries", "gslbldnsentry":
		return s.ldnsEntries(req)
	}
	if agg, ok := strings.CutSuffix(req.resource, "_binding"); ok && !strings.Contains(agg, "_") && req.r.Method == http.MethodGet {
		return s.aggregate(req, agg)
	}
	rs := resources[req.resource]
	if rs == nil {
		return nil, &apiError{code: nserr.InvalidObjectName, msg: "Invalid object name [" + req.resource + "]", status: http.StatusNotFound}
	}
	switch req.r.Method {
	case http.MethodGet:
		return s.get(req, rs)
	case http.MethodPost:
		return s.post(req, rs)
	case http.MethodPut:
		verb := "set"
		if rs.binding {
			verb = "bind"
		}
		return s.apply(req, rs, verb, http.StatusOK)
	case http.MethodDelete:
		return s.delete(req, rs)
	}
	return nil, fail(nserr.InvalidMethod, "Invalid method "+req.r.Method)
}

func (s *Server) post(req *request, rs *resource) (*reply, error) {
	switch action := strings.ToLower(req.query.Get("action")); action {
	case "":
		if rs.binding {
			return s.apply(req, rs, "bind", http.StatusCreated)
		}
		return s.apply(req, rs, "add", http.StatusCreated)
	case "unset", "enable", "disable", "rename":
		if schema.Lookup(action, rs.group) == nil {
			return nil, fail(nserr.InvalidAction, "Invalid action ["+action+"] for "+req.resource)
		}
		return s.apply(req, rs, action, http.StatusOK)
	default:
		return nil, fail(nserr.InvalidAction, "Invalid action ["+action+"] for "+req.resource)
	}
}

// decodeBody reads a JSON body into v; the size limit was set before.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{code: nserr.InvalidJSON, msg: fmt.Sprintf("Invalid JSON input: body over %d bytes", mbe.Limit), status: http.StatusRequestEntityTooLarge}
		}
		return fail(nserr.InvalidJSON, "Invalid JSON input: "+err.Error())
	}
	if depth(b) > 8 {
		return fail(nserr.InvalidJSON, "Invalid JSON input: nested too deeply")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fail(nserr.InvalidJSON, "Invalid JSON input: "+err.Error())
	}
	return nil
}

// depth is the deepest nesting of brackets in a JSON text, counted
// before decoding (strings skipped).
func depth(b []byte) int {
	d, most, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			most = max(most, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return most
}

// objects returns the request's objects: {"<res>": {...}} or a list.
func objects(req *request) ([]obj, error) {
	var body map[string]json.RawMessage
	if err := decodeBody(req.r, &body); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	for k, v := range body {
		if strings.EqualFold(k, req.resource) {
			raw = v
		}
	}
	if raw == nil {
		return nil, fail(nserr.InvalidJSON, "Invalid JSON input: no \""+req.resource+"\" object")
	}
	var list []map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := dec.Decode(&list); err != nil {
			return nil, fail(nserr.InvalidJSONType, "Invalid JSON data type: "+err.Error())
		}
	} else {
		var one map[string]any
		if err := dec.Decode(&one); err != nil {
			return nil, fail(nserr.InvalidJSONType, "Invalid JSON data type: "+err.Error())
		}
		list = []map[string]any{one}
	}
	out := make([]obj, len(list))
	for i, o := range list {
		out[i] = obj{}
		for k, v := range o {
			if v == nil {
				continue // null: not given (the Terraform provider sends "deviation":null)
			}
			out[i][strings.ToLower(k)] = v
		}
	}
	return out, nil
}

// number reads a JSON number or a string holding one.
func number(raw json.RawMessage) (int64, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(fmt.Sprint(v)), 10, 64)
}

var escaper = strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", `\t`)

// words renders a JSON value as CLI tokens: a string, a number (clients
// send both), a bool, or an array of those.
func words(field string, v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		// A request becomes one CLI line: no value may break it. Line
		// breaks and tabs become the escapes ns.conf uses for them (as in
		// -customHeaders "Host: a\r\n"); other control characters are
		// refused.
		x = escaper.Replace(x)
		if strings.ContainsFunc(x, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, fail(nserr.ArgValBad, "Invalid argument value ["+field+"]: control characters are not allowed")
		}
		return []string{x}, nil
	case json.Number:
		return []string{x.String()}, nil
	case bool:
		return []string{strconv.FormatBool(x)}, nil
	case []any:
		var out []string
		for _, e := range x {
			w, err := words(field, e)
			if err != nil || len(w) != 1 {
				return nil, fail(nserr.InvalidJSONType, "Invalid JSON data type ["+field+"]")
			}
			out = append(out, w[0])
		}
		return out, nil
	}
	return nil, fail(nserr.InvalidJSONType, "Invalid JSON data type ["+field+"]")
}

// isZero reports whether a JSON value is the number 0 (or "0").
func isZero(v any) bool {
	switch x := v.(type) {
	case json.Number:
		return x.String() == "0"
	case string:
		return x == "0"
	}
	return false
}

// line builds the CLI command for verb over one object. Every field must
// be an argument of that command (positional or named); a named argument
// that takes a value after it (-weight w -monitorName m) takes it from its
// own field.
// Fields are looked up in lower case, as objects() stores them.
func line(verb, group string, o obj) (string, error) {
	cmd := schema.Lookup(verb, group)
	if cmd == nil {
		return "", fail(nserr.InvalidAction, "Invalid action ["+verb+"] for "+group)
	}
	used := map[string]bool{}
	parts := []string{verb, group}
	for _, p := range cmd.Pos {
		v, ok := o[strings.ToLower(p.NITRO)]
		if !ok {
			if p.Optional {
				continue // the CLI tells optional positionals apart by their kind
			}
			return "", fail(nserr.ArgMissing, "Required argument missing ["+p.NITRO+"]")
		}
		w, err := words(p.NITRO, v)
		if err != nil {
			return "", err
		}
		for _, x := range w {
			parts = append(parts, nsconf.Quote(x))
		}
		used[strings.ToLower(p.NITRO)] = true
	}
	for _, a := range cmd.Opts {
		v, ok := o[strings.ToLower(a.NITRO)]
		if !ok {
			continue
		}
		used[strings.ToLower(a.NITRO)] = true
		if a.Kind == schema.Int && a.Min >= 1 && isZero(v) {
			// 0 where 0 is not a value: clients send it for an integer
			// they leave unset (the Terraform provider's inline domain
			// and service blocks send ttl, sitedomainttl and weight 0).
			continue
		}
		w, err := words(a.NITRO, v)
		if err != nil {
			return "", err
		}
		switch {
		case a.Kind == schema.Flag || verb == "unset":
			if len(w) == 1 && (w[0] == "false" || w[0] == "0") {
				continue
			}
			parts = append(parts, "-"+a.Name)
			continue
		}
		parts = append(parts, "-"+a.Name)
		for _, x := range w {
			parts = append(parts, nsconf.Quote(x))
		}
		if a.Extra != nil {
			if ev, ok := o[strings.ToLower(a.Extra.NITRO)]; ok {
				used[strings.ToLower(a.Extra.NITRO)] = true
				ew, err := words(a.Extra.NITRO, ev)
				if err != nil {
					return "", err
				}
				for _, x := range ew {
					parts = append(parts, nsconf.Quote(x))
				}
			}
		}
	}
	var unknown []string
	for k := range o {
		if !used[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return "", fail(nserr.NoSuchArg, "No such argument ["+strings.Join(unknown, ", ")+"]")
	}
	return strings.Join(parts, " "), nil
}

// apply runs verb over the request's objects as one change: all or none.
// With ?idempotent=yes an add of an existing object becomes a set of the
// fields given (docs §4.3).
func (s *Server) apply(req *request, rs *resource, verb string, status int) (*reply, error) {
	objs, err := objects(req)
	if err != nil {
		return nil, err
	}
	key := schema.KeyNITRO(rs.group)
	var lines []string
	for _, o := range objs {
		o = rs.canonical(o)
		if rs.singleton {
			if verb != "set" && verb != "unset" {
				return nil, fail(nserr.InvalidMethod, "Invalid method: "+req.resource+" is updated with PUT")
			}
		} else if req.key != "" && !rs.binding {
			o[key] = req.key // PUT /config/<res>/<name>: the name is in the URL as well
		}
		v := verb
		if verb == "add" && strings.EqualFold(req.query.Get("idempotent"), "yes") && exists(s.backend.Config(), rs, o[key]) {
			v = "set"
			o = settable(rs.group, o)
		}
		l, err := line(v, rs.group, o)
		if oerr := rs.only(o); oerr != nil {
			err = oerr
		}
		if err != nil && len(objs) == 1 {
			return nil, err
		}
		if err != nil {
			l = "\x00" + err.Error() // reported per object below, or fails the whole batch
		}
		lines = append(lines, l)
	}
	switch onerror := strings.ToLower(req.r.Header.Get("X-NITRO-ONERROR")); {
	case len(lines) > 1 && (onerror == "continue" || onerror == "exit"):
		return s.applyEach(req, lines, onerror == "exit", status)
	case onerror != "" && onerror != "rollback" && onerror != "continue" && onerror != "exit":
		return nil, fail(nserr.Inval, "Invalid argument [X-NITRO-ONERROR: "+onerror+"]: exit, continue or rollback")
	}
	for _, l := range lines {
		if msg, bad := strings.CutPrefix(l, "\x00"); bad {
			return nil, fail(nserr.BulkFailed, "Bulk operation failed: "+msg)
		}
	}
	// The default, and rollback: every object or none (NetScaler's default
	// is exit, which leaves the objects before a failure applied).
	if err := s.change(req, strings.Join(lines, "\n")+"\n"); err != nil {
		return nil, err
	}
	return &reply{status: status}, nil
}

// change applies CLI lines through the backend; the change's warnings
// are kept on the request (answered with ?warning=yes).
func (s *Server) change(req *request, text string) error {
	by := events.Origin{Via: "nitro", Client: req.r.RemoteAddr, Agent: events.Agent(req.r.UserAgent())}
	if req.user != nil {
		by.User = req.user.name
	}
	warnings, err := s.backend.Change(by, text)
	req.warnings = append(req.warnings, warnings...)
	return err
}

// applyEach applies bulk objects one by one (X-NITRO-ONERROR continue or
// exit): 207 Multi-Status with one result per object when any failed.
func (s *Server) applyEach(req *request, lines []string, stopAtFirst bool, status int) (*reply, error) {
	var results []obj
	failed := false
	for _, l := range lines {
		var err error
		if msg, bad := strings.CutPrefix(l, "\x00"); bad {
			err = fail(nserr.Inval, msg)
		} else {
			err = s.change(req, l+"\n")
		}
		if err != nil {
			ae := asAPIError(err)
			results = append(results, obj{"errorcode": int(ae.code), "message": ae.msg, "severity": "ERROR"})
			failed = true
			if stopAtFirst {
				break
			}
			continue
		}
		results = append(results, obj{"errorcode": 0, "message": "Done", "severity": "NONE"})
	}
	if !failed {
		return &reply{status: status}, nil
	}
	return &reply{status: http.StatusMultiStatus, fields: obj{"errorcode": int(nserr.BulkFailed), "message": "Bulk operation failed",
		"severity": "ERROR", "response": results}}, nil
}

// settable keeps the key and the fields that set accepts.
func settable(group string, o obj) obj {
	cmd := schema.Lookup("set", group)
	out := obj{}
	for k, v := range o {
		if k == schema.KeyNITRO(group) {
			out[k] = v
			continue
		}
		for _, a := range cmd.Opts {
			if strings.EqualFold(a.NITRO, k) || a.Extra != nil && strings.EqualFold(a.Extra.NITRO, k) {
				out[k] = v
			}
		}
	}
	return out
}

func exists(c *config.Config, rs *resource, key any) bool {
	k, ok := key.(string)
	if !ok {
		return false
	}
	return k != "" && len(rs.list(c, k)) > 0
}

// delete is rm, or unbind for a binding: the key from the URL, further
// keys from ?args=k:v,... .
func (s *Server) delete(req *request, rs *resource) (*reply, error) {
	if req.key == "" && !rs.keyless {
		return nil, fail(nserr.ArgMissing, "Required argument missing [key in the URL]")
	}
	o := obj{}
	if req.key != "" {
		o[strings.ToLower(schema.KeyNITRO(rs.group))] = req.key
	}
	args, err := pairs(req.query.Get("args"))
	if err != nil {
		return nil, err
	}
	for k, v := range args {
		o[k] = v
	}
	o = rs.canonical(o)
	if err := rs.only(o); err != nil {
		return nil, err
	}
	verb := "rm"
	if rs.binding {
		verb = "unbind"
	} else if rs.keyless && len(rs.list(s.backend.Config(), req.key)) == 0 {
		return nil, fail(nserr.NoEnt, "No such resource ["+req.resource+"]")
	} else if !rs.keyless && !exists(s.backend.Config(), rs, req.key) {
		return nil, fail(nserr.NoEnt, "No such resource ["+schema.KeyNITRO(rs.group)+", "+req.key+"]")
	}
	l, err := line(verb, rs.group, o)
	if err != nil {
		return nil, err
	}
	if err := s.change(req, l+"\n"); err != nil {
		return nil, err
	}
	return &reply{}, nil
}

// pairs parses args=k1:v1,k2:v2 (and filter=); names lower-cased.
func pairs(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(p, ":")
		if !ok || k == "" {
			return nil, fail(nserr.Inval, "Invalid argument ["+p+"]: want name:value")
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// get lists objects: one by key (404 and 258 when absent), or all, with
// filter=, attrs=, count=yes, pagesize=/pageno=.
func (s *Server) get(req *request, rs *resource) (*reply, error) {
	all := rs.list(s.backend.Config(), req.key)
	key := schema.KeyNITRO(rs.group)
	if st, ok := s.backend.(Stater); ok && !rs.binding {
		live := st.Stat(req.resource)
		for i, o := range all {
			name, _ := o[key].(string)
			f := live[strings.ToLower(name)]
			if req.kind == "stat" {
				// Statistics: the name and the live figures only.
				n := obj{key: name}
				if t, ok := o["servicetype"]; ok {
					n["type"] = t
				}
				o = n
				all[i] = o
			}
			for k, v := range f {
				if _, ok := o[k]; !ok || k == "state" && req.kind == "stat" {
					o[k] = v
				}
			}
		}
	}
	out := all // already only those named req.key
	if req.key != "" && len(out) == 0 && !rs.binding {
		return nil, fail(nserr.NoEnt, "No such resource ["+key+", "+req.key+"]")
	}
	filter, err := pairs(req.query.Get("filter"))
	if err != nil {
		return nil, err
	}
	if len(filter) > 0 {
		out = slices.DeleteFunc(out, func(o obj) bool { return !matches(o, filter) })
	}
	if strings.EqualFold(req.query.Get("count"), "yes") {
		return &reply{fields: obj{req.resource: []obj{{"__count": strconv.Itoa(len(out))}}}}, nil // <Double>: a string
	}
	if ps, _ := strconv.Atoi(req.query.Get("pagesize")); ps > 0 {
		pn, _ := strconv.Atoi(req.query.Get("pageno"))
		pn = max(pn, 1)
		lo := min((pn-1)*ps, len(out))
		out = out[lo:min(lo+ps, len(out))]
	}
	if strings.EqualFold(req.query.Get("view"), "summary") {
		// Summary: the fields an add needs (its positionals).
		var keep []string
		if c := schema.Lookup("add", rs.group); c != nil {
			for _, p := range c.Pos {
				keep = append(keep, p.NITRO)
			}
		}
		project(out, keep)
	}
	if attrs := req.query.Get("attrs"); attrs != "" {
		project(out, strings.Split(strings.ToLower(attrs), ","))
	}
	if len(out) == 0 {
		return &reply{}, nil // no key: clients read a missing list as empty
	}
	return &reply{fields: obj{req.resource: out}}, nil
}

// project keeps only the named fields of each object.
func project(objs []obj, fields []string) {
	for i, o := range objs {
		n := obj{}
		for _, k := range fields {
			if v, ok := o[k]; ok {
				n[k] = v
			}
		}
		objs[i] = n
	}
}

// matches applies filter=k:v: v is a regular expression matched against
// the whole value (a plain value matches itself).
func matches(o obj, filter map[string]string) bool {
	for k, want := range filter {
		got := fmt.Sprint(o[k])
		if _, ok := o[k]; !ok {
			return false
		}
		re, err := regexp.Compile("^(?:" + want + ")$")
		if err != nil {
			if got != want {
				return false
			}
			continue
		}
		if !re.MatchString(got) {
			return false
		}
	}
	return true
}

// nsconfig: ?action=save writes the running configuration.
func (s *Server) nsconfig(req *request) (*reply, error) {
	if req.r.Method == http.MethodPost && strings.EqualFold(req.query.Get("action"), "diff") {
		savedOnly, runningOnly, err := s.backend.Diff()
		if err != nil {
			return nil, fail(nserr.Inval, err.Error())
		}
		var b strings.Builder
		for _, l := range savedOnly {
			b.WriteString("- " + l + "\n")
		}
		for _, l := range runningOnly {
			b.WriteString("+ " + l + "\n")
		}
		return &reply{fields: obj{"nsconfig": obj{"response": b.String()}}}, nil
	}
	if req.r.Method == http.MethodPost && strings.EqualFold(req.query.Get("action"), "clear") {
		objs, err := objects(req)
		if err != nil {
			return nil, err
		}
		if lvl, _ := objs[0]["level"].(string); !strings.EqualFold(lvl, "basic") {
			return nil, fail(nserr.ArgValBad, "Invalid argument value [level]: gslbd clears at level basic")
		}
		if err := s.backend.Clear(); err != nil {
			return nil, err
		}
		return &reply{}, nil
	}
	if req.r.Method != http.MethodPost || !strings.EqualFold(req.query.Get("action"), "save") {
		return nil, fail(nserr.InvalidAction, "Invalid action: nsconfig supports action=save, diff and clear")
	}
	if err := s.backend.Save(); err != nil {
		return nil, fail(nserr.Inval, "Configuration not saved: "+err.Error())
	}
	return &reply{}, nil
}

// stat serves /stat/gslbvserver[/<name>] with what the configuration
// knows; live counters come with the statistics work.
func (s *Server) stat(req *request) (*reply, error) {
	if req.r.Method != http.MethodGet {
		return nil, fail(nserr.InvalidMethod, "Invalid method: statistics are read with GET")
	}
	switch req.resource {
	case "gslbevents":
		return s.events(req)
	case "gslbexplain":
		return s.explain(req)
	}
	rs := resources[req.resource]
	if req.resource == "gslbdomain" {
		rs = domainResource
	}
	if rs == nil || rs.binding {
		return nil, &apiError{code: nserr.InvalidObjectName, msg: "Invalid object name [" + req.resource + "]", status: http.StatusNotFound}
	}
	return s.get(req, rs)
}

// domainResource is gslbdomain: the domains bound to vservers, by name.
var domainResource = &resource{group: "gslb domain", list: func(c *config.Config, key string) []obj {
	var out []obj
	for _, v := range c.VServers.All() {
		for _, d := range v.Domains {
			if name := strings.TrimSuffix(d.Domain, "."); named(key, name) {
				out = append(out, obj{"name": name, "vservername": v.Name})
			}
		}
	}
	return out
}}

// aggregate is GET <a>_binding[/<key>]: every binding kind of <a> in one
// object per key (docs §4.8).
func (s *Server) aggregate(req *request, a string) (*reply, error) {
	var kinds []string
	for name := range resources {
		if strings.HasPrefix(name, a+"_") && strings.HasSuffix(name, "_binding") {
			kinds = append(kinds, name)
		}
	}
	if len(kinds) == 0 {
		return nil, &apiError{code: nserr.InvalidObjectName, msg: "Invalid object name [" + req.resource + "]", status: http.StatusNotFound}
	}
	slices.Sort(kinds)
	c := s.backend.Config()
	key := schema.KeyNITRO(resources[kinds[0]].group)
	byKey := map[string]obj{}
	var order []string
	for _, k := range kinds {
		for _, o := range resources[k].list(c, req.key) {
			name, _ := o[key].(string)
			agg := byKey[name]
			if agg == nil {
				agg = obj{key: name}
				byKey[name] = agg
				order = append(order, name)
			}
			list, _ := agg[k].([]obj)
			agg[k] = append(list, o)
		}
	}
	if len(order) == 0 {
		if req.key != "" {
			return &reply{fields: obj{req.resource: []obj{{key: req.key}}}}, nil
		}
		return &reply{}, nil
	}
	var out []obj
	for _, n := range order {
		out = append(out, byKey[n])
	}
	return &reply{fields: obj{req.resource: out}}, nil
}
