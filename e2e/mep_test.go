package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep"
	"github.com/miekg/dns"
)

// mepConf is one file for both sites (each gslbd is told which it is
// with -site): svc1 at dc1; svc2 and svc3 at dc2. svc2 has an explicit
// monitor, which dc1 runs only while its link to dc2 is down
// (-triggerMonitor MEPDOWN); svc3 has only the default monitor of its own
// site, so dc1 knows of it only what dc2 says.
func mepConf(b1, b2, b3 *backend) string {
	return fmt.Sprintf(`#NS13.1 Build 37.38
add gslb site dc1 127.0.50.1
add gslb site dc2 127.0.50.2 -triggerMonitor MEPDOWN
add lb monitor m HTTP -interval 1 -resptimeout 500 MSEC -downTime 1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb service svc1 %s HTTP %s -siteName dc1
add gslb service svc2 %s HTTP %s -siteName dc2
add gslb service svc3 %s HTTP %s -siteName dc2
bind gslb service svc2 -monitorName m
bind gslb vserver gv -serviceName svc1
bind gslb vserver gv -serviceName svc2
bind gslb vserver gv -serviceName svc3
bind gslb vserver gv -domainName mon.test -TTL 5
`, b1.IP(), b1.Port(), b2.IP(), b2.Port(), b3.IP(), b3.Port())
}

