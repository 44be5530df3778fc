package nitro

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// TestSystemUsers: users are added, given a role, re-passworded and
// removed over the API; every change is in the users file before it is
// answered, sessions of a changed password or a removed user end, and the
// last superuser cannot go.
func TestSystemUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	seed := NewUsers()
	seed.Add("nsroot", testPassword, Superuser)
	if err := seed.SaveUsers(path); err != nil {
		t.Fatal(err)
	}
	users, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	s := New(&memBackend{c: &config.Config{}}, users, Options{Now: clk.Now, UsersPath: path})
	root := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	send := func(method, p, body string, h map[string]string, status int) {
		t.Helper()
		if w := do(t, s, method, p, body, h); w.Code != status {
			t.Fatalf("%s %s: %d %s, want %d", method, p, w.Code, w.Body, status)
		}
	}
	const pw1, pw2 = "first-pass-1", "second-pass-2"
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"ops","password":"`+pw1+`"}}`, root, 201)
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"ops","password":"`+pw1+`"}}`, root, 409)
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"short","password":"1234567"}}`, root, 599)
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"bad/name","password":"`+pw1+`"}}`, root, 599)
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"x","password":"`+pw1+`","shell":"/bin/sh"}}`, root, 599)
	// Stored before the answer: a fresh load sees the user, as a hash.
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"ops"`) || strings.Contains(string(b), pw1) {
		t.Fatalf("users file:\n%s", b)
	}
	// A new user is read-only until bound to the superuser policy.
	ops := loginAs(t, s, "ops", pw1)
	opsH := map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + ops}
	send("POST", "/nitro/v1/config/gslbsite", `{"gslbsite":{"sitename":"s1","siteipaddress":"10.0.0.1"}}`, opsH, 403)
	send("POST", "/nitro/v1/config/systemuser_systemcmdpolicy_binding", `{"systemuser_systemcmdpolicy_binding":{"username":"ops","policyname":"superuser","priority":100}}`, root, 201)
	send("POST", "/nitro/v1/config/systemuser_systemcmdpolicy_binding", `{"systemuser_systemcmdpolicy_binding":{"username":"ops","policyname":"operator"}}`, root, 599)
	send("POST", "/nitro/v1/config/gslbsite", `{"gslbsite":{"sitename":"s1","siteipaddress":"10.0.0.1"}}`, opsH, 201) // same session, new role
	b := list(t, call(t, s, "GET", "/nitro/v1/config/systemuser_systemcmdpolicy_binding/ops", "", 200), "systemuser_systemcmdpolicy_binding")
	if len(b) != 1 || b[0]["policyname"] != "superuser" {
		t.Fatalf("policy binding: %v", b)
	}
	// Fields NetScaler has and gslbd does not keep: accepted, with a warning.
	w := do(t, s, "PUT", "/nitro/v1/config/systemuser?warning=yes", `{"systemuser":{"username":"ops","timeout":900}}`, root)
	if w.Code != 209 || !strings.Contains(w.Header().Get("X-NITRO-WARNING"), "timeout is accepted") {
		t.Fatalf("PUT timeout: %d %q", w.Code, w.Header())
	}
	if do(t, s, "GET", "/nitro/v1/config/gslbsite", "", opsH).Code != 200 {
		t.Fatal("a change without a password ended the session")
	}
	// A new password ends the user's sessions; the old one stops working.
	send("PUT", "/nitro/v1/config/systemuser/ops", `{"systemuser":{"password":"`+pw2+`"}}`, root, 200)
	send("GET", "/nitro/v1/config/gslbsite", "", opsH, 401)
	send("GET", "/nitro/v1/config/gslbsite", "", map[string]string{"X-NITRO-USER": "ops", "X-NITRO-PASS": pw1}, 401)
	opsH = map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + loginAs(t, s, "ops", pw2)}
	// A user added by `gslbd user add` while running is kept by the next
	// API change (the file is read again).
	disk, _ := LoadUsers(path)
	disk.Add("cli", pw1, ReadOnly)
	disk.SaveUsers(path)
	send("POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"third","password":"`+pw1+`"}}`, opsH, 201)
	if names := strings.Join(s.users.names(), ","); names != "cli,nsroot,ops,third" {
		t.Fatalf("users after the change: %s", names)
	}
	// Removal ends the sessions; the last superuser stays.
	send("DELETE", "/nitro/v1/config/systemuser/ops", "", root, 200)
	send("GET", "/nitro/v1/config/gslbsite", "", opsH, 401)
	send("DELETE", "/nitro/v1/config/systemuser/ops", "", root, 404)
	// Unbinding a policy the user does not have changes nothing.
	send("DELETE", "/nitro/v1/config/systemuser_systemcmdpolicy_binding/nsroot?args=policyname:read-only", "", root, 404)
	send("DELETE", "/nitro/v1/config/systemuser_systemcmdpolicy_binding/nsroot?args=policyname:superuser", "", root, 403)
	send("DELETE", "/nitro/v1/config/systemuser/nsroot", "", root, 403)
	if reloaded, _ := LoadUsers(path); strings.Join(reloaded.names(), ",") != "cli,nsroot,third" {
		t.Fatalf("users file after removal: %v", reloaded.names())
	}
	// A users file that cannot be read (a directory in its place):
	// refused with the reason, nothing changed in memory.
	bad := New(&memBackend{c: &config.Config{}}, s.users, Options{Now: clk.Now, UsersPath: t.TempDir()})
	w = do(t, bad, "POST", "/nitro/v1/config/systemuser", `{"systemuser":{"username":"late","password":"`+pw1+`"}}`, root)
	if w.Code != 599 || !strings.Contains(w.Body.String(), "users file unreadable") || strings.Contains(w.Body.String(), pw1) {
		t.Fatalf("unreadable users file: %d %s", w.Code, w.Body)
	}
	if strings.Contains(strings.Join(s.users.names(), ","), "late") {
		t.Fatal("a user the file did not take was added")
	}
}

// TestUserChangeDuringRequests: role changes while the user's session
// sends requests (run with -race, as make test does: the session's user
// is replaced under the sessions' lock and read under it).
func TestUserChangeDuringRequests(t *testing.T) {
	s, _ := testServer(t)
	root := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": testPassword}
	viewer := map[string]string{"Cookie": "NITRO_AUTH_TOKEN=" + login(t, s, "viewer")}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			if w := do(t, s, "GET", "/nitro/v1/config/gslbvserver", "", viewer); w.Code != 200 {
				t.Errorf("GET during role changes: %d", w.Code)
				return
			}
		}
	}()
	for i := range 50 {
		policy := []string{"superuser", "read-only"}[i%2]
		if w := do(t, s, "POST", "/nitro/v1/config/systemuser_systemcmdpolicy_binding", `{"systemuser_systemcmdpolicy_binding":{"username":"viewer","policyname":"`+policy+`"}}`, root); w.Code != 201 {
			t.Fatalf("bind %s: %d %s", policy, w.Code, w.Body)
		}
	}
	<-done
}
