package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/miekg/dns"
)

const nitroPassword = "test-Secret-9f3a"

// nitroServer serves the NITRO API over TLS for a daemon started from a
// file, with a superuser nsroot and a read-only user "viewer".
func nitroServer(t *testing.T, conf string) (*daemon.Daemon, string, *httptest.Server) {
	t.Helper()
	d, p := startFile(t, conf)
	return d, p, apiServer(t, d, newUsers(t))
}

// newUsers has a superuser nsroot and a read-only user "viewer".
func newUsers(t *testing.T) *nitro.Users {
	users := nitro.NewUsers()
	for name, role := range map[string]nitro.Role{"nsroot": nitro.Superuser, "viewer": nitro.ReadOnly} {
		if err := users.Add(name, nitroPassword, role); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// apiServer serves d's NITRO API over TLS.
func apiServer(t *testing.T, d *daemon.Daemon, users *nitro.Users) *httptest.Server {
	srv := httptest.NewTLSServer(nitro.New(d, users, nitro.Options{}))
	t.Cleanup(srv.Close)
	return srv
}

// call sends one request as a NITRO client does and decodes the body.
func call(t *testing.T, srv *httptest.Server, method, path, body string, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func expectCall(t *testing.T, srv *httptest.Server, method, path, body string, header map[string]string, status int) map[string]any {
	t.Helper()
	got, out := call(t, srv, method, path, body, header)
	if got != status || out["errorcode"] == nil {
		t.Fatalf("%s %s %s: %d %v, want %d", method, path, body, got, out, status)
	}
	return out
}

// TestNITROClientSequence replays, request for request, what adc-nitro-go
// sends (docs §4.10): login, idempotent adds, existence checks, bind by
// POST, a stat, disable, an unbind with a double slash, save, logout. The
// DNS answers and the saved file follow.
func TestNITROClientSequence(t *testing.T) {
	d, p, srv := nitroServer(t, "add gslb site base 127.0.0.1\n")
	out := expectCall(t, srv, "POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+nitroPassword+`"}}`, nil, 201)
	tok, _ := out["sessionid"].(string)
	if len(tok) < 32 {
		t.Fatalf("login gave no session id: %v", out)
	}
	h := map[string]string{"Set-Cookie": "NITRO_AUTH_TOKEN=" + tok}
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbsite?idempotent=yes", `{"gslbsite":{"sitename":"site1","sitetype":"LOCAL","siteipaddress":"10.0.0.1","publicip":"10.0.0.1"}}`, h, 201)
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbservice?idempotent=yes", `{"gslbservice":{"servicename":"gsvc1","ip":"10.0.0.10","servicetype":"HTTP","port":80,"sitename":"site1"}}`, h, 201)
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver?idempotent=yes", `{"gslbvserver":{"name":"gvs1","servicetype":"HTTP","lbmethod":"ROUNDROBIN"}}`, h, 201)
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver/gvs1", "", h, 200)
	if vs, _ := out["gslbvserver"].([]any); len(vs) != 1 || vs[0].(map[string]any)["lbmethod"] != "ROUNDROBIN" {
		t.Fatalf("GET gslbvserver/gvs1: %v", out)
	}
	expectCall(t, srv, "GET", "/nitro/v1/config/gslbservice/gsvc1", "", h, 200)
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver_gslbservice_binding", `{"gslbvserver_gslbservice_binding":{"servicename":"gsvc1","weight":10,"name":"gvs1"}}`, h, 201)
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver_domain_binding", `{"gslbvserver_domain_binding":{"domainname":"www.example.com","ttl":5,"name":"gvs1"}}`, h, 201)
	if got := answerSet(t, d, "www.example.com"); got != "10.0.0.10" {
		t.Fatalf("DNS answer after the API calls: %q", got)
	}
	expectCall(t, srv, "GET", "/nitro/v1/stat/gslbvserver/gvs1", "", h, 200)
	// An idempotent add of an existing vserver updates what it names.
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver?idempotent=yes", `{"gslbvserver":{"name":"gvs1","servicetype":"HTTP","lbmethod":"LEASTCONNECTION"}}`, h, 201)
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver/gvs1", "", h, 200)
	if m := out["gslbvserver"].([]any)[0].(map[string]any)["lbmethod"]; m != "LEASTCONNECTION" {
		t.Fatalf("idempotent add did not update lbmethod: %v", m)
	}
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver?action=disable", `{"gslbvserver":{"name":"gvs1"}}`, h, 200)
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver_gslbservice_binding/gvs1", "", h, 200)
	if b, _ := out["gslbvserver_gslbservice_binding"].([]any); len(b) != 1 || b[0].(map[string]any)["weight"] != "10" {
		t.Fatalf("binding GET: %v", out)
	}
	expectCall(t, srv, "DELETE", "/nitro/v1/config//gslbvserver_gslbservice_binding/gvs1?args=servicename:gsvc1", "", h, 200)
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver_gslbservice_binding/gvs1", "", h, 200)
	if _, ok := out["gslbvserver_gslbservice_binding"]; ok {
		t.Fatalf("binding still there after unbind: %v", out)
	}
	expectCall(t, srv, "POST", "/nitro/v1/config/nsconfig?action=save", `{"nsconfig":{}}`, h, 200)
	expectCall(t, srv, "POST", "/nitro/v1/config/logout", `{"logout":{}}`, h, 200)
	// The token is dead after logout.
	if code, out := call(t, srv, "GET", "/nitro/v1/config/gslbvserver", "", h); code != 401 || out["errorcode"] != float64(444) {
		t.Fatalf("after logout: %d %v, want 401 / 444", code, out)
	}
	saved, _ := os.ReadFile(p)
	for _, want := range []string{"add gslb vserver gvs1 HTTP -state DISABLED", "bind gslb vserver gvs1 -domainName www.example.com -TTL 5", "add gslb service gsvc1 10.0.0.10 HTTP 80"} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved file lacks %q:\n%s", want, saved)
		}
	}
	if strings.Contains(string(saved), "-serviceName gsvc1") || strings.Contains(string(saved), "ROUNDROBIN") {
		t.Errorf("saved file still binds gsvc1 or keeps the old method:\n%s", saved)
	}
}

// TestNITROErrors: the envelope and status of the errors a client sees.
func TestNITROErrors(t *testing.T) {
	_, _, srv := nitroServer(t, saveBase)
	user := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	for _, c := range []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     float64
	}{
		{"no credentials", "GET", "/nitro/v1/config/gslbvserver", "", nil, 401, 1027},
		{"bad password", "POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"wrong"}}`, nil, 401, 354},
		{"unknown token", "GET", "/nitro/v1/config/gslbvserver", "", map[string]string{"Cookie": "NITRO_AUTH_TOKEN=feedface"}, 401, 444},
		{"read-only user writes", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"x","servicetype":"HTTP"}}`, map[string]string{"X-NITRO-USER": "viewer", "X-NITRO-PASS": nitroPassword}, 403, 257},
		{"absent resource", "GET", "/nitro/v1/config/gslbvserver/nosuch", "", user, 404, 258},
		{"exists", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"gv","servicetype":"HTTP"}}`, user, 409, 273},
		{"unknown field", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"x","servicetype":"HTTP","colour":"red"}}`, user, 599, 1090},
		{"bad JSON", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":`, user, 400, 1233},
		{"unknown resource", "GET", "/nitro/v1/config/nosuchthing", "", user, 404, 1232},
		{"bad action", "POST", "/nitro/v1/config/gslbvserver?action=explode", `{"gslbvserver":{"name":"gv"}}`, user, 400, 1240},
		{"deep JSON", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":[[[[[[[[[["x"]]]]]]]]]]}}`, user, 400, 1233},
		{"bad value", "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"y","servicetype":"HTTP","lbmethod":"FASTEST"}}`, user, 599, 1097},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, out := call(t, srv, c.method, c.path, c.body, c.header)
			if strings.Contains(fmt.Sprint(out), nitroPassword) {
				t.Fatalf("the password is in the answer: %v", out)
			}
			if got != c.status || out["errorcode"] != c.code || out["severity"] != "ERROR" || out["message"] == "" {
				t.Fatalf("%d %v, want %d with errorcode %v", got, out, c.status, c.code)
			}
		})
	}
	// Double-escaped names (adc-nitro-go) and count/filter/attrs.
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":[{"name":"web 1","servicetype":"HTTP"},{"name":"web2","servicetype":"SSL"}]}`, user, 201)
	out := expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver/"+url.PathEscape(url.QueryEscape("web 1")), "", user, 200)
	if vs := out["gslbvserver"].([]any); vs[0].(map[string]any)["name"] != "web 1" {
		t.Fatalf("double-escaped name: %v", out)
	}
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver?count=yes", "", user, 200)
	if n := out["gslbvserver"].([]any)[0].(map[string]any)["__count"]; n != "3" {
		t.Fatalf("count: %v", out)
	}
	out = expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver?filter=servicetype:SSL&attrs=name", "", user, 200)
	if vs := out["gslbvserver"].([]any); len(vs) != 1 || len(vs[0].(map[string]any)) != 1 || vs[0].(map[string]any)["name"] != "web2" {
		t.Fatalf("filter+attrs: %v", out)
	}
	// A bulk add with one bad object adds nothing.
	code, _ := call(t, srv, "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":[{"name":"ok1","servicetype":"HTTP"},{"name":"bad","servicetype":"NOPE"}]}`, user)
	if code == 201 {
		t.Fatal("bulk add with a bad object succeeded")
	}
	expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver/ok1", "", user, 404)
}

// TestNITROStat: /stat and GETs carry the live state: a killed backend's
// service turns DOWN with the monitor's reason and the vserver's active
// service count drops.
func TestNITROStat(t *testing.T) {
	a, b := newBackend(t, "127.0.0.71"), newBackend(t, "127.0.0.72")
	conf := monitoredConf("add lb monitor m HTTP -interval 100 MSEC -resptimeout 50 MSEC -retries 1", a, b)
	_, _, srv := nitroServer(t, conf)
	user := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	stat := func(path string) map[string]any {
		out := expectCall(t, srv, "GET", path, "", user, 200)
		for k, v := range out {
			if l, ok := v.([]any); ok && k != "response" && len(l) == 1 {
				return l[0].(map[string]any)
			}
		}
		t.Fatalf("%s: %v", path, out)
		return nil
	}
	waitFor(t, "both services UP with a response time", 10*time.Second, func() bool {
		s := stat("/nitro/v1/stat/gslbservice/svc0")
		return s["state"] == "UP" && s["responsetime"] != nil
	})
	a.Kill()
	waitFor(t, "svc0 DOWN", 10*time.Second, func() bool { return stat("/nitro/v1/stat/gslbservice/svc0")["state"] == "DOWN" })
	if r, _ := stat("/nitro/v1/stat/gslbservice/svc0")["statereason"].(string); !strings.Contains(r, "connection refused") {
		t.Errorf("DOWN reason %q", r)
	}
	v := stat("/nitro/v1/stat/gslbvserver/gv")
	if v["actsvcs"] != "1" || v["inactsvcs"] != "1" || v["vslbhealth"] != "50" || v["state"] != "UP" {
		t.Errorf("stat gslbvserver: %v", v)
	}
	if c := stat("/nitro/v1/config/gslbvserver/gv"); c["state"] != "ENABLED" || c["curstate"] != "UP" {
		t.Errorf("config GET: admin state %v, curstate %v", c["state"], c["curstate"])
	}
}

// TestNITROClear: clear ns config basic removes the GSLB configuration
// and keeps the ADNS listeners; the saved file is untouched until save.
func TestNITROClear(t *testing.T) {
	d, p, srv := nitroServer(t, "add service adns1 127.0.0.1 ADNS 53\n"+saveBase)
	user := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	if got := answerSet(t, d, "www.save.test"); got != "192.0.2.1" {
		t.Fatalf("before clear: %q", got)
	}
	expectCall(t, srv, "POST", "/nitro/v1/config/nsconfig?action=clear", `{"nsconfig":{"level":"full"}}`, user, 599)
	expectCall(t, srv, "POST", "/nitro/v1/config/nsconfig?action=clear", `{"nsconfig":{"level":"basic"}}`, user, 200)
	if out := expectCall(t, srv, "GET", "/nitro/v1/config/gslbvserver", "", user, 200); out["gslbvserver"] != nil {
		t.Fatalf("vservers after clear: %v", out)
	}
	expectCall(t, srv, "GET", "/nitro/v1/config/service/adns1", "", user, 200)
	if got := answerSet(t, d, "www.save.test"); got != "" {
		t.Fatalf("answers after clear: %q", got)
	}
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), "add gslb vserver gv") {
		t.Fatalf("the saved file changed before save:\n%s", b)
	}
}

// TestNITROHitCounters: real queries over UDP and TCP are counted per
// vserver, per service chosen and per domain; answers given by a backup
// vserver count as backup hits of the vserver asked.
func TestNITROHitCounters(t *testing.T) {
	d, _, srv := nitroServer(t, saveBase+`add gslb service b 192.0.2.2 HTTP 80 -siteName s1