// waitGone polls until addr is not in the answers and returns when it
// last saw it and when it first did not.
func waitGone(t *testing.T, d *daemon.Daemon, addr string, timeout time.Duration) (before, seen time.Time) {
	t.Helper()
	before = time.Now()
	deadline := before.Add(timeout)
	for time.Now().Before(deadline) {
		asked := time.Now()
		if !strings.Contains(answerSet(t, d, "mon.test"), addr) {
			return before, time.Now()
		}
		before = asked
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("after %v %s is still answered", timeout, addr)
	return
}

// site2 is dc2's gslbd, a separate process that the test kills and
// stops.
type site2 struct {
	t    *testing.T
	args []string
	cmd  *exec.Cmd
	out  *syncBuffer
}

func (s *site2) start() {
	s.t.Helper()
	s.start2(binary(s.t))
}

// start2 starts prog with the site's arguments (ip netns exec ...).
func (s *site2) start2(prog string) {
	s.t.Helper()
	s.cmd = exec.Command(prog, s.args...)
	s.out = &syncBuffer{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
}

// logged waits until the process's log holds every one of lines: a line
// written just before an answer changes may still be in the pipe when the
// answer is seen.
func (s *site2) logged(what string, timeout time.Duration, lines ...string) bool {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := s.out.String()
		if !slices.ContainsFunc(lines, func(l string) bool { return !strings.Contains(log, l) }) {
			return true
		}
		if time.Now().After(deadline) {
			s.t.Errorf("%s: the log does not say so within %v (want %q)", what, timeout, lines)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *site2) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGCONT)
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// TestTwoSitesOverMEP: two gslbd processes, one file, a CA and two site
// certificates made with `gslbd cert`, a TLS link between them. dc1
// answers dc2's services because dc2 says they are UP; dc2's monitor
// finding svc2 DOWN takes it out of dc1's answers; dc2 killed with
// SIGKILL takes svc3 out at once (the kernel closes the socket), far
// sooner than the keep-alive, while dc1's own monitor now decides svc2;
// dc2 frozen with SIGSTOP takes svc3 out after the keep-alive; SIGCONT
// brings it back after learning.
func TestTwoSitesOverMEP(t *testing.T) {
	dir := t.TempDir()
	certs := certs(t, dir, "dc1", "dc2")
	if fi, err := os.Stat(filepath.Join(certs, "ca.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v %v, want mode 0600", fi.Mode(), err)
	}
	b1, b2, b3 := newBackend(t, "127.0.50.1"), newBackend(t, "127.0.50.2"), newBackend(t, "127.0.50.3")
	conf := mepConf(b1, b2, b3)
	path := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, "127.0.50.1")
	const keepAlive = 3 * time.Second
	dns2 := "127.0.50.2:" + freePortOn(t, "127.0.50.2")
	metrics2 := "127.0.50.2:" + freePortOn(t, "127.0.50.2")
	s2 := &site2{t: t, args: []string{"run", "-config", path, "-site", "dc2", "-listen", dns2, "-api", "", "-mep-port", port, "-metrics", metrics2,
		"-mep-keepalive", keepAlive.String(), "-log-level", "debug"}}
	t.Cleanup(s2.kill)
	s2.start()
	d := startWith(t, conf, func(o *daemon.Options) {
		o.ConfigPath = path
		o.ConfigText = nil
		o.Site = "dc1"
		o.MEP = daemon.MEPOptions{Certs: certs, Ports: mep.Ports{TLS: uint16(atoi(t, port))}, Timers: mep.Timers{KeepAlive: keepAlive}}
	})
	defer func() {
		if t.Failed() {
			t.Logf("dc2's log:\n%s", s2.out)
		}
	}()
	link := func() mep.LinkStatus {
		for _, l := range d.Links() {
			if l.Site == "dc2" {
				return l
			}
		}
		return mep.LinkStatus{}
	}
	all := b1.IP() + "," + b2.IP() + "," + b3.IP()
	waitAnswer(t, d, all, 20*time.Second)
	if l := link(); l.State != health.LinkUp || !l.Dialer {
		t.Errorf("dc1's link to dc2: %+v, want UP and dialled by dc1 (the lower address)", l)
	}
	waitFor(t, "a round trip", 5*time.Second, func() bool { return d.Stat("gslbsite")["dc2"]["meprttusec"] != nil })
	if st := d.Stat("gslbsite")["dc2"]; st["status"] != "ACTIVE" || st["mepstate"] != "UP" || st["mepdialer"] != "LOCAL" ||
		st["meplastheard"] == nil || st["mepincarnation"] == nil {
		t.Errorf("stat gslbsite dc2: %v", st)
	}
	// dc2's Prometheus metrics show the link from its side.
	waitFor(t, "dc2's link metrics", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + metrics2 + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		text := string(b)
		return strings.Contains(text, `gslbd_mep_link_state{site="dc1",state="UP"} 1`) &&
			strings.Contains(text, `gslbd_mep_frames_total{dir="in",site="dc1"}`) && strings.Contains(text, `gslbd_mep_link_rtt_seconds{site="dc1"}`) &&
			strings.Contains(text, "gslbd_mep_local_timer_lag_seconds")
	})
	for _, svc := range []string{"svc2", "svc3"} {
		if ss, _ := d.Health().Service(svc); ss.Peer != health.Up || ss.Monitor != health.Unknown {
			t.Errorf("%s at dc1: %+v, want UP from dc2 and no probe of dc1's own", svc, ss)
		}
	}

	// dc2's own monitor finds svc2 DOWN: dc1 hears it.
	b2.Kill()
	waitAnswer(t, d, b1.IP()+","+b3.IP(), 20*time.Second)
	b2.Start()
	waitAnswer(t, d, all, 20*time.Second)
	if ss, _ := d.Health().Service("svc2"); ss.Monitor != health.Unknown {
		t.Errorf("dc1 probed svc2 while the link was UP: %+v", ss)
	}

	// SIGKILL: the kernel closes dc2's socket; dc1 drops svc3 at once,
	// and its own monitor now decides svc2 (UP).
	killed := time.Now()
	s2.cmd.Process.Kill()
	s2.cmd.Wait()
	_, seen := waitGone(t, d, b3.IP(), 10*time.Second)
	t.Logf("SIGKILL: svc3 out of dc1's answers within %v of the kill", seen.Sub(killed))
	if took := seen.Sub(killed); took > keepAlive/2 {
		t.Errorf("SIGKILL: svc3 left dc1's answers after %v; the closed socket should beat the %v keep-alive", took, keepAlive)
	}
	if l := link(); l.State != health.LinkDown || !strings.Contains(l.Reason, "closed") {
		t.Errorf("link after SIGKILL: %+v", l)
	}
	if st := d.Stat("gslbsite")["dc2"]; st["status"] != "DOWN" || !strings.Contains(st["mepreason"].(string), "closed") || st["mepflaps"] != "1" {
		t.Errorf("stat gslbsite dc2 after SIGKILL: %v", st)
	}
	waitAnswer(t, d, b1.IP()+","+b2.IP(), 20*time.Second)
	if ss, _ := d.Health().Service("svc2"); ss.Monitor != health.Up {
		t.Errorf("svc2 after the link went down: %+v, want dc1's monitor deciding UP", ss)
	}

	// Restarted: dc1 reconnects (backoff), learns, answers svc3 again.
	s2.start()
	waitAnswer(t, d, all, 20*time.Second)

	// SIGSTOP: nothing closes; dc1 waits out the keep-alive, then drops svc3.
	if err := s2.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	_, seen = waitGone(t, d, b3.IP(), 4*keepAlive)
	t.Logf("SIGSTOP: svc3 out of dc1's answers after %v (keep-alive %v)", seen.Sub(stopped), keepAlive)
	if took := seen.Sub(stopped); took < keepAlive-time.Second {
		t.Errorf("SIGSTOP: svc3 left after %v, before the keep-alive %v", took, keepAlive)
	}
	if l := link(); !strings.Contains(l.Reason, "no frame for") {
		t.Errorf("link after SIGSTOP: %+v, want the silence as reason", l)
	}
	// SIGCONT: the frozen process comes back; the link learns again.
	s2.cmd.Process.Signal(syscall.SIGCONT)
	waitAnswer(t, d, all, 20*time.Second)
}

