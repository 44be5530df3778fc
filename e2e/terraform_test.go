package e2e

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// qe2 escapes a name twice, as adc-nitro-go does for names in paths.
func qe2(s string) string { return url.QueryEscape(url.QueryEscape(s)) }

// TestTerraformProviderSequence replays, request for request, what the
// citrixadc Terraform provider (2.x, through the adc-nitro-go it
// vendors) sends for an lbmonitor, a GSLB site, two GSLB services with a
// monitor binding, a GSLB vserver with inline domain and service blocks
// and a backup vserver, a disable and enable of a service, then a refresh,
// an import and a destroy; and checks the types of what it reads back,
// where a wrong type crashes the provider (a number where it does
// strconv.Atoi(x.(string))) or makes every plan show a change.
func TestTerraformProviderSequence(t *testing.T) {
	d, _, srv := nitroServer(t, "add gslb site base 127.0.0.1\n")
	h := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	req := func(method, path, body string, status int) map[string]any {
		t.Helper()
		return expectCall(t, srv, method, "/nitro/v1/config/"+path, body, h, status)
	}
	one := func(out map[string]any, res string) map[string]any {
		t.Helper()
		l, _ := out[res].([]any)
		if len(l) != 1 {
			t.Fatalf("GET %s: %v, want one object", res, out)
		}
		return l[0].(map[string]any)
	}
	str := func(o map[string]any, field string) string {
		t.Helper()
		s, ok := o[field].(string)
		if !ok {
			t.Fatalf("%s is %T (%v), the provider reads it as a string", field, o[field], o[field])
		}
		return s
	}
	atoi := func(o map[string]any, field string) int {
		t.Helper()
		n, err := strconv.Atoi(str(o, field))
		if err != nil {
			t.Fatalf("%s %q: strconv.Atoi: %v", field, o[field], err)
		}
		return n
	}

	// citrixadc_lbmonitor: "deviation":null on every create and update.
	req("POST", "lbmonitor?idempotent=yes", `{"lbmonitor":{"monitorname":"tf_mon","type":"HTTP","httprequest":"GET /health","respcode":["200"],"interval":5,"resptimeout":2,"retries":3,"reverse":"NO","successretries":1,"deviation":null}}`, 201)
	m := one(req("GET", "lbmonitor/tf_mon", "", 200), "lbmonitor")
	if m["interval"] != float64(5) || m["units3"] != "SEC" || str(m, "type") != "HTTP" || m["respcode"].([]any)[0] != "200" {
		t.Fatalf("lbmonitor read back: %v", m)
	}
	req("PUT", "lbmonitor/"+qe2("tf_mon"), `{"lbmonitor":{"monitorname":"tf_mon","type":"HTTP","interval":10,"deviation":null}}`, 200)

	// citrixadc_gslbsite, then import: the defaults the schema has.
	req("POST", "gslbsite?idempotent=yes", `{"gslbsite":{"sitename":"tf_site","siteipaddress":"127.0.0.2","sitetype":"REMOTE","metricexchange":"ENABLED","nwmetricexchange":"ENABLED","sessionexchange":"ENABLED","triggermonitor":"ALWAYS"}}`, 201)
	s := one(req("GET", "gslbsite/"+qe2("tf_site"), "", 200), "gslbsite")
	for k, want := range map[string]string{"metricexchange": "ENABLED", "nwmetricexchange": "ENABLED", "sessionexchange": "ENABLED", "triggermonitor": "ALWAYS", "sitetype": "REMOTE"} {
		if got := str(s, k); got != want {
			t.Errorf("gslbsite %s: got %q, want %q", k, got, want)
		}
	}

	// citrixadc_gslbservice with an inline lbmonitorbinding: the binding
	// is a GET, then a PUT to gslbservice_lbmonitor_binding/<service>.
	for i, name := range []string{"tf_svc1", "tf_svc2"} {
		req("POST", "gslbservice?idempotent=yes", fmt.Sprintf(`{"gslbservice":{"servicename":%q,"ip":"192.0.2.%d","servicetype":"HTTP","port":80,"sitename":"tf_site"}}`, name, 10+i), 201)
	}
	req("GET", "gslbservice_lbmonitor_binding/"+qe2("tf_svc1"), "", 200) // no binding yet: 200, empty
	req("PUT", "gslbservice_lbmonitor_binding/"+qe2("tf_svc1"), `{"gslbservice_lbmonitor_binding":{"monitor_name":"tf_mon","monstate":"ENABLED","weight":20,"servicename":"tf_svc1"}}`, 200)
	svc := one(req("GET", "gslbservice/"+qe2("tf_svc1"), "", 200), "gslbservice")
	if str(svc, "ipaddress") != "192.0.2.10" || svc["port"] != float64(80) || str(svc, "state") != "ENABLED" || atoi(svc, "maxclient") != 0 {
		t.Fatalf("gslbservice read back: %v", svc)
	}
	mb := one(req("GET", "gslbservice_lbmonitor_binding/"+qe2("tf_svc1"), "", 200), "gslbservice_lbmonitor_binding")
	if atoi(mb, "weight") != 20 || str(mb, "monitor_name") != "tf_mon" || str(mb, "monstate") != "ENABLED" {
		t.Fatalf("monitor binding read back: %v", mb)
	}

	// citrixadc_gslbvserver: create, the backup vserver by an update, then
	// the inline domain and service blocks, whose unset integers arrive
	// as 0 (ttl, cookietimeout, sitedomainttl, weight).
	req("POST", "gslbvserver?idempotent=yes", `{"gslbvserver":{"name":"tf_vs2","servicetype":"HTTP","lbmethod":"ROUNDROBIN"}}`, 201)
	req("POST", "gslbvserver?idempotent=yes", `{"gslbvserver":{"name":"tf_vs","servicetype":"HTTP","lbmethod":"ROUNDROBIN","state":"ENABLED"}}`, 201)
	req("GET", "gslbvserver/"+qe2("tf_vs"), "", 200)
	req("PUT", "gslbvserver/"+qe2("tf_vs"), `{"gslbvserver":{"backupvserver":"tf_vs2","name":"tf_vs"}}`, 200)
	req("POST", "gslbvserver_domain_binding", `{"gslbvserver_domain_binding":{"domainname":"tf.example.test","ttl":0,"cookietimeout":0,"sitedomainttl":0,"name":"tf_vs"}}`, 201)
	req("POST", "gslbvserver_gslbservice_binding", `{"gslbvserver_gslbservice_binding":{"servicename":"tf_svc1","weight":0,"name":"tf_vs"}}`, 201)
	req("PUT", "gslbvserver_gslbservice_binding", `{"gslbvserver_gslbservice_binding":{"name":"tf_vs","servicename":"tf_svc2","weight":30}}`, 200)
	// Refresh: the reads of the vserver and its bindings.
	vs := one(req("GET", "gslbvserver/"+qe2("tf_vs"), "", 200), "gslbvserver")
	if str(vs, "backupvserver") != "tf_vs2" || str(vs, "state") != "ENABLED" || str(vs, "dnsrecordtype") != "A" || atoi(vs, "timeout") != 2 {
		t.Fatalf("gslbvserver read back: %v", vs)
	}
	db := one(req("GET", "gslbvserver_domain_binding/tf_vs", "", 200), "gslbvserver_domain_binding")
	if str(db, "domainname") != "tf.example.test" || atoi(db, "ttl") != 5 || atoi(db, "sitedomainttl") != 3600 || atoi(db, "cookietimeout") != 0 {
		t.Fatalf("domain binding read back: %v", db)
	}
	sb := req("GET", "gslbvserver_gslbservice_binding/tf_vs", "", 200)["gslbvserver_gslbservice_binding"].([]any)
	weights := map[string]int{}
	for _, b := range sb {
		weights[str(b.(map[string]any), "servicename")] = atoi(b.(map[string]any), "weight")
	}
	if weights["tf_svc1"] != 1 || weights["tf_svc2"] != 30 {
		t.Fatalf("service bindings read back: %v", sb)
	}

	// State: disable and enable through the service resource, read back
	// as gslbservice.state.
	req("POST", "service?action=disable", `{"service":{"name":"tf_svc2","delay":0}}`, 200)
	if st := str(one(req("GET", "gslbservice/"+qe2("tf_svc2"), "", 200), "gslbservice"), "state"); st != "DISABLED" {
		t.Fatalf("after disable: state %q", st)
	}
	if got := answerSet(t, d, "tf.example.test"); got != "192.0.2.10" {
		t.Fatalf("a disabled service answered: %q", got)
	}
	req("POST", "service?action=enable", `{"service":{"name":"tf_svc2"}}`, 200)
	if st := str(one(req("GET", "gslbservice/"+qe2("tf_svc2"), "", 200), "gslbservice"), "state"); st != "ENABLED" {
		t.Fatalf("after enable: state %q", st)
	}

	// Import then plan: a second read of everything gives the same objects.
	first := map[string]string{}
	for _, path := range []string{"lbmonitor/tf_mon", "gslbsite/tf_site", "gslbservice/tf_svc1", "gslbvserver/tf_vs",
		"gslbvserver_domain_binding/tf_vs", "gslbvserver_gslbservice_binding/tf_vs", "gslbservice_lbmonitor_binding/tf_svc1"} {
		first[path] = fmt.Sprint(req("GET", path, "", 200))
	}
	for path, was := range first {
		if again := fmt.Sprint(req("GET", path, "", 200)); again != was {
			t.Errorf("%s read twice differs:\n%s\n%s", path, was, again)
		}
	}

	// Destroy: unbind with ?args= (GET first, as DeleteResourceWithArgs),
	// then delete, the monitor with its type.
	for _, step := range []struct{ method, path string }{
		{"GET", "gslbvserver_domain_binding/" + qe2("tf_vs") + "?args=domainname:tf.example.test"},
		{"DELETE", "gslbvserver_domain_binding/" + qe2("tf_vs") + "?args=domainname:tf.example.test"},
		{"DELETE", "gslbvserver/" + qe2("tf_vs")},
		{"DELETE", "gslbvserver/" + qe2("tf_vs2")},
		{"GET", "gslbservice_lbmonitor_binding/" + qe2("tf_svc1") + "?args=monitor_name:tf_mon"},
		{"DELETE", "gslbservice_lbmonitor_binding/" + qe2("tf_svc1") + "?args=monitor_name:tf_mon"},
		{"DELETE", "gslbservice/" + qe2("tf_svc1")},
		{"DELETE", "gslbservice/" + qe2("tf_svc2")},
		{"GET", "lbmonitor/" + qe2("tf_mon") + "?args=type:HTTP"},
		{"DELETE", "lbmonitor/" + qe2("tf_mon") + "?args=type:HTTP"},
		{"DELETE", "gslbsite/" + qe2("tf_site")},
	} {
		req(step.method, step.path, "", 200)
	}
	if rc := d.Config().Canonical(); strings.Contains(rc, "tf_") {
		t.Fatalf("left after destroy:\n%s", rc)
	}
}
