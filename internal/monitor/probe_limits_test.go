package monitor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// resetAfter writes b, then resets the connection (RST, no FIN).
func resetAfter(c net.Conn, b string) {
	readRequest(c)
	io.WriteString(c, b)
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

// TestProbeHTTPEdges: the reasons an operator reads for each way an HTTP
// server answers badly or partly, and the parts of a monitor that change
// the request or the verdict.
func TestProbeHTTPEdges(t *testing.T) {
	h := &servers{t: t}
	garbage := h.serve(func(c net.Conn) { readRequest(c); io.WriteString(c, "HELLO\r\n\r\n"); c.Close() }).String()
	partial := h.serve(func(c net.Conn) {
		resetAfter(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstatus: green")
	}).String()
	noBody := h.serve(func(c net.Conn) { resetAfter(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n") }).String()
	var mu sync.Mutex
	var lastRequest string
	web := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lastRequest = r.Method + " " + r.URL.Path
		mu.Unlock()
		switch r.URL.Path {
		case "/maint":
			fmt.Fprint(w, "status: under maintenance")
		case "/missing":
			w.WriteHeader(404)
		case "/big":
			// The -recv string at the very end of the 256 KiB read.
			fmt.Fprint(w, strings.Repeat("x", maxBodyBytes-len("the-end"))+"the-end")
		default:
			fmt.Fprint(w, "status: green")
		}
	})
	for _, tc := range []struct {
		name    string
		monitor string
		addr    string
		ok      bool
		reason  string // the whole reason
		request string // what the server saw ("": not checked)
	}{
		{name: "not HTTP", monitor: "add lb monitor m HTTP", addr: garbage, reason: `malformed HTTP response: malformed HTTP response "HELLO"`},
		{name: "code not in one", monitor: `add lb monitor m HTTP -httpRequest "GET /missing"`, addr: web, reason: "HTTP 404 not in 200"},
		{name: "code not in a list", monitor: `add lb monitor m HTTP -httpRequest "GET /missing" -respCode 200-299 301`, addr: web, reason: "HTTP 404 not in 200-299 301"},
		{name: "trofs string", monitor: `add lb monitor m HTTP -httpRequest "GET /maint" -trofsstring maintenance`, addr: web, ok: true, reason: "HTTP 200: out of service (trofs)"},
		{name: "no trofs string", monitor: `add lb monitor m HTTP -trofsstring maintenance`, addr: web, ok: true, reason: "HTTP 200"},
		{name: "ECV default request", monitor: `add lb monitor m HTTP-ECV -recv green`, addr: web, ok: true, reason: "HTTP 200", request: "GET /"},
		{name: "ECV request", monitor: `add lb monitor m HTTP-ECV -send "GET /maint" -recv maintenance`, addr: web, ok: true, reason: "HTTP 200", request: "GET /maint"},
		{name: "ECV -recv at the end of 256 KiB", monitor: `add lb monitor m HTTP-ECV -send "GET /big" -recv the-end`, addr: web, ok: true, reason: "HTTP 200"},
		// What came before a reset is searched.
		{name: "ECV body cut short", monitor: `add lb monitor m HTTP-ECV -recv green`, addr: partial, ok: true, reason: "HTTP 200"},
		{name: "ECV no body before a reset", monitor: `add lb monitor m HTTP-ECV -recv green`, addr: noBody, reason: "connection reset by peer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probeOnce(t, monitorFrom(t, tc.monitor), tc.addr)
			if r.OK != tc.ok || r.Reason != tc.reason {
				t.Fatalf("got OK=%v %q, want OK=%v %q", r.OK, r.Reason, tc.ok, tc.reason)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.request != "" && lastRequest != tc.request {
				t.Fatalf("server saw %q, want %q", lastRequest, tc.request)
			}
		})
	}
}

// TestProbeTCPECVLimit: a response that never contains -recv is searched
// for its first 64 KiB only, and the probe ends there.
func TestProbeTCPECVLimit(t *testing.T) {
	h := &servers{t: t}
	addr := h.serve(func(c net.Conn) {
		b := []byte(strings.Repeat("x", 1024))
		for {
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}).String()
	m := monitorFrom(t, `add lb monitor m TCP-ECV -recv never -resptimeout 4`)
	done := make(chan Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), m.RespTimeout)
		defer cancel()
		done <- probeTCPECV(ctx, m, netip.MustParseAddrPort(addr))
	}()
	select {
	case r := <-done:
		expect(t, r, false, `first 64 KiB of the response do not contain -recv "never"`)
	case <-time.After(10 * time.Second):
		t.Fatal("the probe did not end at 64 KiB")
	}
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

// TestProbeUDPECVSilence: without -recv, a server that stays silent is UP
// (only an ICMP unreachable fails, NetScaler UDP-ECV); with -recv the
// silence is a timeout.
func TestProbeUDPECVSilence(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	a := pc.LocalAddr().String()
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m UDP-ECV -send hello -resptimeout 200 MSEC`), a), true, "no ICMP unreachable")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m UDP-ECV -send hello -recv x -resptimeout 200 MSEC`), a), false, "probe timed out after 200ms")
}
