package mep

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// testTimers are short, with generous keep-alive for a shared 2-core box.
var testTimers = Timers{Heartbeat: 50 * time.Millisecond, KeepAlive: time.Second, Suspect: 300 * time.Millisecond,
	Update: 50 * time.Millisecond, Full: 2 * time.Second, Check: 20 * time.Millisecond,
	BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Sessions: 100 * time.Millisecond}

// sink keeps the engine's view: the last state handed on per service.
type sink struct {
	mu      sync.Mutex
	last    map[string]health.Report
	metrics map[string]*health.Metrics
}

func (s *sink) Report(rs ...health.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		if r.State != health.Unknown {
			s.last[r.Service] = r
		}
		if r.Metrics != nil {
			s.metrics[r.Service] = r.Metrics
		}
	}
}

func (s *sink) lastMetrics(svc string) *health.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metrics[svc]
}

func (s *sink) get(svc string) health.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[svc]
}

// logBuf is a concurrency-safe log destination.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testCA is one deployment's CA.
type testCA struct{ cert, key []byte }

func newTestCA(t *testing.T) testCA {
	t.Helper()
	c, k, err := NewCA("test deployment", 1)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{c, k}
}

func (ca testCA) identity(t *testing.T, site string) *Identity {
	t.Helper()
	c, k, err := NewSiteCert(ca.cert, ca.key, site, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := NewIdentity(ca.cert, c, k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// site is one site of a test: its store, the engine's view, its node.
type site struct {
	name  string
	store *health.Store
	out   *sink
	node  *Node
	logs  *logBuf
}

// twoSiteHealth: dc1 has svc1, dc2 has svc2; both are monitored where they
// are; neither site probes the other's.
func twoSiteHealth(self string) health.Config {
	return health.Config{
		Sites: []health.SiteConfig{{Name: "dc1", Local: self == "dc1", Exchange: true}, {Name: "dc2", Local: self == "dc2", Exchange: true}},
		Services: []health.ServiceConfig{
			{Name: "svc1", Site: "dc1", Local: self == "dc1", Monitored: self == "dc1"},
			{Name: "svc2", Site: "dc2", Local: self == "dc2", Monitored: self == "dc2"},
			// svc3: no monitor at dc2 (-healthMonitor NO): answered as UP
			// there, so at dc1 too.
			{Name: "svc3", Site: "dc2", Local: self == "dc2"},
		},
	}
}

func newSite(t *testing.T, name string, id *Identity, hc health.Config) *site {
	t.Helper()
	s := &site{name: name, out: &sink{last: map[string]health.Report{}, metrics: map[string]*health.Metrics{}}, logs: &logBuf{}}
	s.store = health.NewStore(health.Options{Out: s.out})
	s.store.Update(hc)
	s.node = New(Options{Logger: slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Store: s.store, Identity: id, Timers: testTimers})
	t.Cleanup(func() {
		s.node.Close()
		s.store.Close()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, s.logs)
		}
	})
	return s
}

func (s *site) link(peer string) LinkStatus {
	for _, l := range s.node.Links() {
		if l.Site == peer {
			return l
		}
	}
	return LinkStatus{}
}

var lo = netip.MustParseAddrPort("127.0.0.1:0")

// pair starts dc2 (accepting) and dc1 (dialling it) over TLS, and waits
// for the link to be UP on both ends.
func pair(t *testing.T) (dc1, dc2 *site) {
	t.Helper()
	ca := newTestCA(t)
	dc2 = newSite(t, "dc2", ca.identity(t, "dc2"), twoSiteHealth("dc2"))
	if err := dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo,
		Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}}); err != nil {
		t.Fatal(err)
	}
	addr, _ := dc2.node.Addrs()
	dc1 = newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
	if err := dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Listen: lo,
		Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the link UP on both ends", 10*time.Second, func() bool {
		return dc1.link("dc2").State == health.LinkUp && dc2.link("dc1").State == health.LinkUp
	})
	return dc1, dc2
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLinkCarriesStateBothWays: over a real TLS link, each site's local
// service state reaches the other, changes travel at once, metrics
// travel, and a GOODBYE takes the site's services out at once.
func TestLinkCarriesStateBothWays(t *testing.T) {
	dc1, dc2 := pair(t)
	if st := dc1.out.get("svc2").State; st != health.Down {
		t.Fatalf("dc1 answers svc2 as %s before dc2 reported it, want DOWN (nothing reported)", st)
	}
	waitFor(t, "a round trip measured", 5*time.Second, func() bool { return dc1.link("dc2").RTT > 0 })
	if l := dc1.link("dc2"); l.RTT > time.Second || time.Since(l.LastHeard) > testTimers.KeepAlive || l.Incarnation != dc2.node.incarnation ||
		l.FramesIn == 0 || l.BytesIn <= l.FramesIn*(4+wire.HeaderLen) || l.FramesOut == 0 {
		t.Errorf("link statistics: %+v", l)
	}
	if st := dc1.out.get("svc3").State; st != health.Up {
		t.Errorf("dc1 answers dc2's unmonitored svc3 as %s, want UP as dc2 answers it", st)
	}
	m := health.Metrics{}.With(health.Connections, 42)
	dc2.store.Report(health.Report{Service: "svc2", State: health.Up, Metrics: &m, Reason: "HTTP 200", Source: "monitor http"})
	dc1.store.Report(health.Report{Service: "svc1", State: health.Up, Reason: "HTTP 200", Source: "monitor http"})
	waitFor(t, "dc1 sees svc2 UP with its connections", 5*time.Second, func() bool {
		r := dc1.out.get("svc2")
		return r.State == health.Up
	})
	waitFor(t, "dc2 sees svc1 UP", 5*time.Second, func() bool { return dc2.out.get("svc1").State == health.Up })
	ss, _ := dc1.store.Service("svc2")
	if ss.Peer != health.Up || ss.Link != health.LinkUp {
		t.Errorf("dc1's view of svc2: %+v", ss)
	}
	dc2.store.Report(health.Report{Service: "svc2", State: health.Down, Reason: "probe timed out", Source: "monitor http"})
	start := time.Now()
	waitFor(t, "dc1 sees svc2 DOWN", 5*time.Second, func() bool { return dc1.out.get("svc2").State == health.Down })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a state change took %v to travel", d)
	}
	dc2.store.Report(health.Report{Service: "svc2", State: health.Up, Source: "monitor http"})
	waitFor(t, "dc1 sees svc2 UP again", 5*time.Second, func() bool { return dc1.out.get("svc2").State == health.Up })

	// GOODBYE: dc2 stops; dc1 takes svc2 out well before the keep-alive.
	start = time.Now()
	dc2.node.Close()
	waitFor(t, "dc1's link DOWN after GOODBYE", 5*time.Second, func() bool { return dc1.link("dc2").State == health.LinkDown })
	if d := time.Since(start); d > testTimers.KeepAlive/2 {
		t.Errorf("GOODBYE took %v to take the link down (keep-alive %v)", d, testTimers.KeepAlive)
	}
	if r := dc1.out.get("svc2"); r.State != health.Down {
		t.Errorf("svc2 after dc2 left: %s, want DOWN", r.State)
	}
	if l := dc1.link("dc2"); !strings.Contains(l.Reason, "GOODBYE") || l.Flaps != 1 {
		t.Errorf("link after GOODBYE: %+v, want the GOODBYE as reason and one flap", l)
	}
}

