package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/miekg/dns"
)

// snapshotFrom builds a configuration from ns.conf text.
func snapshotFrom(t *testing.T, text string) *config.Snapshot {
	t.Helper()
	_, s, _, err := config.Load("t.conf", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// monitorFrom builds a monitor from its ns.conf line, so that the tests
// also cover the configuration's typing of every option.
func monitorFrom(t *testing.T, line string) *config.MonitorInfo {
	t.Helper()
	return snapshotFrom(t, line+"\n").Monitors[strings.ToLower(strings.Fields(line)[3])]
}

func probeOnce(t *testing.T, m *config.MonitorInfo, dst string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), m.RespTimeout)
	defer cancel()
	return proberFor(m)(ctx, m, netip.MustParseAddrPort(dst))
}

func expect(t *testing.T, r Result, ok bool, reason string) {
	t.Helper()
	if r.OK != ok || !strings.Contains(r.Reason, reason) {
		t.Fatalf("got OK=%v %q, want OK=%v with %q", r.OK, r.Reason, ok, reason)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

func TestProbeTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ended := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			ended <- err
			return
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 1))
		ended <- err
	}()
	m := monitorFrom(t, "add lb monitor m TCP -resptimeout 1")
	expect(t, probeOnce(t, m, l.Addr().String()), true, "connected")
	// The probe resets the connection (no TIME_WAIT on the monitoring side).
	if err := <-ended; !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("server saw %v after the probe, want connection reset", err)
	}
	expect(t, probeOnce(t, m, closedPort(t)), false, "connection refused")
	l6, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l6.Close()
	expect(t, probeOnce(t, m, l6.Addr().String()), true, "connected")
	a6 := l6.Addr().String()
	l6.Close()
	expect(t, probeOnce(t, m, a6), false, "connection refused")
}

func httpServer(t *testing.T, h http.HandlerFunc) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestProbeHTTP(t *testing.T) {
	var gotReq string
	addr := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotReq = r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Probe")
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(503)
		case "/maint":
			w.WriteHeader(299)
		default:
			fmt.Fprint(w, "status: green")
		}
	})
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP"), addr), true, "HTTP 200")
	if gotReq != "HEAD / " {
		t.Fatalf("default request %q, want HEAD /", gotReq)
	}
	m := monitorFrom(t, `add lb monitor m HTTP -httpRequest "GET /down" -customHeaders "X-Probe: 1\r\n"`)
	expect(t, probeOnce(t, m, addr), false, "HTTP 503 not in 200")
	if gotReq != "GET /down 1" {
		t.Fatalf("request %q, want GET /down with the custom header", gotReq)
	}
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP -httpRequest "GET /down" -respCode 200 500-599`), addr), true, "HTTP 503")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP -httpRequest "GET /maint" -respCode 200 -trofscode 299`), addr), true, "out of service")
	// -recv is a string the body must contain (NetScaler), not a pattern.
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP-ECV -send "GET /health" -recv "status: green"`), addr), true, "HTTP 200")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP-ECV -send "GET /health" -recv "s: gr"`), addr), true, "HTTP 200")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP-ECV -send "GET /health" -recv "status: (green|yellow)"`), addr), false, "does not contain -recv")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m HTTP-ECV -send "GET /health" -recv red`), addr), false, "does not contain -recv")
}

func TestProbeHTTPS(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer s.Close()
	addr := strings.TrimPrefix(s.URL, "https://")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP -secure YES"), addr), true, "HTTP 200")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m TCP -secure YES"), addr), true, "TLS handshake completed")
	// Certificate checks are off by default (as NetScaler); on request the
	// test server's self-signed certificate is refused.
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP -secure YES -sslVerify YES"), addr), false, "certificate")
	// Plain HTTP to a TLS port fails with a clear reason.
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP"), addr), false, "HTTP 400")
}

func TestProbeTCPECV(t *testing.T) {
	h := &servers{t: t}
	addr := h.serve(func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line == "PING\n" {
			io.WriteString(c, "+PONG\r\n")
		} else {
			io.WriteString(c, "-ERR\r\n")
		}
		c.Close()
	}).String()
	// "+PONG" as saved appliance files write it for Redis: a string, which
	// a regular expression compiler would refuse.
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m TCP-ECV -send "PING\r\n" -recv "+PONG"`), addr), false, "does not contain")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m TCP-ECV -send "PING\n" -recv "+PONG"`), addr), true, "contains -recv")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m TCP-ECV -send "PING\n" -recv "+PONG\r\n"`), addr), true, "contains -recv")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m TCP-ECV -send "HELLO\n" -recv "+PONG"`), addr), false, "does not contain")
}

