package nitro

import (
	"encoding/json"

	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
)

// call sends a request as nsroot and decodes the envelope.
func call(t *testing.T, s *Server, method, path, body string, status int) map[string]any {
	t.Helper()
	w := do(t, s, method, path, body, map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword})
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != status {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, w.Code, w.Body, status)
	}
	return out
}

func list(t *testing.T, out map[string]any, res string) []map[string]any {
	t.Helper()
	raw, _ := out[res].([]any)
	var l []map[string]any
	for _, r := range raw {
		l = append(l, r.(map[string]any))
	}
	return l
}

func TestMoreResources(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	// gslbparameter: a singleton updated by PUT.
	call(t, s, "PUT", "/nitro/v1/config/gslbparameter", `{"gslbparameter":{"ldnsentrytimeout":"60","ldnsprobeorder":["DNS","PING"]}}`, 200)
	p := list(t, call(t, s, "GET", "/nitro/v1/config/gslbparameter", "", 200), "gslbparameter")
	if p[0]["ldnsentrytimeout"] != "60" || len(p[0]["ldnsprobeorder"].([]any)) != 2 {
		t.Fatalf("gslbparameter: %v", p)
	}
	call(t, s, "POST", "/nitro/v1/config/gslbparameter", `{"gslbparameter":{"ldnsentrytimeout":60}}`, 405)
	// Service groups, members (servername is an alias of ip), and the
	// vserver binding.
	call(t, s, "POST", "/nitro/v1/config/gslbservicegroup", `{"gslbservicegroup":{"servicegroupname":"sg","servicetype":"HTTP","sitename":"s1"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/gslbservicegroup_gslbservicegroupmember_binding", `{"gslbservicegroup_gslbservicegroupmember_binding":{"servicegroupname":"sg","servername":"10.0.0.21","port":80,"weight":"5"}}`, 201)
	call(t, s, "PUT", "/nitro/v1/config/gslbvserver_gslbservicegroup_binding", `{"gslbvserver_gslbservicegroup_binding":{"name":"gv","servicegroupname":"sg"}}`, 200)
	m := list(t, call(t, s, "GET", "/nitro/v1/config/gslbservicegroup_gslbservicegroupmember_binding/sg", "", 200), "gslbservicegroup_gslbservicegroupmember_binding")
	if len(m) != 1 || m[0]["ip"] != "10.0.0.21" || m[0]["weight"] != "5" {
		t.Fatalf("members: %v", m)
	}
	agg := list(t, call(t, s, "GET", "/nitro/v1/config/gslbvserver_binding/gv", "", 200), "gslbvserver_binding")
	if len(agg) != 1 || agg[0]["gslbvserver_gslbservice_binding"] == nil || agg[0]["gslbvserver_domain_binding"] == nil || agg[0]["gslbvserver_gslbservicegroup_binding"] == nil {
		t.Fatalf("gslbvserver_binding: %v", agg)
	}
	call(t, s, "DELETE", "/nitro/v1/config/gslbvserver_gslbservicegroup_binding/gv?args=servicegroupname:sg", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/gslbservicegroup_gslbservicegroupmember_binding/sg?args=servername:10.0.0.21,port:80", "", 200)
	if m := list(t, call(t, s, "GET", "/nitro/v1/config/gslbservicegroup_gslbservicegroupmember_binding/sg", "", 200), "gslbservicegroup_gslbservicegroupmember_binding"); len(m) != 0 {
		t.Fatalf("member still bound: %v", m)
	}
	// DNS records: one POST per address, delete by args.
	call(t, s, "POST", "/nitro/v1/config/dnsaddrec", `{"dnsaddrec":[{"hostname":"h.test","ipaddress":"192.0.2.7","ttl":300},{"hostname":"h.test","ipaddress":"192.0.2.8"}]}`, 201)
	recs := list(t, call(t, s, "GET", "/nitro/v1/config/dnsaddrec/h.test", "", 200), "dnsaddrec")
	if len(recs) != 2 {
		t.Fatalf("dnsaddrec: %v", recs)
	}
	call(t, s, "DELETE", "/nitro/v1/config/dnsaddrec/h.test?args=ipaddress:192.0.2.7", "", 200)
	if recs := list(t, call(t, s, "GET", "/nitro/v1/config/dnsaddrec/h.test", "", 200), "dnsaddrec"); len(recs) != 1 {
		t.Fatalf("dnsaddrec after delete: %v", recs)
	}
	// ADNS service, domains, running config, version, users.
	call(t, s, "POST", "/nitro/v1/config/service", `{"service":{"name":"adns1","ip":"10.0.0.1","servicetype":"ADNS","port":53}}`, 201)
	if sv := list(t, call(t, s, "GET", "/nitro/v1/config/service/adns1", "", 200), "service"); sv[0]["servicetype"] != "ADNS" {
		t.Fatalf("service: %v", sv)
	}
	if d := list(t, call(t, s, "GET", "/nitro/v1/config/gslbdomain/gv.test", "", 200), "gslbdomain"); d[0]["vservername"] != "gv" {
		t.Fatalf("gslbdomain: %v", d)
	}
	rc := call(t, s, "GET", "/nitro/v1/config/gslbrunningconfig", "", 200)
	if !strings.Contains(rc["gslbrunningconfig"].(map[string]any)["response"].(string), "add gslb vserver gv HTTP") {
		t.Fatalf("running config: %v", rc)
	}
	call(t, s, "GET", "/nitro/v1/config/nsversion", "", 200)
	if u := list(t, call(t, s, "GET", "/nitro/v1/config/systemuser", "", 200), "systemuser"); len(u) != 2 || u[0]["password"] != nil {
		t.Fatalf("systemuser: %v", u)
	}
	// Writes are TestSystemUsers'; a password too short is refused
	// without echoing it.
	if out := call(t, s, "POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"x","password":"y"}}`, 599); strings.Contains(out["message"].(string), `"y"`) {
		t.Fatalf("the password is in the error: %v", out)
	}
}

