package load

// This file holds the NITRO load source: gslbd running beside an appliance
// that keeps load balancing reads that appliance's vserver statistics
// (state and connections) over its NITRO API.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// Secret is a password: printed and logged as REDACTED.
type Secret string

func (Secret) String() string { return "REDACTED" }

// LogValue keeps a Secret out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// Credential is how gslbd logs in to one appliance's NITRO API: a user
// (read-only is enough), and how to trust its certificate.
type Credential struct {
	User     string `json:"user"`
	Password Secret `json:"password"`
	// CA is a PEM file of the certificates that sign the appliance's
	// (appliances ship a self-signed one). Insecure skips the check.
	CA       string `json:"ca,omitempty"`
	Insecure bool   `json:"insecureSkipVerify,omitempty"`

	client *http.Client
}

// Credentials are the appliances' logins by host (as in -loadURL).
type Credentials struct {
	mu    sync.Mutex
	hosts map[string]*Credential
}

// LoadCredentials reads a credentials file: a JSON object of host ->
// {"user", "password", "ca", "insecureSkipVerify"}. A missing file is no
// credentials. The file holds passwords: it must not be readable by
// others.
func LoadCredentials(path string) (*Credentials, error) {
	c := &Credentials{hosts: map[string]*Credential{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: holds passwords, so it must be readable by its owner only (chmod 600)", path)
	}
	if err := json.Unmarshal(b, &c.hosts); err != nil {
		return nil, fmt.Errorf("%s: %v (want {\"<host>\": {\"user\": ..., \"password\": ...}})", path, err)
	}
	for host, cr := range c.hosts {
		if cr == nil || cr.User == "" {
			return nil, fmt.Errorf("%s: %s: no user", path, host)
		}
		tc := &tls.Config{InsecureSkipVerify: cr.Insecure, MinVersion: tls.VersionTLS12}
		if cr.CA != "" {
			pem, err := os.ReadFile(cr.CA)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", path, host, err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: %s: %s holds no PEM certificate", path, host, cr.CA)
			}
		}
		cr.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc,
			MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second, MaxResponseHeaderBytes: 64 << 10}}
	}
	return c, nil
}

// lookup returns the login for a host.
func (c *Credentials) lookup(host string) (*Credential, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cr, ok := c.hosts[host]
	return cr, ok
}

// fetchNITRO reads GET <url> (/nitro/v1/stat/lbvserver/<name>) with the
// host's login: the vserver's state, its client connections, and its
// request and response byte rates.
func fetchNITRO(ctx context.Context, src config.LoadSource, creds *Credentials) (Sample, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return Sample{}, err
	}
	cr, ok := creds.lookup(u.Host)
	if !ok {
		return Sample{}, fmt.Errorf("no login for appliance %s in the NITRO credentials file", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return Sample{}, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-NITRO-USER", cr.User)
	req.Header.Set("X-NITRO-PASS", string(cr.Password))
	req.Header.Set("User-Agent", "gslbd-load")
	resp, err := cr.client.Do(req)
	if err != nil {
		return Sample{}, err
	}
	defer resp.Body.Close()
	body, err := readLimited(resp.Body)
	if err != nil {
		return Sample{}, err
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return Sample{}, fmt.Errorf("NITRO %s: HTTP %d, not JSON", u.Host, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    int    `json:"errorcode"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return Sample{}, fmt.Errorf("NITRO %s: HTTP %d, errorcode %d: %s", u.Host, resp.StatusCode, e.Code, e.Message)
	}
	kind := "lbvserver"
	if strings.Contains(u.Path, "/stat/csvserver/") {
		kind = "csvserver"
	}
	var list []map[string]any
	if err := json.Unmarshal(env[kind], &list); err != nil || len(list) != 1 {
		return Sample{}, fmt.Errorf("NITRO %s: no %s in the answer", u.Host, kind)
	}
	o := list[0]
	s := Sample{At: time.Now()}
	state, _ := o["state"].(string)
	switch strings.ToUpper(state) {
	case "UP", "DOWN", "OUT OF SERVICE":
		s.State = strings.ToUpper(state)
	default:
		return Sample{}, fmt.Errorf("NITRO %s: %s state %q", u.Host, kind, state)
	}
	s.StateNote = fmt.Sprintf("appliance %s %v: %s", kind, o["name"], s.State)
	if act, ok := num(o["actsvcs"]); ok {
		if inact, ok := num(o["inactsvcs"]); ok {
			s.StateNote += fmt.Sprintf(" (%d of %d services active)", act, act+inact)
		}
	}
	if n, ok := num(o["curclntconnections"]); ok {
		s.Connections, s.HasConns = n, true
	}
	rq, ok1 := rate(o["requestbytesrate"])
	rs, ok2 := rate(o["responsebytesrate"])
	if ok1 && ok2 {
		s.BytesRate, s.HasRate = rq+rs, true
	}
	return s, nil
}

// num reads a NITRO counter: a JSON string of digits (as the appliance
// sends most of them) or a number.
func num(v any) (uint64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		return n, err == nil
	case float64:
		return uint64(x), x >= 0
	}
	return 0, false
}

func rate(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}
