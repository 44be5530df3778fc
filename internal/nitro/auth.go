package nitro

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/gslbd/gslbd/internal/nserr"
)

// Role is what a user may do.
type Role int

const (
	// Superuser may read and change everything.
	Superuser Role = iota
	// ReadOnly may only read (GET).
	ReadOnly
)

// Argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane): about
// 20 ms per check here, paid at login and by X-NITRO-USER/PASS requests.
// Variables only so that this package's tests, which check thousands of
// passwords, can lower the cost; the e2e tests run the real figures.
var (
	argonTime   uint32 = 2
	argonMemory uint32 = 19 * 1024
)

const (
	argonThreads = 1
	argonKeyLen  = 32
)

// maxSessions caps the open sessions.
const maxSessions = 10000

// Lockout: this many failed logins in a row lock a user for lockoutFor.
const (
	maxFailures = 5
	lockoutFor  = 5 * time.Minute
)

type user struct {
	name   string
	role   Role
	salt   []byte
	hash   []byte
	failed int
	until  time.Time // locked until
}

// Users are the API's accounts, with argon2id password hashes.
type Users struct {
	wmu   sync.Mutex // serialises changes through the API (read, change, save)
	mu    sync.Mutex
	m     map[string]*user
	dummy *user // hashed against for unknown names, so timing tells nothing
}

// NewUsers returns an empty set of users.
func NewUsers() *Users {
	u := &Users{m: map[string]*user{}}
	u.dummy = newUser("", "not a password", ReadOnly)
	return u
}

func newUser(name, password string, role Role) *user {
	salt := make([]byte, 16)
	rand.Read(salt)
	return &user{name: name, role: role, salt: salt, hash: argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)}
}

// Add creates or replaces a user.
func (u *Users) Add(name, password string, role Role) error {
	if name == "" || password == "" {
		return fmt.Errorf("a user needs a name and a password")
	}
	nu := newUser(name, password, role)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[name] = nu
	return nil
}