// TestMetricsTravel: a local service's load figures reach the peer's
// engine, stamped fresh, valid for three update intervals.
func TestMetricsTravel(t *testing.T) {
	dc1, dc2 := pair(t)
	m := health.Metrics{}.With(health.Connections, 42).With(health.ResponseTime, uint64(3*time.Millisecond))
	dc2.store.Report(health.Report{Service: "svc2", State: health.Up, Metrics: &m, Source: "test"})
	waitFor(t, "svc2 UP at dc1", 5*time.Second, func() bool { return dc1.out.get("svc2").State == health.Up })
	waitFor(t, "svc2's metrics at dc1", 5*time.Second, func() bool {
		rm := dc1.out.lastMetrics("svc2")
		return rm != nil && rm.Connections == 42 && rm.ResponseTime == 3*time.Millisecond && rm.MaxAge == 3*testTimers.Update
	})
	m2 := health.Metrics{}.With(health.Connections, 43)
	dc2.store.Report(health.Report{Service: "svc2", Metrics: &m2, Source: "test"})
	waitFor(t, "the new figure at dc1", 5*time.Second, func() bool {
		rm := dc1.out.lastMetrics("svc2")
		return rm != nil && rm.Connections == 43
	})
}

// relay is a TCP relay that can be paused: while paused it forwards
// nothing (a frozen process or a partition), the connections stay open.
type relay struct {
	ln     net.Listener
	to     string
	paused atomic.Bool
}