func TestProbeUDPECV(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte("echo:"+string(buf[:n])), from)
		}
	}()
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m UDP-ECV -send hello -recv "echo:hello"`), pc.LocalAddr().String()), true, "response received")
	// Without -recv, only an ICMP unreachable fails the probe.
	dead := strings.Replace(closedPort(t), "tcp", "udp", 1)
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m UDP-ECV -send hello -resptimeout 300 MSEC`), dead), false, "ICMP port unreachable")
	expect(t, probeOnce(t, monitorFrom(t, `add lb monitor m UDP-ECV -send hello -recv "^echo" -resptimeout 300 MSEC`), pc.LocalAddr().String()), false, "does not contain")
}

func TestProbeDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg).SetReply(q)
		if q.Question[0].Name == "app.example." {
			rr, _ := dns.NewRR("app.example. 5 IN A 192.0.2.7")
			r.Answer = append(r.Answer, rr)
		} else {
			r.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(r)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	a := pc.LocalAddr().String()
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query app.example"), a), true, "NOERROR")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query app.example -IPAddress 192.0.2.9 192.0.2.7"), a), true, "192.0.2.7")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query app.example -IPAddress 192.0.2.9"), a), false, "none of the expected")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query nx.example"), a), false, "NXDOMAIN")
	// -respCode names the DNS response codes that mean UP.
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query nx.example -respCode 0 3"), a), true, "NXDOMAIN")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query app.example -respCode 3"), a), false, "NOERROR")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m DNS -query app.example -respCode 0"), a), true, "NOERROR")
}

// TestProbePing needs CAP_NET_RAW (root) or ping sockets: CI runs as root.
func TestProbePing(t *testing.T) {
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m PING -resptimeout 1"), "127.0.0.1:0"), true, "echo reply")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m PING -resptimeout 1"), "[::1]:0"), true, "echo reply")
}

// fakeStoreFront stands in for Citrix StoreFront (a Windows IIS product
// that cannot run here): it serves the account service, the discovery
// document and the authentication endpoint the document names.
func fakeStoreFront(t *testing.T, broken string) string {
	var addr string
	addr = httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == broken {
			w.WriteHeader(500)
			return
		}
		switch r.URL.Path {
		case "/Citrix/Roaming/Accounts":
			fmt.Fprint(w, `<?xml version="1.0"?><accounts/>`)
		case "/Citrix/Store/discovery":
			fmt.Fprintf(w, `<?xml version="1.0"?><discovery><service><url>http://%s/Citrix/StoreAuth/endpoints/v1</url></service></discovery>`, addr)
		case "/Citrix/StoreAuth/endpoints/v1":
			fmt.Fprint(w, `<endpoints/>`)
		default:
			w.WriteHeader(404)
		}
	})
	return addr
}

func TestProbeStoreFront(t *testing.T) {
	m := monitorFrom(t, "add lb monitor sf STOREFRONT -storename Store")
	expect(t, probeOnce(t, m, fakeStoreFront(t, "")), true, `store "Store" answers`)
	expect(t, probeOnce(t, m, fakeStoreFront(t, "/Citrix/Roaming/Accounts")), false, "account service: HTTP 500")
	expect(t, probeOnce(t, m, fakeStoreFront(t, "/Citrix/Store/discovery")), false, "discovery of store \"Store\": HTTP 500")
	expect(t, probeOnce(t, m, fakeStoreFront(t, "/Citrix/StoreAuth/endpoints/v1")), false, "authentication endpoint: HTTP 500")
	noAcct := monitorFrom(t, "add lb monitor sf STOREFRONT -storename Store -storefrontacctservice NO")
	expect(t, probeOnce(t, noAcct, fakeStoreFront(t, "/Citrix/Roaming/Accounts")), true, "answers")
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor sf STOREFRONT -storename Other"), fakeStoreFront(t, "")), false, "HTTP 404")
}

// TestProbeTimeouts: a server that accepts and never answers, and one that
// sends headers forever, both end at the response timeout with the reason.
func TestProbeTimeouts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				<-stop
				c.Close()
			}()
		}
	}()
	start := time.Now()
	expect(t, probeOnce(t, monitorFrom(t, "add lb monitor m HTTP -resptimeout 300 MSEC -interval 1"), l.Addr().String()), false, "probe timed out after 300ms")
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("probe took %s", d)
	}
}