// check verifies a password in constant time; repeated failures lock the
// user out for a while.
func (u *Users) check(name, password string, now time.Time) (*user, error) {
	u.mu.Lock()
	usr := u.m[name]
	locked := usr != nil && now.Before(usr.until)
	u.mu.Unlock()
	target := usr
	if target == nil {
		target = u.dummy
	}
	got := argon2.IDKey([]byte(password), target.salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	ok := subtle.ConstantTimeCompare(got, target.hash) == 1 && usr != nil
	u.mu.Lock()
	defer u.mu.Unlock()
	if locked {
		return nil, fail(nserr.NoUser, "Invalid username or password (account locked after repeated failures; try again later)")
	}
	if !ok {
		if usr != nil {
			usr.failed++
			if usr.failed >= maxFailures {
				usr.until = now.Add(lockoutFor)
				usr.failed = 0
			}
		}
		return nil, fail(nserr.NoUser, "Invalid username or password")
	}
	usr.failed = 0
	return usr, nil
}

type session struct {
	user    *user
	timeout time.Duration
	expires time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tokenOf finds a session token: the NITRO_AUTH_TOKEN cookie, or the same
// in a Set-Cookie request header (what adc-nitro-go sends, docs §4.10).
func tokenOf(r *http.Request) string {
	if c, err := r.Cookie("NITRO_AUTH_TOKEN"); err == nil && c.Value != "" {
		return c.Value
	}
	for _, h := range r.Header.Values("Set-Cookie") {
		for _, part := range strings.Split(h, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "NITRO_AUTH_TOKEN="); ok && v != "" {
				return v
			}
		}
	}
	return ""
}

// authenticate finds who sends the request: a session token, or
// X-NITRO-USER/X-NITRO-PASS (not both), and checks the role for writes.
func (s *Server) authenticate(req *request) error {
	now := s.opts.Now()
	tok := tokenOf(req.r)
	name, pass := req.r.Header.Get("X-NITRO-USER"), req.r.Header.Get("X-NITRO-PASS")
	switch {
	case tok != "" && name != "":
		return fail(nserr.NotLoggedIn, "Not logged in: send a session token or X-NITRO-USER/X-NITRO-PASS, not both")
	case tok != "":
		s.sess.mu.Lock()
		se := s.sess.m[tok]
		if se != nil && now.After(se.expires) {
			delete(s.sess.m, tok)
			se = nil
		}
		var u *user
		if se != nil {
			se.expires = now.Add(se.timeout)
			u = se.user // read under the lock: a user change replaces it
		}
		s.sess.mu.Unlock()
		if se == nil {
			return fail(nserr.SessionExpired, "Session expired or killed. Please login again")
		}
		req.user, req.token = u, tok
	case name != "":
		u, err := s.users.check(name, pass, now)
		if err != nil {
			return err
		}
		req.user = u
	default:
		return fail(nserr.NotLoggedIn, "Not logged in or connection timed out")
	}
	if req.user.role == ReadOnly && req.r.Method != http.MethodGet && req.resource != "logout" {
		return &apiError{code: nserr.Perm, msg: "Operation not permitted: user " + req.user.name + " is read-only", status: http.StatusForbidden}
	}
	return nil
}

// login is POST /nitro/v1/config/login {"login":{"username","password","timeout"}}.
func (s *Server) login(req *request) (*reply, error) {
	if req.r.Method != http.MethodPost {
		return nil, fail(nserr.InvalidMethod, "Invalid method: login takes POST")
	}
	var body struct {
		Login struct {
			Username string          `json:"username"`
			Password string          `json:"password"`
			Timeout  json.RawMessage `json:"timeout"`
		} `json:"login"`
	}
	if err := decodeBody(req.r, &body); err != nil {
		return nil, err
	}
	u, err := s.users.check(body.Login.Username, body.Login.Password, s.opts.Now())
	if err != nil {
		return nil, err
	}
	timeout := s.opts.SessionTimeout
	if len(body.Login.Timeout) > 0 {
		n, err := number(body.Login.Timeout)
		if err != nil || n < 1 {
			return nil, fail(nserr.ArgValBad, "Invalid argument value [timeout]")
		}
		timeout = time.Duration(n) * time.Second
	}
	tok := newToken()
	now := s.opts.Now()
	s.sess.mu.Lock()
	// Scripts that never log out leave sessions behind: expired ones go
	// at each login, and live ones are capped.
	for k, se := range s.sess.m {
		if now.After(se.expires) {
			delete(s.sess.m, k)
		}
	}
	if len(s.sess.m) >= maxSessions {
		s.sess.mu.Unlock()
		return nil, fail(nserr.MaxLimit, fmt.Sprintf("Maximum resource limit reached: %d sessions are open; log out unused ones", maxSessions))
	}
	s.sess.m[tok] = &session{user: u, timeout: timeout, expires: now.Add(timeout)}
	s.sess.mu.Unlock()
	c := &http.Cookie{Name: "NITRO_AUTH_TOKEN", Value: tok, Path: "/nitro/v1", HttpOnly: true, Secure: req.r.TLS != nil,
		SameSite: http.SameSiteStrictMode}
	h := http.Header{}
	h.Add("Set-Cookie", c.String())
	s.log.Info("login", "user", u.name)
	return &reply{status: http.StatusCreated, fields: map[string]any{"sessionid": tok}, header: h}, nil
}

// logout ends the session the request came with (POST only: a GET that
// logs out would end sessions from a link).
func (s *Server) logout(req *request) (*reply, error) {
	if req.r.Method != http.MethodPost {
		return nil, fail(nserr.InvalidMethod, "Invalid method: logout takes POST")
	}
	if req.token != "" {
		s.sess.mu.Lock()
		delete(s.sess.m, req.token)
		s.sess.mu.Unlock()
	}
	return &reply{}, nil
}

// Protect serves h to users of the API only, read-only ones included
// (GET and HEAD): the session token, X-NITRO-USER/X-NITRO-PASS, or HTTP
// Basic authentication (what Prometheus scrapers send). Others get
// NITRO's error and a Basic challenge.
func (s *Server) Protect(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeError(w, &apiError{code: nserr.InvalidMethod, msg: "Invalid method: " + r.Method, status: http.StatusMethodNotAllowed})
			return
		}
		if name, pass, ok := r.BasicAuth(); ok && r.Header.Get("X-NITRO-USER") == "" && tokenOf(r) == "" {
			r = r.Clone(r.Context())
			r.Header.Set("X-NITRO-USER", name)
			r.Header.Set("X-NITRO-PASS", pass)
		}
		if err := s.authenticate(&request{r: r, kind: "stat", resource: "protected"}); err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="gslbd"`)
			writeError(w, asAPIError(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}