func newRelay(t *testing.T, to netip.AddrPort) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, to: to.String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", r.to)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); u.Close() })
			go r.pipe(c, u)
			go r.pipe(u, c)
		}
	}()
	return r
}

func (r *relay) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for r.paused.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (r *relay) addr() netip.AddrPort { return netip.MustParseAddrPort(r.ln.Addr().String()) }

// TestSilentPeerGoesDown: a link that carries nothing any more (the peer
// froze, or the path between them) is DOWN after the keep-alive timeout
// on both ends, not before; the services are DOWN with it; when the path
// returns, the dialler reconnects and the link learns again.
func TestSilentPeerGoesDown(t *testing.T) {
	ca := newTestCA(t)
	dc2 := newSite(t, "dc2", ca.identity(t, "dc2"), twoSiteHealth("dc2"))
	dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
	addr, _ := dc2.node.Addrs()
	r := newRelay(t, addr)
	dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
	dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: r.addr(), Dial: true}}})
	dc2.store.Report(health.Report{Service: "svc2", State: health.Up, Source: "test"})
	waitFor(t, "svc2 UP at dc1", 10*time.Second, func() bool { return dc1.out.get("svc2").State == health.Up })

	r.paused.Store(true)
	start := time.Now()
	waitFor(t, "dc1's link SUSPECT", 5*time.Second, func() bool { return dc1.link("dc2").State == health.LinkSuspect })
	waitFor(t, "dc1's link DOWN", 10*time.Second, func() bool { return dc1.link("dc2").State == health.LinkDown })
	took := time.Since(start)
	if took < testTimers.KeepAlive-testTimers.Heartbeat-testTimers.Check {
		t.Errorf("DOWN after %v of silence, before the keep-alive timeout %v", took, testTimers.KeepAlive)
	}
	if st := dc1.out.get("svc2").State; st != health.Down {
		t.Errorf("svc2 at dc1 after the link died: %s, want DOWN", st)
	}
	if l := dc1.link("dc2"); !strings.Contains(l.Reason, "no frame for") {
		t.Errorf("reason %q, want the silence", l.Reason)
	}
	waitFor(t, "dc2's link DOWN", 10*time.Second, func() bool { return dc2.link("dc1").State == health.LinkDown })

	r.paused.Store(false)
	waitFor(t, "the link UP again", 15*time.Second, func() bool {
		return dc1.link("dc2").State == health.LinkUp && dc2.link("dc1").State == health.LinkUp
	})
	waitFor(t, "svc2 UP again at dc1", 5*time.Second, func() bool { return dc1.out.get("svc2").State == health.Up })
}

