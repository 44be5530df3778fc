package nitro

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client speaks NITRO v1 to a gslbd (or an appliance): it logs in once
// and sends the session token with each request.
type Client struct {
	// Base is the server's URL without the /nitro/v1 path, e.g.
	// https://127.0.0.1:9443.
	Base string
	// HTTP is the client used (nil: http.DefaultClient).
	HTTP *http.Client
	// Warnings are the X-NITRO-WARNING values of the last answer (sent
	// for requests with ?warning=yes). A Client serves one caller at a
	// time.
	Warnings []string
	// UserAgent is sent as the User-Agent (empty: Go's default).
	UserAgent string
	token     string
}

// Error is a NITRO error answer.
type Error struct {
	Status  int
	Code    int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("ERROR: %s [errorcode %d]", e.Message, e.Code) }

// Response is a decoded NITRO answer.
type Response map[string]any

// Objects returns the list under a resource name.
func (r Response) Objects(resource string) []map[string]any {
	raw, _ := r[resource].([]any)
	var out []map[string]any
	for _, o := range raw {
		if m, ok := o.(map[string]any); ok {
			out = append(out, m)
		}
	}
	if m, ok := r[resource].(map[string]any); ok {
		out = append(out, m)
	}
	return out
}

// Login opens a session.
func (c *Client) Login(ctx context.Context, user, password string) error {
	r, err := c.Do(ctx, "POST", "config/login", map[string]any{"login": map[string]any{"username": user, "password": password}})
	if err != nil {
		return err
	}
	tok, _ := r["sessionid"].(string)
	if tok == "" {
		return fmt.Errorf("login: no session id in the answer")
	}
	c.token = tok
	return nil
}

// Logout ends the session.
func (c *Client) Logout(ctx context.Context) error {
	if c.token == "" {
		return nil
	}
	_, err := c.Do(ctx, "POST", "config/logout", map[string]any{"logout": map[string]any{}})
	c.token = ""
	return err
}

// Do sends one request: path is relative to /nitro/v1/ ("config/gslbvserver?count=yes").
func (c *Client) Do(ctx context.Context, method, path string, body any) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Base, "/")+"/nitro/v1/"+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.AddCookie(&http.Cookie{Name: "NITRO_AUTH_TOKEN", Value: c.token})
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	c.Warnings = resp.Header.Values("X-NITRO-WARNING")
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	var out Response
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s %s: HTTP %d, not a NITRO answer", method, path, resp.StatusCode)
	}
	if code, _ := out["errorcode"].(float64); code != 0 {
		msg, _ := out["message"].(string)
		if rs, ok := out["response"].([]any); ok {
			for _, r := range rs {
				if m, ok := r.(map[string]any); ok && m["errorcode"] != float64(0) {
					msg += "; " + fmt.Sprint(m["message"])
				}
			}
		}
		return out, &Error{Status: resp.StatusCode, Code: int(code), Message: msg}
	}
	return out, nil
}

// Path joins a resource, an optional key and query into a request path,
// escaping the key.
func Path(kind, resource, key string, query url.Values) string {
	p := kind + "/" + resource
	if key != "" {
		p += "/" + url.PathEscape(key)
	}
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}
