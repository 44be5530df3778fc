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