// TestNoCertificatesNoExchange: without site certificates the exchange
// does not run, `stat gslb site` says why and how to fix it, and remote
// services are judged as before MEP (one without a monitor is answered).
func TestNoCertificatesNoExchange(t *testing.T) {
	b1, b2, b3 := newBackend(t, "127.0.51.1"), newBackend(t, "127.0.51.2"), newBackend(t, "127.0.51.3")
	conf := strings.NewReplacer("127.0.50.1", "127.0.51.1", "127.0.50.2", "127.0.51.2").Replace(mepConf(b1, b2, b3))
	d := startWith(t, conf, func(o *daemon.Options) {
		o.Site = "dc1"
		o.MEP = daemon.MEPOptions{Certs: filepath.Join(t.TempDir(), "mep")}
	})
	st := d.Stat("gslbsite")["dc2"]
	if st["status"] != "INACTIVE" || !strings.Contains(fmt.Sprint(st["mepreason"]), "gslbd cert site dc1") {
		t.Errorf("stat gslbsite dc2 without certificates: %v", st)
	}
	if d.Links() != nil {
		t.Errorf("links without certificates: %+v", d.Links())
	}
	waitAnswer(t, d, b1.IP()+","+b2.IP()+","+b3.IP(), 20*time.Second)
}

// procCPU is a process's user+system CPU time so far (from /proc).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ticks := atoi(t, f[11]) + atoi(t, f[12]) // utime, stime (fields 14 and 15)
	return time.Duration(ticks) * time.Second / 100
}