// TestBulkOnError: the default bulk add is all or nothing; with
// X-NITRO-ONERROR continue every good object is added and a 207 lists
// each result; exit stops at the first failure.
func TestBulkOnError(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	body := `{"gslbvserver":[{"name":"b1","servicetype":"HTTP"},{"name":"b2","servicetype":"NOPE"},{"name":"b3","servicetype":"HTTP"}]}`
	h := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	if w := do(t, s, "POST", "/nitro/v1/config/gslbvserver", body, h); w.Code == 201 {
		t.Fatal("default bulk with a bad object succeeded")
	}
	if n := len(s.backend.Config().VServers.All()); n != 1 {
		t.Fatalf("default bulk left %d vservers, want the 1 seeded", n)
	}
	h["X-NITRO-ONERROR"] = "exit"
	w := do(t, s, "POST", "/nitro/v1/config/gslbvserver", body, h)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code != 207 || out["errorcode"] != float64(1243) || len(out["response"].([]any)) != 2 {
		t.Fatalf("exit: %d %s", w.Code, w.Body)
	}
	if n := len(s.backend.Config().VServers.All()); n != 2 {
		t.Fatalf("exit left %d vservers, want gv and b1", n)
	}
	h["X-NITRO-ONERROR"] = "continue"
	body = `{"gslbvserver":[{"name":"c1","servicetype":"HTTP"},{"name":"c2","servicetype":"NOPE"},{"name":"c3","servicetype":"HTTP"}]}`
	w = do(t, s, "POST", "/nitro/v1/config/gslbvserver", body, h)
	json.Unmarshal(w.Body.Bytes(), &out)
	res := out["response"].([]any)
	if w.Code != 207 || len(res) != 3 || res[1].(map[string]any)["errorcode"] == float64(0) || res[2].(map[string]any)["errorcode"] != float64(0) {
		t.Fatalf("continue: %d %s", w.Code, w.Body)
	}
	if n := len(s.backend.Config().VServers.All()); n != 4 {
		t.Fatalf("continue left %d vservers, want 4", n)
	}
}

func TestViewSummary(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText+"set gslb vserver gv -lbMethod ROUNDROBIN\n")
	v := list(t, call(t, s, "GET", "/nitro/v1/config/gslbvserver?view=summary", "", 200), "gslbvserver")
	if len(v) != 1 || len(v[0]) != 2 || v[0]["name"] != "gv" || v[0]["servicetype"] != "HTTP" {
		t.Fatalf("summary: %v", v)
	}
	if full := list(t, call(t, s, "GET", "/nitro/v1/config/gslbvserver", "", 200), "gslbvserver"); full[0]["lbmethod"] != "ROUNDROBIN" {
		t.Fatalf("detail: %v", full)
	}
}