bind gslb vserver gv -serviceName b
add gslb service c 192.0.2.3 HTTP 80 -siteName s1
add gslb vserver standby HTTP
bind gslb vserver standby -serviceName c
set gslb vserver gv -backupVServer standby
`)
	user := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	stat := func(res, name string) map[string]any {
		t.Helper()
		l := expectCall(t, srv, "GET", "/nitro/v1/stat/"+res+"/"+name, "", user, 200)[res].([]any)
		return l[0].(map[string]any)
	}
	for i := range 15 {
		proto := dnstest.UDP
		if i%3 == 0 {
			proto = dnstest.TCP
		}
		addr := d.UDPAddr()
		if proto == dnstest.TCP {
			addr = d.TCPAddr()
		}
		if r := dnstest.Exchange(t, proto, addr, dnstest.Msg("www.save.test", dns.TypeA)); len(dnstest.Addrs(r)) != 1 {
			t.Fatalf("query %d: %v", i, r)
		}
	}
	if v := stat("gslbvserver", "gv"); v["tothits"] != "15" || v["totvserverdownbackuphits"] != "0" {
		t.Fatalf("stat gslbvserver gv: %v", v)
	}
	// Round robin over a and b: 8 and 7 (in either order).
	a, b := stat("gslbservice", "a")["vsvrservicehits"], stat("gslbservice", "b")["vsvrservicehits"]
	na, _ := strconv.Atoi(a.(string))
	nb, _ := strconv.Atoi(b.(string))
	if na+nb != 15 || na < 7 || nb < 7 {
		t.Fatalf("service hits a=%v b=%v", a, b)
	}
	if q := stat("gslbdomain", "www.save.test"); q["dnstotalqueries"] != "15" {
		t.Fatalf("stat gslbdomain: %v", q)
	}
	// The primary switched off: the backup's service answers, counted as
	// hits and backup hits of gv, and hits of c.
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver?action=disable", `{"gslbvserver":{"name":"gv"}}`, user, 200)
	for range 3 {
		if got := answerSet(t, d, "www.save.test"); got != "192.0.2.3" {
			t.Fatalf("answer via backup: %q", got)
		}
	}
	if v := stat("gslbvserver", "gv"); v["tothits"] != "18" || v["totvserverdownbackuphits"] != "3" {
		t.Fatalf("stat gslbvserver gv after failover: %v", v)
	}
	if c := stat("gslbservice", "c")["vsvrservicehits"]; c != "3" {
		t.Fatalf("service c hits %v", c)
	}
	// Counters survive changes to other entities (rebuilds).
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"other","servicetype":"HTTP"}}`, user, 201)
	if v := stat("gslbvserver", "gv"); v["tothits"] != "18" {
		t.Fatalf("tothits after a change: %v", v["tothits"])
	}
	// A domain unbound and bound again counts from zero.
	expectCall(t, srv, "DELETE", "/nitro/v1/config/gslbvserver_domain_binding/gv?args=domainname:www.save.test", "", user, 200)
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver_domain_binding", `{"gslbvserver_domain_binding":{"name":"gv","domainname":"www.save.test"}}`, user, 201)
	answerSet(t, d, "www.save.test")
	if q := stat("gslbdomain", "www.save.test"); q["dnstotalqueries"] != "1" {
		t.Fatalf("stat gslbdomain after unbind and bind: %v", q)
	}
}
