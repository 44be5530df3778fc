package nitro

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nsconf"
)

// memBackend applies changes to an in-memory configuration with the real
// parser and checker: the daemon without DNS.
type memBackend struct {
	mu    sync.Mutex
	c     *config.Config
	saves int
}

func (b *memBackend) Config() *config.Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.c
}

func (b *memBackend) Change(by events.Origin, text string) ([]*nsconf.Error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, _, warnings, err := b.c.Change(by.Via, text)
	if err != nil {
		return nil, err
	}
	b.c = c
	return warnings, nil
}

func (b *memBackend) Save() error { b.saves++; return nil }

func (b *memBackend) Diff() ([]string, []string, error) { return nil, nil, nil }

func (b *memBackend) Clear() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c = &config.Config{}
	return nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const testPassword = "unit-test-pw-7"

// Cheap hashes for the thousands of password checks below (the same code
// path; e2e runs the real cost).
func init() { argonTime, argonMemory = 1, 64 }

func testServer(t *testing.T) (*Server, *clock) {
	t.Helper()
	users := NewUsers()
	users.Add("nsroot", testPassword, Superuser)
	users.Add("viewer", testPassword, ReadOnly)
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	return New(&memBackend{c: &config.Config{}}, users, Options{Now: clk.Now}), clk
}

