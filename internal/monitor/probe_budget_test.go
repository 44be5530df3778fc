package monitor

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// TestProbeBodyBudget: an HTTP-ECV body of exactly 256 KiB, sent after the
// headers have been read, is searched whole: -recv in its last bytes is
// found; one more byte past the budget is not searched.
func TestProbeBodyBudget(t *testing.T) {
	h := &servers{t: t}
	serve := func(size int) string {
		return h.serve(func(c net.Conn) {
			readRequest(c)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
			time.Sleep(50 * time.Millisecond) // the probe reads the headers alone
			io.WriteString(c, strings.Repeat("x", size-3)+"END")
			c.Close()
		}).String()
	}
	m := monitorFrom(t, `add lb monitor m HTTP-ECV -send "GET /" -recv END -resptimeout 3`)
	expect(t, probeOnce(t, m, serve(maxBodyBytes)), true, "HTTP 200")
	expect(t, probeOnce(t, m, serve(maxBodyBytes+1)), false, "first 256 KiB of the body does not contain")
}

// TestProbeTCPECVLimitUnaligned: the 64 KiB searched for -recv end at the
// 64 KiB, however the response's reads fall: a -recv just past them is not
// found even when the last read could take more.
func TestProbeTCPECVLimitUnaligned(t *testing.T) {
	h := &servers{t: t}
	addr := h.serve(func(c net.Conn) {
		io.WriteString(c, strings.Repeat("x", 100))
		time.Sleep(50 * time.Millisecond) // a first read of 100 bytes
		io.WriteString(c, strings.Repeat("x", maxECVBytes-100)+"needle")
		time.Sleep(300 * time.Millisecond) // the rest is in the socket for the last read
		c.Close()
	}).String()
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m TCP-ECV -recv needle -resptimeout 4`), addr), false,
		`first 64 KiB of the response do not contain -recv "needle"`)
}
