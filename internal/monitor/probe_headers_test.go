package monitor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestProbeCustomHeadersReplaceOurs: a -customHeaders "Host: ..." (as
// appliance files write it) replaces the probe's own Host header instead
// of adding a second one, which a real HTTP server refuses with 400.
func TestProbeCustomHeadersReplaceOurs(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got, host = r.Header.Clone(), r.Host
		mu.Unlock()
	}))
	defer srv.Close()
	a := strings.TrimPrefix(srv.URL, "http://")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP -httpRequest "GET /health" -customHeaders "Host: www.example.net\r\nuser-agent: probe/1\r\n"`), a), true, "HTTP 200")
	mu.Lock()
	defer mu.Unlock()
	if host != "www.example.net" || got.Get("User-Agent") != "probe/1" || len(got.Values("User-Agent")) != 1 {
		t.Fatalf("Host %q, headers %v", host, got)
	}
	// Without custom headers the probe names the address it connects to.
	mu.Unlock()
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP -httpRequest "GET /health"`), a), true, "HTTP 200")
	mu.Lock()
	if host != a || got.Get("User-Agent") != "gslbd-monitor" {
		t.Fatalf("Host %q, headers %v", host, got)
	}
}

// TestProbeHTTPSHostPort: the Host header of an HTTPS probe names the port
// unless it is 443, as for HTTP unless it is 80 (RFC 9110 §7.2).
func TestProbeHTTPSHostPort(t *testing.T) {
	var mu sync.Mutex
	var host string
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		host = r.Host
		mu.Unlock()
	}))
	defer s.Close()
	addr := strings.TrimPrefix(s.URL, "https://")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP -secure YES"), addr), true, "HTTP 200")
	mu.Lock()
	defer mu.Unlock()
	if host != addr {
		t.Fatalf("Host %q, want %q (the port is not 443)", host, addr)
	}
}
