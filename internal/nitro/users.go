package nitro

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// MinPasswordLen is the shortest password gslbd accepts (API and
// `gslbd user add`).
const MinPasswordLen = 8

// CheckPassword says why a password is refused, or nil. The message never
// contains the password.
func CheckPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return fmt.Errorf("a password needs at least %d characters", MinPasswordLen)
	}
	if strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("a password cannot contain control characters")
	}
	return nil
}

// checkUserName applies NetScaler's rule for user names: 1-127 of
// letters, digits and _ # . space : @ = -, starting with a letter, digit
// or underscore.
func checkUserName(n string) error {
	if n == "" || len(n) > 127 {
		return fail(nserr.InvalidName, "Invalid name [username]: 1 to 127 characters")
	}
	for i, r := range n {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' ||
			i > 0 && strings.ContainsRune("#. :@=-", r)
		if !ok {
			return fail(nserr.InvalidName, "Invalid name [username]: letters, digits and _ # . space : @ = - only, starting with a letter, digit or _")
		}
	}
	return nil
}

// Command policies gslbd knows: NetScaler's built-in superuser and
// read-only. A user bound to neither is read-only (the least it may be
// and still log in).
var policies = map[string]Role{"superuser": Superuser, "read-only": ReadOnly}

func policyOf(r Role) string {
	if r == Superuser {
		return "superuser"
	}
	return "read-only"
}

// userFields are systemuser fields NetScaler has and gslbd keeps no use
// for: accepted with a warning, so that Terraform and Ansible bodies work.
var userFields = []string{"externalauth", "promptstring", "timeout", "logging", "maxsession", "allowedmanagementinterface"}

// updateUsers changes the users as stored (the file is read again, so that a
// `gslbd user add` made while running is not lost), saves them, and only
// then makes the result current; fn sees the users by name. Sessions of
// users removed or given a new password end; the others see their new
// role at once.
func (s *Server) updateUsers(fn func(m map[string]*user) error) error {
	u := s.users
	u.wmu.Lock()
	defer u.wmu.Unlock()
	next := map[string]*user{}
	if s.opts.UsersPath != "" {
		stored, err := LoadUsers(s.opts.UsersPath)
		if err != nil {
			return fail(nserr.Inval, "users file unreadable: "+err.Error())
		}
		next = stored.m
	} else {
		u.mu.Lock()
		for k, x := range u.m {
			c := *x
			next[k] = &c
		}
		u.mu.Unlock()
	}
	if err := fn(next); err != nil {
		return err
	}
	superusers := 0
	for _, x := range next {
		if x.role == Superuser {
			superusers++
		}
	}
	if superusers == 0 {
		return fail(nserr.Perm, "Operation not permitted: at least one superuser must remain")
	}
	if s.opts.UsersPath != "" {
		saved := &Users{m: next}
		if err := saved.SaveUsers(s.opts.UsersPath); err != nil {
			return fail(nserr.Inval, "users not saved, nothing changed: "+err.Error())
		}
	}
	u.mu.Lock()
	for k, x := range next {
		if old := u.m[k]; old != nil && string(old.hash) == string(x.hash) {
			x.failed, x.until = old.failed, old.until // a lockout survives other users' changes
		}
	}
	u.m = next
	u.mu.Unlock()
	s.sess.mu.Lock()
	for tok, se := range s.sess.m {
		nu := next[se.user.name]
		if nu == nil || string(nu.hash) != string(se.user.hash) {
			delete(s.sess.m, tok)
			continue
		}
		se.user = nu
	}
	s.sess.mu.Unlock()
	return nil
}