// TestRoguePeers: garbage, a 4 GiB length prefix after a valid handshake,
// a certificate of another CA, a site's certificate with another key, a
// sender that trickles one byte every 100 ms, 300 silent connections and
// 10,000
// connection attempts against a real gslbd's exchange port change no
// state (the real link stays UP and never flaps) and cost that process
// under a second of CPU.
func TestRoguePeers(t *testing.T) {
	dir := t.TempDir()
	certs := certs(t, dir, "dc1", "dc2")
	b1, b2, b3 := newBackend(t, "127.0.52.1"), newBackend(t, "127.0.52.2"), newBackend(t, "127.0.52.3")
	conf := strings.NewReplacer("127.0.50.1", "127.0.52.1", "127.0.50.2", "127.0.52.2").Replace(mepConf(b1, b2, b3))
	path := filepath.Join(dir, "ns.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	port := freePortOn(t, "127.0.52.1")
	s2 := &site2{t: t, args: []string{"run", "-config", path, "-site", "dc2", "-listen", "127.0.52.2:" + freePortOn(t, "127.0.52.2"),
		"-api", "", "-mep-port", port}}
	t.Cleanup(s2.kill)
	s2.start()
	d := startWith(t, conf, func(o *daemon.Options) {
		o.ConfigPath, o.ConfigText, o.Site = path, nil, "dc1"
		o.MEP = daemon.MEPOptions{Certs: certs, Ports: mep.Ports{TLS: uint16(atoi(t, port))}}
	})
	all := b1.IP() + "," + b2.IP() + "," + b3.IP()
	waitAnswer(t, d, all, 20*time.Second)
	target := "127.0.52.2:" + port
	cpu0 := procCPU(t, s2.cmd.Process.Pid)

	// Garbage.
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	for range 100 {
		if c, err := net.DialTimeout("tcp", target, time.Second); err == nil {
			c.Write(junk)
			c.Close()
		}
	}
	// A valid handshake as dc1, then a 4 GiB length prefix.
	caPEM, _ := os.ReadFile(filepath.Join(certs, "ca.crt"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	dc1Cert, err := tls.LoadX509KeyPair(filepath.Join(certs, "dc1.crt"), filepath.Join(certs, "dc1.key"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tls.Dial("tcp", target, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "dc2",
		Certificates: []tls.Certificate{dc1Cert}, NextProtos: []string{mep.ALPN}})
	if err != nil {
		t.Fatalf("TLS as dc1: %v", err)
	}
	tc.Write([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0})
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.Read(make([]byte, 1)); err == nil {
		t.Error("a 4 GiB length prefix was answered, not closed")
	}
	tc.Close()
	// A certificate of another CA.
	caC, caK, _ := mep.NewCA("rogue", 1)
	rc, rk, _ := mep.NewSiteCert(caC, caK, "dc1", nil, 1)
	rogue, _ := tls.X509KeyPair(rc, rk)
	if c, err := tls.Dial("tcp", target, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "dc2",
		Certificates: []tls.Certificate{rogue}, NextProtos: []string{mep.ALPN}}); err == nil {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a certificate of another CA was let in")
		}
		c.Close()
	}
	// dc1's certificate with another key: the handshake's signature
	// does not verify.
	wrongKey := tls.Certificate{Certificate: dc1Cert.Certificate, PrivateKey: rogue.PrivateKey}
	if c, err := tls.Dial("tcp", target, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "dc2",
		Certificates: []tls.Certificate{wrongKey}, NextProtos: []string{mep.ALPN}}); err == nil {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("dc1's certificate with another key was let in")
		}
		c.Close()
	}
	// A slow sender: a valid handshake as dc1, then a HELLO frame one
	// byte every 100 ms; the handshake deadline closes it.
	if sc, err := tls.Dial("tcp", target, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "dc2",
		Certificates: []tls.Certificate{dc1Cert}, NextProtos: []string{mep.ALPN}}); err == nil {
		closed := false
		for i := range 200 {
			sc.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := sc.Write([]byte{byte(i)}); err != nil {
				closed = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !closed {
			t.Error("a peer sending one byte every 100 ms for 20 s was kept")
		}
		sc.Close()
	}
	// 300 silent connections, held.
	var silent []net.Conn
	for range 300 {
		if c, err := net.DialTimeout("tcp", target, time.Second); err == nil {
			silent = append(silent, c)
		}
	}
	// 10,000 connection attempts, 20 at a time.
	var wg sync.WaitGroup
	attempts := make(chan struct{}, 10000)
	for range 10000 {
		attempts <- struct{}{}
	}
	close(attempts)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range attempts {
				if c, err := net.DialTimeout("tcp", target, time.Second); err == nil {
					c.Close()
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range silent {
		c.Close()
	}
	cpu := procCPU(t, s2.cmd.Process.Pid) - cpu0
	t.Logf("dc2 spent %v of CPU on the rogue peers", cpu)
	if cpu > time.Second {
		t.Errorf("the rogue peers cost dc2 %v of CPU, want under 1s", cpu)
	}
	for _, l := range d.Links() {
		if l.State != health.LinkUp || l.Flaps != 0 {
			t.Errorf("the real link after the rogue peers: %+v", l)
		}
	}
	if got := answerSet(t, d, "mon.test"); got != all {
		t.Errorf("answers after the rogue peers: %s, want %s", got, all)
	}
	if !strings.Contains(s2.out.String(), "link refused") {
		t.Error("dc2 logged no refusal")
	}
	if n := strings.Count(s2.out.String(), "link refused"); n > 20 {
		t.Errorf("dc2 logged %d refusals: the log is flooded", n)
	}
}

// TestPersistenceSharedOverMEP: a client that dc2 answered keeps dc2's
// choice when it asks dc1: source-IP persistence sessions travel over the
// exchange (PERSIST_SESSIONS, -sessionExchange ENABLED by default).
func TestPersistenceSharedOverMEP(t *testing.T) {
	conf := `add gslb site dc1 127.0.56.1
add gslb site dc2 127.0.56.2
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 10 -timeout 10
add gslb service s1 192.0.2.1 HTTP 80 -siteName dc1 -healthMonitor NO
add gslb service s2 192.0.2.2 HTTP 80 -siteName dc2 -healthMonitor NO
bind gslb vserver gv -serviceName s1
bind gslb vserver gv -serviceName s2
bind gslb vserver gv -domainName mon.test -TTL 5
`
	d, s2, _ := dc1InProcess(t, "127.0.56", conf, nil)
	dns2 := s2.dns
	waitFor(t, "the link UP", 20*time.Second, func() bool { l := d.Links(); return len(l) == 1 && l[0].State == health.LinkUp })
	ask := func(server, client string) string {
		t.Helper()
		c := dns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(client)}}}
		r, _, err := c.Exchange(dnstest.Msg("mon.test", dns.TypeA), server)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("ask %s from %s: %v %v", server, client, r, err)
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	want := map[string]string{}
	for i := range 8 {
		c := fmt.Sprintf("127.0.57.%d", i+1)
		want[c] = ask(dns2, c)
	}
	waitFor(t, "dc2's sessions at dc1", 20*time.Second, func() bool { return d.Engine().PersistCount() >= 8 })
	for c, w := range want {
		if got := ask(d.UDPAddr(), c); got != w {
			t.Errorf("client %s: dc1 answers %s, dc2 answered %s", c, got, w)
		}
	}
}

// TestConsiderEffectiveStateOverMEP: dc2's GSLB service gs2 is the VIP of
// an LB vserver with a -backupVServer (both kept as written, as the
// appliance saved them); dc1's gs1 follows its own backend. dc1's backend
// and lb2's own service die: every service is DOWN. dc2's effective state
// is UP (its LB vserver serves through the backup) and travels over MEP:
// dc1 and dc2 answer gs2 for the vserver with -considerEffectiveState
// STATE_ONLY, and fail open with both for the one without.
func TestConsiderEffectiveStateOverMEP(t *testing.T) {
	web1, web2, web2b := newBackend(t, "127.0.59.11"), newBackend(t, "127.0.59.12"), newBackend(t, "127.0.59.13")
	dir := t.TempDir()
	certs := certs(t, dir, "dc1", "dc2")
	conf := fmt.Sprintf(`#NS13.1 Build 37.38
add server web2 %s
add server web2b %s
add service svc_web2 web2 HTTP %s -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add service svc_web2b web2b HTTP %s -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add lb vserver lb2 HTTP 127.0.59.100 80 -persistenceType NONE -cltTimeout 180
add lb vserver lb2_backup HTTP 0.0.0.0 0 -persistenceType NONE -cltTimeout 180
add gslb vserver gv_eff HTTP -lbMethod ROUNDROBIN -backupLBMethod ROUNDROBIN -tolerance 0 -MIR ENABLED -considerEffectiveState STATE_ONLY
add gslb vserver gv_none HTTP -lbMethod ROUNDROBIN -backupLBMethod ROUNDROBIN -tolerance 0 -MIR ENABLED
add gslb site dc1 127.0.59.1
add gslb site dc2 127.0.59.2
bind lb vserver lb2 svc_web2
bind lb vserver lb2_backup svc_web2b
set lb vserver lb2 -backupVServer lb2_backup
add gslb service gs1 %s HTTP %s -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs2 127.0.59.100 HTTP 80 -maxClient 0 -siteName dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
bind gslb vserver gv_eff -serviceName gs1
bind gslb vserver gv_eff -serviceName gs2
bind gslb vserver gv_none -serviceName gs1
bind gslb vserver gv_none -serviceName gs2
bind gslb vserver gv_eff -domainName eff.test -TTL 5
bind gslb vserver gv_none -domainName none.test -TTL 5
set lb monitor tcp-default TCP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 200 MSEC
`, web2.IP(), web2b.IP(), web2.Port(), web2b.Port(), web1.IP(), web1.Port())
	path := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, "127.0.59.1")
	dnsAt := map[string]string{}
	for i, site := range []string{"dc1", "dc2"} {
		ip := fmt.Sprintf("127.0.59.%d", i+1)
		dnsAt[site] = ip + ":" + freePortOn(t, ip)
		p := &site2{t: t, args: []string{"run", "-config", path, "-site", site, "-listen", dnsAt[site], "-api", "", "-mep-certs", certs, "-mep-port", port}}
		t.Cleanup(p.kill)
		p.start()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s's log:\n%s", site, p.out)
			}
		})
	}
	ask := func(site, name string) string {
		t.Helper()
		c := dns.Client{Timeout: time.Second}
		r, _, err := c.Exchange(dnstest.Msg(name, dns.TypeA), dnsAt[site])
		if err != nil {
			return "error: " + err.Error()
		}
		a := dnstest.Addrs(r)
		slices.Sort(a)
		return strings.Join(a, ",")
	}
	wait := func(site, name, want, what string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got = ask(site, name); got == want {
				return
			}
		}
		t.Fatalf("%s: %s answers %s with %q, want %q", what, site, name, got, want)
	}
	both := strings.Join(slices.Sorted(slices.Values([]string{web1.IP(), "127.0.59.100"})), ",")
	for _, site := range []string{"dc1", "dc2"} {
		wait(site, "eff.test", both, "both UP")
	}
	web1.Kill()
	web2.Kill()
	for _, site := range []string{"dc1", "dc2"} {
		wait(site, "eff.test", "127.0.59.100", "every service DOWN, gs2's effective state UP (STATE_ONLY)")
		wait(site, "none.test", both, "every service DOWN, no considerEffectiveState: fail open")
	}
	// The backup vserver's service dies too: nothing is effectively UP.
	web2b.Kill()
	for _, site := range []string{"dc1", "dc2"} {
		wait(site, "eff.test", both, "every service and backup DOWN: fail open")
	}
}

