// Package nitro serves NetScaler's NITRO v1 REST API over a running gslbd:
// sessions, the GSLB configuration resources and their bindings, and
// `save ns config`. Requests become CLI commands applied through Backend,
// so that the API and ns.conf share one parser, one checker and one
// writer, and a request is applied whole or not at all.
//
// Handlers return data or an error carrying a NITRO code; one wrapper
// writes the envelope ({"errorcode":0,"message":"Done","severity":"NONE"})
// and maps the code to the HTTP status (docs §4.5).
package nitro

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Backend is the running gslbd the API changes.
type Backend interface {
	// Config is the running configuration; callers must not change it.
	Config() *config.Config
	// Change applies CLI commands whole, or nothing (an nsconf.ErrorList).
	// The warnings are those of the change (logged by the backend; sent
	// to clients that ask with ?warning=yes).
	// by says who makes the change (its Via names the commands in errors).
	Change(by events.Origin, text string) ([]*nsconf.Error, error)
	// Save writes the running configuration to its file.
	Save() error
	// Diff compares the saved file with the running configuration.
	Diff() (savedOnly, runningOnly []string, err error)
	// Clear removes the GSLB configuration (clear ns config basic).
	Clear() error
}

// Stater is optional on a Backend: live figures of a resource's objects by
// lower-cased name (vserver and service state, response time), added to
// GETs and served by /stat.
type Stater interface {
	Stat(resource string) map[string]map[string]any
}

// Options configure a Server. Zero values are the documented defaults.
type Options struct {
	Logger *slog.Logger // nil: discard
	// SessionTimeout is how long an idle session lives (0: 30 minutes, as
	// NetScaler without a restricted timeout).
	SessionTimeout time.Duration
	// MaxBody bounds a request body (0: 1 MiB), checked before decoding.
	MaxBody int64
	// UsersPath is the users file that systemuser changes are saved to
	// (read again before each change). "": changes live in memory only.
	UsersPath string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Server is the NITRO API as an http.Handler.
type Server struct {
	backend Backend
	users   *Users
	opts    Options
	log     *slog.Logger
	sess    *sessions
}

// New returns a Server over backend, authenticating against users.
func New(backend Backend, users *Users, opts Options) *Server {
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 30 * time.Minute
	}
	if opts.MaxBody == 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{backend: backend, users: users, opts: opts, log: log.With("component", "nitro"),
		sess: newSessions()}
}

// reply is what a handler returns: a status (0: 200) and fields added to
// the envelope.
type reply struct {
	status int
	fields map[string]any
	header http.Header
}

// apiError is a failed request: a NITRO code, its message, and optionally
// the HTTP status (0: from the code).
type apiError struct {
	code   nserr.Code
	msg    string
	status int
}

func (e *apiError) Error() string { return e.msg }

func fail(code nserr.Code, msg string) *apiError { return &apiError{code: code, msg: msg} }

// statusOf maps a NITRO code to the HTTP status (docs §4.5).
func statusOf(code nserr.Code) int {
	switch code {
	case nserr.NoEnt, nserr.NoVServer, nserr.NoService, nserr.SiteNotFound, nserr.NoDomain:
		return http.StatusNotFound
	case nserr.Exist:
		return http.StatusConflict
	case nserr.NoUser, nserr.SessionExpired, nserr.NotLoggedIn:
		return http.StatusUnauthorized
	case nserr.Perm, nserr.Acces:
		return http.StatusForbidden
	case nserr.InvalidObjectName, nserr.InvalidJSON, nserr.InvalidJSONType, nserr.InvalidAction:
		return http.StatusBadRequest
	case nserr.InvalidMethod:
		return http.StatusMethodNotAllowed
	}
	return 599 // "NetScaler specific error"
}