// TestNoCommandInjection: a value carrying a line break cannot smuggle a
// second command into the CLI text a request becomes: breaks are kept as
// ns.conf's escapes, other control characters are refused.
func TestNoCommandInjection(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	h := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	for name, body := range map[string]string{
		"x1": `{"gslbvserver":{"name":"x1","servicetype":"HTTP","comment":"a\nrm gslb vserver gv"}}`,
		"x2": `{"gslbvserver":{"name":"x2","servicetype":"HTTP","comment":"a\"\r\nrm gslb vserver gv\n#"}}`,
	} {
		w := do(t, s, "POST", "/nitro/v1/config/gslbvserver", body, h)
		if w.Code != 201 {
			t.Fatalf("%s: %d %s", body, w.Code, w.Body)
		}
		if _, ok := s.backend.Config().VServers.Get("gv"); !ok {
			t.Fatalf("%s removed vserver gv", body)
		}
		v, _ := s.backend.Config().VServers.Get(name)
		if c := v.Args.Get("comment"); !strings.Contains(c, `\n`) || strings.Contains(c, "\n") {
			t.Errorf("comment stored as %q, want the line break escaped", c)
		}
	}
	w := do(t, s, "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"x3","servicetype":"HTTP","comment":"a\u0001b"}}`, h)
	if w.Code == 201 || !strings.Contains(w.Body.String(), "control characters") {
		t.Errorf("a control character in a value: %d %s", w.Code, w.Body)
	}
	// A monitor's custom headers sent with real line breaks work as the
	// CLI's escapes do.
	if w := do(t, s, "POST", "/nitro/v1/config/lbmonitor", `{"lbmonitor":{"monitorname":"h","type":"HTTP","customheaders":"X-A: 1\r\n"}}`, h); w.Code != 201 {
		t.Fatalf("monitor with custom headers: %d %s", w.Code, w.Body)
	}
	snap, err := config.Build(s.backend.Config())
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.Monitors["h"].CustomHeaders; got != "X-A: 1\r\n" {
		t.Errorf("custom headers %q, want a real CRLF", got)
	}
}

// ?warning=yes: 209 and one X-NITRO-WARNING per warning, the body still
// errorcode 0; without it, the usual status and no header.
func TestWarnings(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	creds := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	w := do(t, s, "PUT", "/nitro/v1/config/gslbvserver/gv?warning=yes", `{"gslbvserver":{"comment":"dc 1","dynamicweight":"SERVICECOUNT"}}`, creds)
	if w.Code != 209 {
		t.Fatalf("PUT with warning=yes: %d %s", w.Code, w.Body)
	}
	got := w.Header().Values("X-NITRO-WARNING")
	if len(got) != 2 || !strings.HasPrefix(got[0], "9001 - ") || !strings.Contains(strings.Join(got, "|"), "-dynamicWeight is accepted") {
		t.Fatalf("X-NITRO-WARNING: %q", got)
	}
	var body map[string]any
	json.Unmarshal(w.Body.Bytes(), &body)
	if body["errorcode"] != float64(0) || body["severity"] != "WARNING" {
		t.Fatalf("body: %v", body)
	}
	// Same change without asking: 200, no header (the warning is logged).
	w = do(t, s, "PUT", "/nitro/v1/config/gslbvserver/gv", `{"gslbvserver":{"comment":"dc 2"}}`, creds)
	if w.Code != 200 || w.Header().Get("X-NITRO-WARNING") != "" {
		t.Fatalf("PUT without warning=yes: %d %q", w.Code, w.Header())
	}
	// Asking, with nothing to warn about: a plain 201.
	w = do(t, s, "POST", "/nitro/v1/config/gslbservice?warning=yes", `{"gslbservice":{"servicename":"b","ip":"10.0.0.11","servicetype":"HTTP","port":80,"sitename":"s1"}}`, creds)
	if w.Code != 201 || w.Header().Get("X-NITRO-WARNING") != "" {
		t.Fatalf("POST without warnings: %d %q", w.Code, w.Header())
	}
	// A refused change is an error, never a 209.
	w = do(t, s, "PUT", "/nitro/v1/config/gslbvserver/gv?warning=yes", `{"gslbvserver":{"comment":"x","lbmethod":"NOSUCH"}}`, creds)
	if w.Code < 400 || w.Header().Get("X-NITRO-WARNING") != "" {
		t.Fatalf("refused change: %d %q", w.Code, w.Header())
	}
}

func TestViewMetricAndMetricTableBindings(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	// gslbservice_dnsview_binding: bind gslb service a -viewName v ip.
	call(t, s, "POST", "/nitro/v1/config/dnsview", `{"dnsview":{"viewname":"inside"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/gslbservice_dnsview_binding", `{"gslbservice_dnsview_binding":{"servicename":"a","viewname":"inside","viewip":"10.9.9.9"}}`, 201)
	v := list(t, call(t, s, "GET", "/nitro/v1/config/gslbservice_dnsview_binding/a", "", 200), "gslbservice_dnsview_binding")
	if len(v) != 1 || v[0]["viewname"] != "inside" || v[0]["viewip"] != "10.9.9.9" {
		t.Fatalf("view bindings: %v", v)
	}
	// The resource takes only its own fields: no monitor through it.
	call(t, s, "POST", "/nitro/v1/config/gslbservice_dnsview_binding", `{"gslbservice_dnsview_binding":{"servicename":"a","monitor_name":"tcp"}}`, 599)
	agg := list(t, call(t, s, "GET", "/nitro/v1/config/gslbservice_binding/a", "", 200), "gslbservice_binding")
	if len(agg) != 1 || agg[0]["gslbservice_dnsview_binding"] == nil {
		t.Fatalf("gslbservice_binding: %v", agg)
	}
	call(t, s, "DELETE", "/nitro/v1/config/gslbservice_dnsview_binding/a?args=viewname:inside", "", 200)
	if v := list(t, call(t, s, "GET", "/nitro/v1/config/gslbservice_dnsview_binding/a", "", 200), "gslbservice_dnsview_binding"); len(v) != 0 {
		t.Fatalf("view still bound: %v", v)
	}
	// lbmetrictable and its metric binding (the field is spelt Snmpoid),
	// then a LOAD monitor and lbmonitor_metric_binding.
	call(t, s, "POST", "/nitro/v1/config/lbmetrictable", `{"lbmetrictable":{"metrictable":"mt"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/lbmetrictable_metric_binding", `{"lbmetrictable_metric_binding":{"metrictable":"mt","metric":"cpu","Snmpoid":"1.3.6.1.4.1.2021.11.9.0"}}`, 201)
	mt := list(t, call(t, s, "GET", "/nitro/v1/config/lbmetrictable_metric_binding/mt", "", 200), "lbmetrictable_metric_binding")
	if len(mt) != 1 || mt[0]["Snmpoid"] != "1.3.6.1.4.1.2021.11.9.0" {
		t.Fatalf("metric table bindings: %v", mt)
	}
	call(t, s, "POST", "/nitro/v1/config/lbmonitor", `{"lbmonitor":{"monitorname":"lm","type":"LOAD","metrictable":"mt"}}`, 201)
	call(t, s, "PUT", "/nitro/v1/config/lbmonitor_metric_binding", `{"lbmonitor_metric_binding":{"monitorname":"lm","metric":"cpu","metricthreshold":"80","metricweight":2}}`, 200)
	mb := list(t, call(t, s, "GET", "/nitro/v1/config/lbmonitor_metric_binding/lm", "", 200), "lbmonitor_metric_binding")
	if len(mb) != 1 || mb[0]["metric"] != "cpu" || mb[0]["metricthreshold"] != "80" || mb[0]["metricweight"] != "2" {
		t.Fatalf("monitor metric bindings: %v", mb)
	}
	if rc := s.backend.Config().String(); !strings.Contains(rc, "bind lb monitor lm -metric cpu -metricThreshold 80 -metricWeight 2") ||
		!strings.Contains(rc, "bind lb metricTable mt cpu 1.3.6.1.4.1.2021.11.9.0") {
		t.Fatalf("running config:\n%s", rc)
	}
	if agg := list(t, call(t, s, "GET", "/nitro/v1/config/lbmonitor_binding/lm", "", 200), "lbmonitor_binding"); len(agg) != 1 || agg[0]["lbmonitor_metric_binding"] == nil {
		t.Fatalf("lbmonitor_binding: %v", agg)
	}
	if agg := list(t, call(t, s, "GET", "/nitro/v1/config/lbmetrictable_binding/mt", "", 200), "lbmetrictable_binding"); len(agg) != 1 || agg[0]["lbmetrictable_metric_binding"] == nil {
		t.Fatalf("lbmetrictable_binding: %v", agg)
	}
	call(t, s, "DELETE", "/nitro/v1/config/lbmonitor_metric_binding/lm?args=metric:cpu", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/lbmetrictable_metric_binding/mt?args=metric:cpu", "", 200)
	if mb := list(t, call(t, s, "GET", "/nitro/v1/config/lbmonitor_metric_binding/lm", "", 200), "lbmonitor_metric_binding"); len(mb) != 0 {
		t.Fatalf("metric still bound: %v", mb)
	}
}