// systemuser serves GET, add (POST), password change (PUT) and DELETE of
// API users.
func (s *Server) systemuser(req *request) (*reply, error) {
	switch req.r.Method {
	case http.MethodGet:
		var out []obj
		for _, name := range s.users.names() {
			if req.key == "" || req.key == name {
				out = append(out, obj{"username": name})
			}
		}
		if req.key != "" && len(out) == 0 {
			return nil, fail(nserr.NoEnt, "No such resource [username, "+req.key+"]")
		}
		return &reply{fields: obj{"systemuser": out}}, nil
	case http.MethodDelete:
		if req.key == "" {
			return nil, fail(nserr.ArgMissing, "Required argument missing [username in the URL]")
		}
		err := s.updateUsers(func(m map[string]*user) error {
			if m[req.key] == nil {
				return fail(nserr.NoEnt, "No such resource [username, "+req.key+"]")
			}
			delete(m, req.key)
			return nil
		})
		if err != nil {
			return nil, err
		}
		s.log.Info("user removed", "user", req.key, "by", req.user.name)
		return &reply{}, nil
	case http.MethodPost, http.MethodPut:
		if a := req.query.Get("action"); a != "" {
			return nil, fail(nserr.InvalidAction, "Invalid action ["+a+"] for systemuser")
		}
	default:
		return nil, fail(nserr.InvalidMethod, "Invalid method "+req.r.Method)
	}
	objs, err := objects(req)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fail(nserr.Inval, "Invalid argument: one systemuser per request")
	}
	o := objs[0]
	name, _ := o["username"].(string)
	if req.key != "" {
		name = req.key // PUT /config/systemuser/<name>: the URL names the user
	}
	if err := checkUserName(name); err != nil {
		return nil, err
	}
	pw, hasPW := o["password"].(string)
	if _, given := o["password"]; given && !hasPW {
		return nil, fail(nserr.InvalidJSONType, "Invalid JSON data type [password]")
	}
	for k := range o {
		if k != "username" && k != "password" && !slices.Contains(userFields, k) {
			return nil, fail(nserr.NoSuchArg, "No such argument ["+k+"]")
		}
		if slices.Contains(userFields, k) {
			req.warnings = append(req.warnings, &nsconf.Error{Code: nserr.NoEffect, Msg: k + " is accepted, but gslbd does not keep it"})
		}
	}
	add := req.r.Method == http.MethodPost
	if hasPW || add {
		if err := CheckPassword(pw); err != nil {
			return nil, fail(nserr.ArgValBad, "Invalid argument value [password]: "+err.Error())
		}
	}
	idempotent := strings.EqualFold(req.query.Get("idempotent"), "yes")
	err = s.updateUsers(func(m map[string]*user) error {
		old := m[name]
		switch {
		case add && old != nil && !idempotent:
			return fail(nserr.Exist, "Resource already exists [username, "+name+"]")
		case !add && old == nil:
			return fail(nserr.NoEnt, "No such resource [username, "+name+"]")
		}
		role := ReadOnly // a new user is bound to no command policy
		if old != nil {
			role = old.role
		}
		if hasPW {
			m[name] = newUser(name, pw, role)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("user saved", "user", name, "by", req.user.name, "password_changed", hasPW)
	if add {
		return &reply{status: http.StatusCreated}, nil
	}
	return &reply{}, nil
}

// userPolicy serves systemuser_systemcmdpolicy_binding: binding the
// superuser or read-only policy sets the user's role; unbinding it leaves
// the user read-only.
func (s *Server) userPolicy(req *request) (*reply, error) {
	const res = "systemuser_systemcmdpolicy_binding"
	var name, policy string
	switch req.r.Method {
	case http.MethodGet:
		var out []obj
		s.users.mu.Lock()
		for _, n := range slices.Sorted(maps.Keys(s.users.m)) {
			if req.key == "" || req.key == n {
				out = append(out, obj{"username": n, "policyname": policyOf(s.users.m[n].role), "priority": 0})
			}
		}
		s.users.mu.Unlock()
		return &reply{fields: obj{res: out}}, nil
	case http.MethodDelete:
		args, err := pairs(req.query.Get("args"))
		if err != nil {
			return nil, err
		}
		name, policy = req.key, args["policyname"]
		if name == "" || policy == "" {
			return nil, fail(nserr.ArgMissing, "Required argument missing [username in the URL, args=policyname:<p>]")
		}
	case http.MethodPost, http.MethodPut:
		objs, err := objects(req)
		if err != nil {
			return nil, err
		}
		if len(objs) != 1 {
			return nil, fail(nserr.Inval, "Invalid argument: one binding per request")
		}
		for k := range objs[0] {
			if k != "username" && k != "policyname" && k != "priority" {
				return nil, fail(nserr.NoSuchArg, "No such argument ["+k+"]")
			}
		}
		name, _ = objs[0]["username"].(string)
		policy, _ = objs[0]["policyname"].(string)
	default:
		return nil, fail(nserr.InvalidMethod, "Invalid method "+req.r.Method)
	}
	want, ok := policies[strings.ToLower(policy)]
	if !ok {
		return nil, fail(nserr.ArgValBad, "Invalid argument value [policyname]: gslbd knows the superuser and read-only command policies")
	}
	unbind := req.r.Method == http.MethodDelete
	err := s.updateUsers(func(m map[string]*user) error {
		u := m[name]
		if u == nil {
			return fail(nserr.NoEnt, "No such resource [username, "+name+"]")
		}
		if unbind {
			if u.role != want {
				return fail(nserr.NoEnt, "No such resource [policyname, "+policy+"]: not bound to user "+name)
			}
			want = ReadOnly
		}
		c := *u
		c.role = want
		m[name] = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("user role set", "user", name, "policy", policyOf(want), "by", req.user.name)
	if req.r.Method == http.MethodPost {
		return &reply{status: http.StatusCreated}, nil
	}
	return &reply{}, nil
}
