package daemon

import (
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DemoConfig is the built-in demo configuration (`gslbd demo`).
//
//go:embed demo.conf
var DemoConfig []byte

// DemoBackendIPs are the addresses of the demo's services (demo.conf),
// which listen on DemoBackendPort unless told otherwise.
var DemoBackendIPs = []string{"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"}

// DemoBackendPort is the demo backends' port in demo.conf.
const DemoBackendPort = 8080

// DemoConfigFor is the demo configuration with the backends on the
// ports they listen on (demo.conf says DemoBackendPort).
func DemoConfigFor(b *DemoBackends) []byte {
	s := string(DemoConfig)
	for i, ip := range DemoBackendIPs {
		port := b.Port(i)
		s = strings.ReplaceAll(s, fmt.Sprintf("%s HTTP %d", ip, DemoBackendPort), fmt.Sprintf("%s HTTP %d", ip, port))
		s = strings.ReplaceAll(s, fmt.Sprintf("%s:%d", ip, DemoBackendPort), fmt.Sprintf("%s:%d", ip, port))
	}
	return []byte(s)
}

// DemoBackends are the small HTTP servers standing behind the demo's GSLB
// services, so that its monitors probe something real. Each answers
//
//	/health                          200, or 503 once broken
//	/Citrix/Store/discovery          a StoreFront-like discovery document
//	/metrics                         demo_active_connections (Prometheus text)
//	/break, /fix                     break or mend this backend
//	anything else                    a line naming the backend
type DemoBackends struct {
	servers []*http.Server
	addrs   []*net.TCPAddr
	wg      sync.WaitGroup
}

// Addr is backend i's address (DemoBackendIPs order).
func (d *DemoBackends) Addr(i int) string { return d.addrs[i].String() }

// Port is backend i's port.
func (d *DemoBackends) Port(i int) int { return d.addrs[i].Port }

type demoBackend struct {
	addr   string
	broken atomic.Bool
	conns  atomic.Int64
}

// StartDemoBackends listens on DemoBackendIPs at port (0: a free port
// each).
func StartDemoBackends(port int) (*DemoBackends, error) {
	d := &DemoBackends{}
	var ls []net.Listener
	for _, ip := range DemoBackendIPs {
		a := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, fmt.Errorf("demo backend %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		d.addrs = append(d.addrs, l.Addr().(*net.TCPAddr))
		b := &demoBackend{addr: l.Addr().String()}
		srv := &http.Server{Handler: b, ReadHeaderTimeout: 5 * time.Second,
			ConnState: func(_ net.Conn, s http.ConnState) {
				switch s {
				case http.StateNew:
					b.conns.Add(1)
				case http.StateClosed, http.StateHijacked:
					b.conns.Add(-1)
				}
			}}
		d.servers = append(d.servers, srv)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			_ = srv.Serve(l) // ends with ErrServerClosed at Close
		}()
	}
	return d, nil
}

func (b *demoBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/break":
		b.broken.Store(true)
		fmt.Fprintf(w, "%s is broken: its monitor will fail and gslbd will stop answering it\n", b.addr)
		return
	case "/fix":
		b.broken.Store(false)
		fmt.Fprintf(w, "%s is mended: gslbd will answer it again after the monitor's downTime\n", b.addr)
		return
	case "/metrics":
		// The scrape's own connection is not load.
		fmt.Fprintf(w, "# TYPE demo_active_connections gauge\ndemo_active_connections %d\n", max(b.conns.Load()-1, 0))
		return
	}
	if b.broken.Load() {
		http.Error(w, b.addr+" is broken (curl /fix to mend it)", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.URL.Path == "/health":
		fmt.Fprintln(w, "ok")
	case strings.HasSuffix(r.URL.Path, "/discovery"):
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintln(w, `<?xml version="1.0" encoding="utf-8"?><discovery><store name="Store"/></discovery>`)
	default:
		fmt.Fprintf(w, "hello from the demo backend %s\n", b.addr)
	}
}

// Close stops the backends.
func (d *DemoBackends) Close() {
	for _, s := range d.servers {
		s.Close()
	}
	d.wg.Wait()
}
