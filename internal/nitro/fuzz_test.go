package nitro

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
)

// FuzzRequest sends arbitrary paths, queries and bodies through the whole
// handler with valid credentials: it must always answer with a NITRO
// envelope and never panic, and a failed request must change nothing.
func FuzzRequest(f *testing.F) {
	for _, r := range routes {
		f.Add(r.method, strings.TrimPrefix(r.path, "/nitro/v1/"), r.body)
	}
	f.Add("POST", "config/gslbvserver?idempotent=yes", `{"gslbvserver":[{"name":"a","servicetype":"HTTP"},{"name":"b","servicetype":"TCP","lbmethod":"ROUNDROBIN"}]}`)
	f.Add("DELETE", "config//gslbvserver_gslbservice_binding/gv?args=servicename:x", "")
	f.Add("GET", "config/gslbvserver?filter=name:(a|b&attrs=name&pagesize=1&pageno=2", "")
	f.Add("POST", "config/gslbvserver?action=rename", `{"gslbvserver":{"name":"gv","newname":"g w"}}`)
	f.Add("PUT", "config/gslbvserver/%252F", `{"gslbvserver":{"name":1e999}}`)
	users := NewUsers()
	users.Add("nsroot", testPassword, Superuser)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		b := &memBackend{c: seedConfig(t)}
		s := New(b, users, Options{})
		before := b.Config().String()
		r := httptest.NewRequest("GET", "/", strings.NewReader(body))
		r.Method = method
		r.URL.Path = ""
		if u, err := r.URL.Parse("/nitro/v1/" + path); err == nil {
			r.URL = u
		}
		sess := s.sess
		tok := newToken()
		sess.m[tok] = &session{user: users.m["nsroot"], timeout: s.opts.SessionTimeout, expires: s.opts.Now().Add(s.opts.SessionTimeout)}
		r.Header.Set("Cookie", "NITRO_AUTH_TOKEN="+tok)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var env map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env["errorcode"] == nil {
			t.Fatalf("%s %s %q: %d, not an envelope: %q", method, path, body, w.Code, w.Body)
		}
		if env["errorcode"] != float64(0) && b.Config().String() != before {
			t.Fatalf("%s %s %q failed (%v) but changed the configuration", method, path, body, env)
		}
	})
}

var seedText = "add gslb site s1 10.0.0.1\nadd gslb service a 10.0.0.10 HTTP 80 -siteName s1\nadd gslb vserver gv HTTP\nbind gslb vserver gv -serviceName a\nbind gslb vserver gv -domainName gv.test\n"

func seedConfig(t *testing.T) *config.Config {
	b := &memBackend{c: &config.Config{}}
	if _, err := b.Change(events.Origin{Via: "seed"}, seedText); err != nil {
		t.Fatal(err)
	}
	return b.c
}