func do(t *testing.T, h http.Handler, method, path, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func login(t *testing.T, h http.Handler, name string) string {
	t.Helper()
	return loginAs(t, h, name, testPassword)
}

func loginAs(t *testing.T, h http.Handler, name, password string) string {
	t.Helper()
	w := do(t, h, "POST", "/nitro/v1/config/login", `{"login":{"username":"`+name+`","password":"`+password+`"}}`, nil)
	if w.Code != 201 {
		t.Fatalf("login %s: %d %s", name, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "NITRO_AUTH_TOKEN" {
			if !c.HttpOnly || c.Path != "/nitro/v1" {
				t.Errorf("cookie %+v: want HttpOnly, path /nitro/v1", c)
			}
			return c.Value
		}
	}
	t.Fatal("no NITRO_AUTH_TOKEN cookie")
	return ""
}

// routes are every route of the API, with a body that would succeed.
var routes = []struct{ method, path, body string }{
	{"GET", "/nitro/v1/config/gslbvserver", ""},
	{"GET", "/nitro/v1/config/gslbvserver/gv", ""},
	{"POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"gv2","servicetype":"HTTP"}}`},
	{"PUT", "/nitro/v1/config/gslbvserver/gv", `{"gslbvserver":{"lbmethod":"ROUNDROBIN"}}`},
	{"POST", "/nitro/v1/config/gslbvserver?action=disable", `{"gslbvserver":{"name":"gv"}}`},
	{"DELETE", "/nitro/v1/config/gslbvserver/gv", ""},
	{"POST", "/nitro/v1/config/gslbsite", `{"gslbsite":{"sitename":"s2","siteipaddress":"10.0.0.2"}}`},
	{"GET", "/nitro/v1/config/gslbsite", ""},
	{"GET", "/nitro/v1/config/gslbservice", ""},
	{"GET", "/nitro/v1/config/lbmonitor", ""},
	{"PUT", "/nitro/v1/config/gslbvserver_domain_binding", `{"gslbvserver_domain_binding":{"name":"gv","domainname":"x.test"}}`},
	{"GET", "/nitro/v1/config/gslbvserver_domain_binding/gv", ""},
	{"DELETE", "/nitro/v1/config/gslbvserver_domain_binding/gv?args=domainname:x.test", ""},
	{"GET", "/nitro/v1/config/gslbservice_lbmonitor_binding", ""},
	{"POST", "/nitro/v1/config/nsconfig?action=save", `{"nsconfig":{}}`},
	{"GET", "/nitro/v1/config/nsfeature", ""},
	{"GET", "/nitro/v1/stat/gslbvserver", ""},
	{"POST", "/nitro/v1/config/logout", `{"logout":{}}`},
}

// allRoutes are the routes above plus, for every resource of the
// registry and every special resource, a GET and a write: a resource
// added later is covered without editing this test.
func allRoutes() []struct{ method, path, body string } {
	out := slices.Clone(routes)
	names := []string{"nsconfig", "nsfeature", "nsversion", "gslbrunningconfig", "systemuser", "gslbdomain", "gslbvserver_binding", "logout", "systemuser_systemcmdpolicy_binding"}
	for name := range resources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out,
			struct{ method, path, body string }{"GET", "/nitro/v1/config/" + name, ""},
			struct{ method, path, body string }{"POST", "/nitro/v1/config/" + name, `{"` + name + `":{}}`},
			struct{ method, path, body string }{"PUT", "/nitro/v1/config/" + name, `{"` + name + `":{}}`},
			struct{ method, path, body string }{"DELETE", "/nitro/v1/config/" + name + "/x", ""},
			struct{ method, path, body string }{"GET", "/nitro/v1/stat/" + name, ""})
	}
	return out
}

// TestEveryRouteNeedsCredentials: every route but login answers 401
// without valid credentials, and 403 to a read-only user's writes.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	s, _ := testServer(t)
	for _, add := range []string{
		`{"gslbsite":{"sitename":"s1","siteipaddress":"10.0.0.1"}}`,
		`{"gslbvserver":{"name":"gv","servicetype":"HTTP"}}`,
	} {
		if w := do(t, s, "POST", "/nitro/v1/config/"+add[2:strings.Index(add, `":`)], add, map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}); w.Code != 201 {
			t.Fatalf("%s: %d %s", add, w.Code, w.Body)
		}
	}
	viewer := login(t, s, "viewer")
	root := login(t, s, "nsroot") // before the bad passwords below lock the account
	for _, r := range allRoutes() {
		for name, h := range map[string]map[string]string{
			"none":         nil,
			"bad token":    {"Cookie": "NITRO_AUTH_TOKEN=0123456789abcdef"},
			"bad password": {"X-NITRO-USER": "nsroot", "X-NITRO-PASS": "nope"},
			"no such user": {"X-NITRO-USER": "mallory", "X-NITRO-PASS": testPassword},
		} {
			if w := do(t, s, r.method, r.path, r.body, h); w.Code != 401 {
				t.Errorf("%s %s with %s: %d %s, want 401", r.method, r.path, name, w.Code, w.Body)
			}
		}
		if strings.Contains(r.path, "/logout") {
			continue // a read-only user may log out: below
		}
		w := do(t, s, r.method, r.path, r.body, map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + viewer})
		if r.method != "GET" {
			if w.Code != 403 || !strings.Contains(w.Body.String(), `"errorcode":257`) {
				t.Errorf("%s %s as read-only: %d %s, want 403 / 257", r.method, r.path, w.Code, w.Body)
			}
			continue
		}
		// A read answers the read-only user exactly as it answers the
		// superuser: same status, same body.
		su := do(t, s, r.method, r.path, "", map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + root})
		if w.Code != su.Code || w.Body.String() != su.Body.String() {
			t.Errorf("%s %s as read-only: %d %s; as superuser: %d %s", r.method, r.path, w.Code, w.Body, su.Code, su.Body)
		}
		if slices.Contains(routes, r) && w.Code != 200 {
			t.Errorf("%s %s as read-only: %d %s, want 200", r.method, r.path, w.Code, w.Body)
		}
	}
}

// TestReadOnlyLogout: a read-only user may log out (a write it needs),
// and only by POST.
func TestReadOnlyLogout(t *testing.T) {
	s, _ := testServer(t)
	viewer := login(t, s, "viewer")
	h := map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + viewer}
	if w := do(t, s, "GET", "/nitro/v1/config/logout", "", h); w.Code != 405 {
		t.Fatalf("GET logout: %d %s", w.Code, w.Body)
	}
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 200 {
		t.Fatalf("the session ended by a GET logout: %d", w.Code)
	}
	if w := do(t, s, "POST", "/nitro/v1/config/logout", `{"logout":{}}`, h); w.Code != 200 {
		t.Fatalf("read-only logout: %d %s", w.Code, w.Body)
	}
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 401 {
		t.Fatalf("after logout: %d", w.Code)
	}
}