// TestRogueDiallersRefused: a certificate of another CA, a certificate
// that names another site than its HELLO, a site not configured, a child
// claiming to be a parent, another major version, a HELLO meant for
// another site: each is refused with the reason, and the real link is
// unaffected.
func TestRogueDiallersRefused(t *testing.T) {
	ca := newTestCA(t)
	dc2 := newSite(t, "dc2", ca.identity(t, "dc2"), twoSiteHealth("dc2"))
	dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
	addr, _ := dc2.node.Addrs()
	dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
	dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true}}})
	waitFor(t, "the link UP", 10*time.Second, func() bool { return dc1.link("dc2").State == health.LinkUp })

	other := newTestCA(t)
	hello := func(site string, mod func(*wire.Hello)) *wire.Hello {
		h := &wire.Hello{Major: wire.Major, Minor: wire.Minor, Site: site, Role: wire.Role_PARENT, KeepaliveMs: 1000, Peer: "dc2"}
		if mod != nil {
			mod(h)
		}
		return h
	}
	cases := []struct {
		name  string
		id    *Identity
		hello *wire.Hello
		code  wire.ErrorCode // 0: the TLS handshake fails
		want  string
	}{
		{"foreign CA", other.identity(t, "dc1"), hello("dc1", nil), 0, ""},
		{"certificate of another site", ca.identity(t, "dc3"), hello("dc1", nil), wire.ErrorCode_AUTH, `certificate names "dc3"`},
		{"site not configured", ca.identity(t, "dc3"), hello("dc3", nil), wire.ErrorCode_UNKNOWN_SITE, `"dc3" is not a site`},
		{"child claims parent", ca.identity(t, "dc1"), hello("dc1", func(h *wire.Hello) { h.Role = wire.Role_CHILD }), wire.ErrorCode_ROLE, "claims role CHILD"},
		{"another major version", ca.identity(t, "dc1"), hello("dc1", func(h *wire.Hello) { h.Major, h.Minor = 2, 3 }), wire.ErrorCode_VERSION, "version 2.3 is not supported by 1.0"},
		{"meant for another site", ca.identity(t, "dc1"), hello("dc1", func(h *wire.Hello) { h.Peer = "dc9" }), wire.ErrorCode_UNKNOWN_SITE, `this is site "dc2", not "dc9"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{c.id.Cert}, RootCAs: ca.identity(t, "x").Roots,
				ServerName: "dc2", NextProtos: []string{ALPN}}
			e, err := rawDial(addr, cfg, c.hello)
			switch {
			case c.code == 0:
				if err == nil {
					t.Fatalf("accepted, answer %+v", e)
				}
			case err != nil:
				t.Fatal(err)
			case e.Code != c.code || !strings.Contains(e.Text, c.want):
				t.Fatalf("ERROR %s %q, want %s containing %q", e.Code, e.Text, c.code, c.want)
			}
		})
	}
	if !strings.Contains(dc2.logs.String(), "peer_version=2.3 our_version=1.0") {
		t.Error("the version refusal is not logged with both versions")
	}
	if l := dc1.link("dc2"); l.State != health.LinkUp || l.Flaps != 0 {
		t.Errorf("the real link after the rogue tries: %+v", l)
	}
}

// TestDiallerChecksTheServer: a dialler reaching a listener whose
// certificate names another site (or comes from another CA) does not
// connect.
func TestDiallerChecksTheServer(t *testing.T) {
	ca := newTestCA(t)
	for _, tc := range []struct {
		name string
		id   *Identity
	}{{"another site's certificate", ca.identity(t, "dc3")}, {"another CA", newTestCA(t).identity(t, "dc2")}} {
		t.Run(tc.name, func(t *testing.T) {
			imp := newSite(t, "dc3", tc.id, twoSiteHealth("dc2"))
			imp.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
			addr, _ := imp.node.Addrs()
			dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
			dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true}}})
			waitFor(t, "the failure logged", 10*time.Second, func() bool { return strings.Contains(dc1.logs.String(), "cannot connect to site") })
			if l := dc1.link("dc2"); l.State != health.LinkConnecting {
				t.Errorf("link %+v, want CONNECTING", l)
			}
		})
	}
}

// TestPlainPortHMAC: on the plain port the link comes UP with the right
// site password and carries state; with a wrong one the first signed
// frame fails and nothing is learnt.
func TestPlainPortHMAC(t *testing.T) {
	for _, tc := range []struct {
		name string
		psk  string
		up   bool
	}{{"right password", "s3cret", true}, {"wrong password", "guess", false}} {
		t.Run(tc.name, func(t *testing.T) {
			dc2 := newSite(t, "dc2", nil, twoSiteHealth("dc2"))
			dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, PlainListen: lo, PSK: []byte("s3cret"), Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
			_, addr := dc2.node.Addrs()
			dc1 := newSite(t, "dc1", nil, twoSiteHealth("dc1"))
			dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Plain: true,
				Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true, PSK: []byte(tc.psk)}}})
			dc2.store.Report(health.Report{Service: "svc2", State: health.Up, Source: "test"})
			if tc.up {
				waitFor(t, "svc2 UP at dc1 over the plain port", 10*time.Second, func() bool { return dc1.out.get("svc2").State == health.Up })
				return
			}
			waitFor(t, "the refusal logged", 10*time.Second, func() bool { return strings.Contains(dc2.logs.String(), "HMAC does not match") })
			if l := dc1.link("dc2"); l.State != health.LinkConnecting {
				t.Errorf("link %+v, want CONNECTING", l)
			}
			if strings.Contains(dc1.logs.String()+dc2.logs.String(), tc.psk) {
				t.Error("the password appears in a log")
			}
		})
	}
}

// rawDial opens a TLS connection, sends h as HELLO and returns the ERROR
// it is answered with.
func rawDial(addr netip.AddrPort, cfg *tls.Config, h *wire.Hello) (*wire.Error, error) {
	nc, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	tc := tls.Client(nc, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	fc := wire.NewConn(tc)
	if err := fc.Write(wire.TypeHello, 0, h); err != nil {
		return nil, err
	}
	f, err := fc.Read()
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if f.Type != wire.TypeError {
		return nil, fmt.Errorf("answer %s", f.Type)
	}
	var e wire.Error
	if err := wire.Decode(f, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// TestConfigMismatch: sites whose HELLOs carry different configuration
// digests still exchange; each end's link says so, with one log line.
func TestConfigMismatch(t *testing.T) {
	for _, same := range []bool{true, false} {
		ca := newTestCA(t)
		digest := func(s string) func() []byte { return func() []byte { b := sha256.Sum256([]byte(s)); return b[:] } }
		other := "dc2's"
		if same {
			other = "dc1's"
		}
		dc2 := newSite(t, "dc2", ca.identity(t, "dc2"), twoSiteHealth("dc2"))
		dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Digest: digest(other),
			Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
		addr, _ := dc2.node.Addrs()
		dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
		dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Listen: lo, Digest: digest("dc1's"),
			Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true}}})
		waitFor(t, "the link UP on both ends", 10*time.Second, func() bool {
			return dc1.link("dc2").State == health.LinkUp && dc2.link("dc1").State == health.LinkUp
		})
		if a, b := dc1.link("dc2").ConfigMismatch, dc2.link("dc1").ConfigMismatch; a == same || b == same {
			t.Errorf("same configuration %v: mismatch seen by dc1 %v, by dc2 %v", same, a, b)
		}
		logged := strings.Count(dc1.logs.String(), "configuration differs")
		if want := map[bool]int{true: 0, false: 1}[same]; logged != want {
			t.Errorf("same configuration %v: %d log lines at dc1, want %d", same, logged, want)
		}
	}
}

// TestDialsFromTheSiteIP: the dialler's connections leave from its site IP
// (Config.Source), as the appliance dials from its GSLB site IP; an
// address that is not this host's falls back to the kernel's choice.
func TestDialsFromTheSiteIP(t *testing.T) {
	for _, src := range []string{"127.0.0.77", "192.0.2.77"} {
		ca := newTestCA(t)
		dc2 := newSite(t, "dc2", ca.identity(t, "dc2"), twoSiteHealth("dc2"))
		dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT}}})
		addr, _ := dc2.node.Addrs()
		dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
		dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Listen: lo, Source: netip.MustParseAddr(src),
			Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true}}})
		waitFor(t, "the link UP", 10*time.Second, func() bool { return dc2.link("dc1").State == health.LinkUp })
		got := dc2.link("dc1").Remote.Addr().String()
		want := src
		if src == "192.0.2.77" {
			want = "127.0.0.1"
		}
		if got != want {
			t.Errorf("source %s: dc2 sees dc1 from %s, want %s", src, got, want)
		}
	}
}