// TestCertificatesReloadOnFileChange: the CA and both sites' certificates
// are replaced on disk, with no signal: dc1 (in this process, checking its
// files every 100 ms) reloads them; dc2, restarted with its new
// certificate, is linked again, which the old CA bundle would refuse.
func TestCertificatesReloadOnFileChange(t *testing.T) {
	conf := `add gslb site dc1 127.0.61.1
add gslb site dc2 127.0.61.2
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb service s1 192.0.2.1 HTTP 80 -siteName dc1 -healthMonitor NO
add gslb service s2 192.0.2.2 HTTP 80 -siteName dc2 -healthMonitor NO
bind gslb vserver gv -serviceName s1
bind gslb vserver gv -serviceName s2
bind gslb vserver gv -domainName mon.test -TTL 5
`
	logs := &syncBuffer{}
	d, s2, certDir := dc1InProcess(t, "127.0.61", conf, func(o *daemon.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		o.MEP.CertPoll = 100 * time.Millisecond
	})
	up := func() bool { l := d.Links(); return len(l) == 1 && l[0].State == health.LinkUp }
	waitFor(t, "the link UP", 20*time.Second, up)
	bin := binary(t)
	for _, args := range [][]string{{"cert", "ca", "-dir", certDir, "-force"}, {"cert", "site", "-dir", certDir, "dc1"}, {"cert", "site", "-dir", certDir, "dc2"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("gslbd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	waitFor(t, "dc1 reloading its changed certificate files", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), "site certificates reloaded")
	})
	if !up() {
		t.Error("the link went down with the reload")
	}
	s2.kill()
	waitFor(t, "the link DOWN with dc2 killed", 10*time.Second, func() bool { return !up() })
	s2.start()
	waitFor(t, "the link UP with dc2's new certificate", 30*time.Second, up)
	if t.Failed() {
		t.Logf("dc1's log:\n%s\ndc2's log:\n%s", logs, s2.out)
	}
}

// dcProcess is dc2 of dc1InProcess: a gslbd process and its DNS address.
type dcProcess struct {
	*site2
	dns string
}

// dc1InProcess writes conf (sites dc1 at <net>.1 and dc2 at <net>.2) with
// the sites' certificates beside it, starts dc2 as a gslbd process and dc1
// in this process (opt may change its options), linked over MEP/TLS.
func dc1InProcess(t *testing.T, net, conf string, opt func(*daemon.Options)) (*daemon.Daemon, dcProcess, string) {
	t.Helper()
	dir := t.TempDir()
	certDir := certs(t, dir, "dc1", "dc2")
	path := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, net+".1")
	s2 := dcProcess{dns: net + ".2:" + freePortOn(t, net+".2")}
	s2.site2 = &site2{t: t, args: []string{"run", "-config", path, "-site", "dc2", "-listen", s2.dns, "-api", "", "-mep-port", port}}
	t.Cleanup(s2.kill)
	s2.start()
	d := startWith(t, conf, func(o *daemon.Options) {
		o.ConfigPath, o.ConfigText, o.Site = path, nil, "dc1"
		o.MEP = daemon.MEPOptions{Certs: certDir, Ports: mep.Ports{TLS: uint16(atoi(t, port))}}
		if opt != nil {
			opt(o)
		}
	})
	return d, s2, certDir
}
