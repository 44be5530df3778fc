package daemon

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/mep"
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
	servers  []*http.Server
	backends []*demoBackend
	addrs    []*net.TCPAddr
	wg       sync.WaitGroup
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
		d.backends = append(d.backends, b)
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

// SetBroken breaks or mends backend i (as /break and /fix do).
func (d *DemoBackends) SetBroken(i int, broken bool) { d.backends[i].broken.Store(broken) }

// DemoSites are the demo's data centres: which backends are whose
// (DemoBackendIPs order).
var demoSiteBackends = map[string][]int{"dc1": {0, 2}, "dc2": {1, 3}}

// DemoOptions configure the two-site demo.
type DemoOptions struct {
	// BackendPort is the backends' port (0: a free port each).
	BackendPort int
	// Listen overrides each site's DNS address ("": the ADNS service of
	// demo.conf, 127.0.0.1:5353 and 127.0.0.2:5353; port 0: a free one).
	ListenDC1, ListenDC2 string
	// MEPPort is the exchange's port on both sites (0: a free one).
	MEPPort uint16
	// ControlAddr serves /stop and /start of dc2 ("": 127.0.0.2 at the
	// backends' port; port 0: a free one).
	ControlAddr string
	Logger      *slog.Logger
}

// Demo runs the seed's two data centres as two sites, each a daemon on
// its own loopback address, exchanging over MEP with TLS (certificates
// made at start in a temporary directory).
type Demo struct {
	Backends *DemoBackends
	// ControlURL is where dc2 is stopped and started (ControlURL+"/stop").
	ControlURL string

	opts    DemoOptions
	dir     string
	text    []byte
	control *http.Server
	mu      sync.Mutex
	sites   map[string]*Daemon
}

// StartDemo starts the backends, makes the CA and both site
// certificates, and starts both sites.
func StartDemo(o DemoOptions) (*Demo, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := StartDemoBackends(o.BackendPort)
	if err != nil {
		return nil, err
	}
	dm := &Demo{Backends: b, opts: o, text: DemoConfigFor(b), sites: map[string]*Daemon{}}
	fail := func(err error) (*Demo, error) {
		dm.Close()
		return nil, err
	}
	if dm.dir, err = os.MkdirTemp("", "gslbd-demo-mep"); err != nil {
		return fail(err)
	}
	caC, caK, err := mep.NewCA("gslbd demo CA", 1)
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dm.dir, "ca.crt"), caC, 0o644); err != nil {
		return fail(err)
	}
	for site, ip := range map[string]string{"dc1": "127.0.0.1", "dc2": "127.0.0.2"} {
		c, k, err := mep.NewSiteCert(caC, caK, site, []netip.Addr{netip.MustParseAddr(ip)}, 1)
		if err != nil {
			return fail(err)
		}
		_, cf, kf := mep.CertFiles(dm.dir, site)
		if err := errors.Join(os.WriteFile(cf, c, 0o644), os.WriteFile(kf, k, 0o600)); err != nil {
			return fail(err)
		}
	}
	if dm.opts.MEPPort == 0 {
		p, err := freePortOn("127.0.0.1", "127.0.0.2")
		if err != nil {
			return fail(err)
		}
		dm.opts.MEPPort = p
	}
	for _, site := range []string{"dc2", "dc1"} {
		if err := dm.startSite(site); err != nil {
			return fail(err)
		}
	}
	ctl := o.ControlAddr
	if ctl == "" {
		ctl = net.JoinHostPort("127.0.0.2", strconv.Itoa(b.Port(1)))
	}
	l, err := net.Listen("tcp", ctl)
	if err != nil {
		return fail(fmt.Errorf("demo control %s: %w", ctl, err))
	}
	dm.ControlURL = "http://" + l.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("/stop", func(w http.ResponseWriter, r *http.Request) {
		dm.StopSite("dc2")
		fmt.Fprintln(w, "dc2 is down (its gslbd said GOODBYE and its services fail): dc1 answers only its own")
	})
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) {
		if err := dm.StartSite("dc2"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "dc2 is up again: dc1 learns its services over MEP (LEARNING, then UP)")
	})
	dm.control = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go dm.control.Serve(l)
	return dm, nil
}

// freePortOn is a TCP port free on every address (tried a few times).
func freePortOn(ips ...string) (uint16, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		var others []net.Listener
		for _, ip := range ips[1:] {
			o, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			others = append(others, o)
		}
		l.Close()
		for _, o := range others {
			o.Close()
		}
		if ok {
			return uint16(port), nil
		}
	}
	return 0, errors.New("no port free on every demo address")
}

func (dm *Demo) startSite(site string) error {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	if dm.sites[site] != nil {
		return nil
	}
	for _, i := range demoSiteBackends[site] {
		dm.Backends.SetBroken(i, false)
	}
	o := Options{ConfigText: dm.text, ConfigPath: "demo.conf", Site: site, Logger: dm.opts.Logger.With("site", site),
		MEP: MEPOptions{Certs: dm.dir, Ports: mep.Ports{TLS: dm.opts.MEPPort}}}
	if l := map[string]string{"dc1": dm.opts.ListenDC1, "dc2": dm.opts.ListenDC2}[site]; l != "" {
		o.Listen = []string{l}
	}
	d, err := Start(o)
	if err != nil {
		return fmt.Errorf("demo site %s: %w", site, err)
	}
	dm.sites[site] = d
	return nil
}

// StartSite starts a stopped site again (its services mended).
func (dm *Demo) StartSite(site string) error { return dm.startSite(site) }

// StopSite takes a whole data centre down: its gslbd stops (GOODBYE to
// the other site) and its services fail their monitors.
func (dm *Demo) StopSite(site string) {
	dm.mu.Lock()
	d := dm.sites[site]
	delete(dm.sites, site)
	dm.mu.Unlock()
	for _, i := range demoSiteBackends[site] {
		dm.Backends.SetBroken(i, true)
	}
	if d != nil {
		d.Close()
	}
}

// Site is a running site's daemon (nil: stopped).
func (dm *Demo) Site(site string) *Daemon {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	return dm.sites[site]
}

// Close stops everything and removes the certificates.
func (dm *Demo) Close() {
	if dm.control != nil {
		dm.control.Close()
	}
	dm.mu.Lock()
	sites := dm.sites
	dm.sites = map[string]*Daemon{}
	dm.mu.Unlock()
	for _, d := range sites {
		d.Close()
	}
	if dm.Backends != nil {
		dm.Backends.Close()
	}
	if dm.dir != "" {
		os.RemoveAll(dm.dir)
	}
}