func TestSessionTimeoutAndLogout(t *testing.T) {
	s, clk := testServer(t)
	tok := login(t, s, "nsroot")
	h := map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + tok}
	clk.add(29 * time.Minute)
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 200 {
		t.Fatalf("after 29 idle minutes: %d", w.Code)
	}
	clk.add(29 * time.Minute) // idle time restarts at each use
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 200 {
		t.Fatalf("29 minutes after the last use: %d", w.Code)
	}
	clk.add(31 * time.Minute)
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 401 || !strings.Contains(w.Body.String(), `"errorcode":444`) {
		t.Fatalf("after 31 idle minutes: %d %s, want 401 / 444", w.Code, w.Body)
	}
	// A login timeout of 60 s.
	w := do(t, s, "POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+testPassword+`","timeout":"60"}}`, nil)
	tok = w.Result().Cookies()[0].Value
	clk.add(61 * time.Second)
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + tok}); w.Code != 401 {
		t.Fatalf("after the login's 60 s timeout: %d", w.Code)
	}
	tok = login(t, s, "nsroot")
	h = map[string]string{"Set-Cookie": "NITRO_AUTH_TOKEN=" + tok + "; path=/"}
	if w := do(t, s, "POST", "/nitro/v1/config/logout", `{"logout":{}}`, h); w.Code != 200 {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", h); w.Code != 401 {
		t.Fatalf("after logout: %d", w.Code)
	}
}

func TestLockout(t *testing.T) {
	s, clk := testServer(t)
	bad := `{"login":{"username":"nsroot","password":"wrong"}}`
	for range maxFailures {
		do(t, s, "POST", "/nitro/v1/config/login", bad, nil)
	}
	w := do(t, s, "POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+testPassword+`"}}`, nil)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "locked") {
		t.Fatalf("right password during lockout: %d %s", w.Code, w.Body)
	}
	clk.add(lockoutFor + time.Second)
	login(t, s, "nsroot")
}

// TestLimits: oversized bodies, deep JSON, traversal and encoded slashes
// reach nothing but the router's errors.
func TestLimits(t *testing.T) {
	s, _ := testServer(t)
	h := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	big := `{"gslbvserver":{"name":"` + strings.Repeat("a", 2<<20) + `"}}`
	if w := do(t, s, "POST", "/nitro/v1/config/gslbvserver", big, h); w.Code != 413 {
		t.Errorf("2 MiB body: %d %s", w.Code, w.Body)
	}
	for _, p := range []string{"/nitro/v1/config/../../etc/passwd", "/nitro/v1/config/gslbvserver%2F..%2F..%2Fetc", "/nitro/v1/config/%2e%2e/login",
		"/nitro/v2/config/gslbvserver", "/etc/passwd", "/nitro/v1/config/gslbvserver/a/b"} {
		w := do(t, s, "GET", p, "", h)
		if w.Code == 200 || !strings.Contains(w.Body.String(), "errorcode") {
			t.Errorf("GET %s: %d %s", p, w.Code, w.Body)
		}
	}
}

// TestSessionsAreBounded: expired sessions are swept at login and live
// ones are capped, so scripts that never log out cannot grow memory.
func TestSessionsAreBounded(t *testing.T) {
	s, clk := testServer(t)
	for range 3 {
		login(t, s, "nsroot")
	}
	clk.add(31 * time.Minute)
	login(t, s, "nsroot")
	if n := len(s.sess.m); n != 1 {
		t.Fatalf("%d sessions after the others expired, want 1", n)
	}
	for len(s.sess.m) < maxSessions {
		s.sess.m[newToken()] = &session{user: s.users.m["nsroot"], timeout: time.Hour, expires: clk.Now().Add(time.Hour)}
	}
	w := do(t, s, "POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+testPassword+`"}}`, nil)
	if w.Code == 201 || !strings.Contains(w.Body.String(), `"errorcode":1072`) {
		t.Fatalf("login over the cap: %d %s", w.Code, w.Body)
	}
}