// asAPIError turns a backend error into the NITRO error of its first line.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if l, ok := nsconf.AsList(err); ok && len(l) > 0 {
		code := l[0].Code
		if code == 0 {
			code = nserr.Inval
		}
		return &apiError{code: code, msg: l[0].Msg}
	}
	var ne *nserr.Error
	if errors.As(err, &ne) {
		return &apiError{code: ne.Code, msg: ne.Msg}
	}
	return &apiError{code: nserr.Inval, msg: err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	status := e.status
	if status == 0 {
		status = statusOf(e.code)
	}
	writeJSON(w, status, map[string]any{"errorcode": int(e.code), "message": e.msg, "severity": "ERROR"})
}

// request is a parsed NITRO request.
type request struct {
	r        *http.Request
	kind     string // "config" or "stat"
	resource string // lower case
	key      string // decoded, "" when absent
	query    url.Values
	user     *user
	token    string
	warnings []*nsconf.Error // of the changes made
}

// ServeHTTP routes /nitro/v1/{config,stat}/<resource>[/<key>].
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, aerr := parse(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if req.r.Body != nil {
		req.r.Body = http.MaxBytesReader(w, req.r.Body, s.opts.MaxBody)
	}
	var rep *reply
	var err error
	switch {
	case req.kind == "config" && req.resource == "login":
		rep, err = s.login(req)
	default:
		if err = s.authenticate(req); err == nil {
			if wantsStream(req) {
				s.streamEvents(w, req)
				return
			}
			rep, err = s.dispatch(req)
		}
	}
	if err != nil {
		ae := asAPIError(err)
		if ae.code != nserr.NoUser && ae.code != nserr.NotLoggedIn && ae.code != nserr.SessionExpired {
			s.log.Info("request failed", "method", r.Method, "resource", req.resource, "code", int(ae.code), "msg", ae.msg)
		}
		writeError(w, ae)
		return
	}
	body := map[string]any{"errorcode": 0, "message": "Done", "severity": "NONE"}
	for k, v := range rep.fields {
		body[k] = v
	}
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	if len(req.warnings) > 0 && strings.EqualFold(req.query.Get("warning"), "yes") && status < 300 {
		// 209 and one X-NITRO-WARNING: <code> - <text> per warning; the
		// body keeps errorcode 0 (the change was made) so that clients
		// keying on errorcode see success.
		status = 209
		for _, wn := range req.warnings {
			w.Header().Add("X-NITRO-WARNING", headerSafe(fmt.Sprintf("%d - %s", int(wn.Code), wn.Msg)))
		}
		body["severity"] = "WARNING"
	}
	writeJSON(w, status, body)
}

// headerSafe keeps a header value on one line of printable text.
func headerSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v)
}

// parse splits the path. Empty segments ("//", as adc-nitro-go sends)
// are dropped; the key is percent-decoded from the raw path and then
// query-unescaped once more, because adc-nitro-go escapes names twice
// (docs §4.10): legal names contain no '+' or '%', so this is safe.
func parse(r *http.Request) (*request, *apiError) {
	raw := r.URL.EscapedPath()
	var segs []string
	for _, p := range strings.Split(raw, "/") {
		if p != "" {
			segs = append(segs, p)
		}
	}
	if len(segs) < 4 || len(segs) > 5 || segs[0] != "nitro" || segs[1] != "v1" || (segs[2] != "config" && segs[2] != "stat") {
		return nil, &apiError{code: nserr.InvalidObjectName, msg: "Invalid object name: not a /nitro/v1/config or /nitro/v1/stat resource", status: http.StatusNotFound}
	}
	res, err := url.PathUnescape(segs[3])
	if err != nil || strings.ContainsAny(res, "/\\") {
		return nil, fail(nserr.InvalidObjectName, "Invalid object name")
	}
	req := &request{r: r, kind: segs[2], resource: strings.ToLower(res), query: r.URL.Query()}
	if len(segs) == 5 {
		k, err := url.PathUnescape(segs[4])
		if err == nil {
			k, err = url.QueryUnescape(k)
		}
		if err != nil || k == "" {
			return nil, fail(nserr.InvalidObjectName, "Invalid object name: bad key")
		}
		req.key = k
	}
	return req, nil
}
