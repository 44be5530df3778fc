package e2e

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// program finds a Debian program the test needs (.ci/run installs them).
func program(t *testing.T, name, pkg string) string {
	t.Helper()
	for _, dir := range []string{"", "/usr/sbin/", "/usr/bin/"} {
		if p, err := exec.LookPath(dir + name); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found: apt-get install %s (.ci/run does)", name, pkg)
	return ""
}

// holdServer accepts TCP connections and keeps each open until its peer
// closes it (or the test ends).
func holdServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// startProcess runs a program until the test ends and waits for addr to accept.
func startProcess(t *testing.T, addr string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v\n%s", filepath.Base(name), addr, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openConns opens n TCP connections to addr and keeps them until closed.
func openConns(t *testing.T, addr string, n int) func() {
	t.Helper()
	var cs []net.Conn
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return func() {
		for _, c := range cs {
			c.Close()
		}
	}
}

func lcConf(a, b string, loadA, loadB string) string {
	return fmt.Sprintf(`add gslb site s1 127.0.0.1
add gslb service svc_a %s TCP %s -siteName s1 %s
add gslb service svc_b %s TCP %s -siteName s1 %s
add gslb vserver gv TCP -lbMethod LEASTCONNECTION
bind gslb vserver gv -serviceName svc_a
bind gslb vserver gv -serviceName svc_b
bind gslb vserver gv -domainName lc.test -TTL 5
`, hostOf(a), portOf(a), loadA, hostOf(b), portOf(b), loadB)
}

func hostOf(a string) string { h, _, _ := net.SplitHostPort(a); return h }
func portOf(a string) string { _, p, _ := net.SplitHostPort(a); return p }

// chosen waits until LEASTCONNECTION itself decides (no round-robin
// fallback for want of metrics) and five answers in a row are want.
func chosen(t *testing.T, d *daemon.Daemon, want, why string) {
	t.Helper()
	waitFor(t, why, 15*time.Second, func() bool {
		if s := status(t, d, "gv"); s.Method != "LEASTCONNECTION" || s.LBRRReason != 0 {
			return false
		}
		for range 5 {
			a := dnstest.Addrs(dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("lc.test", dns.TypeA)))
			if len(a) != 1 || a[0] != want {
				return false
			}
		}
		return true
	})
}

// TestLeastConnectionFollowsHAProxy: two services behind a real HAProxy;
// the connection counts gslbd reads from HAProxy's stats (over HTTP for
// one, the stats socket for the other) decide the answer as a client opens
// and closes connections through HAProxy.
func TestLeastConnectionFollowsHAProxy(t *testing.T) {
	bin := program(t, "haproxy", "haproxy")
	dir := t.TempDir()
	feA, feB, stats := "127.0.0.21:"+freePortOn(t, "127.0.0.21"), "127.0.0.22:"+freePortOn(t, "127.0.0.22"), "127.0.0.1:"+fmt.Sprint(freePort(t))
	sock := filepath.Join(dir, "haproxy.sock")
	cfg := fmt.Sprintf(`global
  stats socket %s mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend fe_a
  bind %s
  default_backend be_a
frontend fe_b
  bind %s
  default_backend be_b
backend be_a
  server a %s
backend be_b
  server b %s
frontend stats
  mode http
  bind %s
  stats enable
  stats uri /stats
`, sock, feA, feB, holdServer(t), holdServer(t), stats)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, stats, bin, "-f", path, "-db")
	d := start(t, lcConf(feA, feB,
		fmt.Sprintf(`-loadSource HAPROXY -loadURL "http://%s/stats;csv" -loadFilter be_a/a -loadInterval 200 MSEC`, stats),
		fmt.Sprintf(`-loadSource HAPROXY -loadURL unix:%s -loadFilter be_b/b -loadInterval 200 MSEC`, sock)))

	closeA := openConns(t, feA, 3)
	chosen(t, d, "127.0.0.22", "svc_b (0 connections) chosen over svc_a (3)")
	closeA()
	closeB := openConns(t, feB, 2)
	chosen(t, d, "127.0.0.21", "svc_a chosen once svc_b holds 2 connections and svc_a none")
	closeB()
}

// TestLeastConnectionFollowsNginx: the same with two real nginx servers
// and their stub_status pages.
func TestLeastConnectionFollowsNginx(t *testing.T) {
	bin := program(t, "nginx", "nginx-light")
	var addrs []string
	var loads []string
	for _, ip := range []string{"127.0.0.23", "127.0.0.24"} {
		dir := t.TempDir()
		a := ip + ":" + freePortOn(t, ip)
		cfg := fmt.Sprintf(`daemon off;
master_process off;
pid %s/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;
  server {
    listen %s;
    location = /nginx_status { stub_status; }
  }
}
`, dir, dir, dir, dir, dir, dir, a)
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		startProcess(t, a, bin, "-c", path, "-p", dir, "-e", "stderr")
		addrs = append(addrs, a)
		loads = append(loads, fmt.Sprintf("-loadSource NGINX -loadURL http://%s/nginx_status -loadInterval 200 MSEC", a))
	}
	d := start(t, lcConf(addrs[0], addrs[1], loads[0], loads[1]))
	closeA := openConns(t, addrs[0], 4)
	chosen(t, d, "127.0.0.24", "the nginx with no client connections")
	closeA()
	closeB := openConns(t, addrs[1], 4)
	chosen(t, d, "127.0.0.23", "the other nginx once the client moved")
	closeB()
}

// syncBuffer collects a child process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// freePortOn returns a free TCP port on ip.
func freePortOn(t *testing.T, ip string) string {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return portOf(l.Addr().String())
}

// snmpAgent runs net-snmp's snmpd on ip:port answering value for the
// test OID; the returned func stops it.
func snmpAgent(t *testing.T, ip, port string, value int) func() {
	t.Helper()
	bin := program(t, "snmpd", "snmpd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	body := fmt.Sprintf("rocommunity public 127.0.0.0/8\noverride .1.3.6.1.4.1.99999.1.0 integer %d\n", value)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-Lo", "-C", "-M", "/dev/null", "-c", conf, "-p", filepath.Join(dir, "pid"),
		fmt.Sprintf("udp:%s:%s", ip, port))
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Ready when it answers: a test must not mistake a slow or failed
	// start-up for the method misbehaving.
	g := &gosnmp.GoSNMP{Target: ip, Port: uint16(atoi(t, port)), Community: "public", Version: gosnmp.Version2c,
		Timeout: 200 * time.Millisecond, Retries: 0}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := g.Connect(); err == nil {
			_, err = g.Get([]string{".1.3.6.1.4.1.99999.1.0"})
			g.Conn.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("snmpd on %s:%s did not answer within 10s:\n%s", ip, port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestCustomLoadFollowsSNMP: LOAD monitors read a metric from two real
// SNMP agents; CUSTOMLOAD answers the less loaded service, and leaves out
// one whose metric reaches its threshold.
func TestCustomLoadFollowsSNMP(t *testing.T) {
	port := fmt.Sprint(freeUDPPort(t))
	stopA := snmpAgent(t, "127.0.0.25", port, 30)
	snmpAgent(t, "127.0.0.26", port, 70)
	d := start(t, fmt.Sprintf(`add gslb site s1 127.0.0.1
add gslb service svc_a 127.0.0.25 HTTP 80 -siteName s1
add gslb service svc_b 127.0.0.26 HTTP 80 -siteName s1
add lb metricTable tbl
bind lb metricTable tbl cpu .1.3.6.1.4.1.99999.1.0
add lb monitor load LOAD -metricTable tbl -destPort %s -interval 200 MSEC -resptimeout 100 MSEC
bind lb monitor load -metric cpu -metricThreshold 80 -metricWeight 1
bind gslb service svc_a -monitorName load
bind gslb service svc_b -monitorName load
add gslb vserver gv HTTP -lbMethod CUSTOMLOAD
bind gslb vserver gv -serviceName svc_a
bind gslb vserver gv -serviceName svc_b
bind gslb vserver gv -domainName lc.test -TTL 5
`, port))
	custom := func(want, why string) {
		t.Helper()
		waitFor(t, why, 15*time.Second, func() bool {
			if s := status(t, d, "gv"); s.Method != "CUSTOMLOAD" || s.LBRRReason != 0 {
				return false
			}
			a := dnstest.Addrs(dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("lc.test", dns.TypeA)))
			return len(a) == 1 && a[0] == want
		})
	}
	custom("127.0.0.25", "svc_a (load 30) over svc_b (70)")
	stopA()
	snmpAgent(t, "127.0.0.25", port, 95) // over its threshold of 80
	custom("127.0.0.26", "svc_b once svc_a's metric passed its threshold")
	// LOAD monitors do not change a service's state.
	for _, s := range d.Monitors().Status() {
		if !strings.Contains(s.LastReason, "load") {
			t.Errorf("%s: last probe %q, want a load figure", s.Service, s.LastReason)
		}
	}
	if s := status(t, d, "gv"); s.ActiveServices != 2 {
		t.Errorf("LOAD monitors changed service state: %d active", s.ActiveServices)
	}
}

func freeUDPPort(t *testing.T) int {
	pc, err := net.ListenPacket("udp", "127.0.0.25:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// fakeApplianceNITRO stands in for an appliance that keeps load balancing
// (none can run here): it serves GET /nitro/v1/stat/lbvserver/<name> as
// the appliance does (counters as strings of digits), to a user with the
// right X-NITRO-USER / X-NITRO-PASS, with the state and connections the
// test sets.
type fakeApplianceNITRO struct {
	srv  *httptest.Server
	mu   sync.Mutex
	vs   map[string][2]string // name -> state, curclntconnections
	pass string
}

func newFakeApplianceNITRO(t *testing.T, pass string) *fakeApplianceNITRO {
	f := &fakeApplianceNITRO{vs: map[string][2]string{}, pass: pass}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-NITRO-USER") != "gslbd" || r.Header.Get("X-NITRO-PASS") != f.password() {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errorcode":354,"message":"Invalid username or password","severity":"ERROR"}`)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/nitro/v1/stat/lbvserver/")
		f.mu.Lock()
		v, found := f.vs[name]
		f.mu.Unlock()
		if !ok || !found {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errorcode":258,"message":"No such resource","severity":"ERROR"}`)
			return
		}
		fmt.Fprintf(w, `{"errorcode":0,"message":"Done","severity":"NONE","lbvserver":[{"name":%q,"state":%q,"curclntconnections":%q,"actsvcs":"2","inactsvcs":"0","requestbytesrate":0,"responsebytesrate":0,"tothits":"81"}]}`,
			name, v[0], v[1])
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeApplianceNITRO) set(name, state, conns string) {
	f.mu.Lock()
	f.vs[name] = [2]string{state, conns}
	f.mu.Unlock()
}

func (f *fakeApplianceNITRO) password() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pass
}

// TestNITROLoadSourceFollowsTheAppliance: beside an appliance that keeps
// load balancing, the state and connections of its LB vservers (stat
// lbvserver over NITRO, logins from the credentials file) decide which
// GSLB service answers; an appliance that refuses the login takes its
// services out, with the reason, and the password never reaches the log.
func TestNITROLoadSourceFollowsTheAppliance(t *testing.T) {
	const password = "appliance-Secret-81f"
	f := newFakeApplianceNITRO(t, password)
	f.set("lb_a", "UP", "7")
	f.set("lb_b", "UP", "2")
	dir := t.TempDir()
	ca := filepath.Join(dir, "appliance.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600)
	host := strings.TrimPrefix(f.srv.URL, "https://")
	creds := filepath.Join(dir, "gslbd-nitro.json")
	os.WriteFile(creds, []byte(fmt.Sprintf(`{%q: {"user": "gslbd", "password": %q, "ca": %q}}`, host, password, ca)), 0o600)
	conf := filepath.Join(dir, "ns.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service svc_a 127.0.0.31 HTTP 80 -siteName s1 -loadSource NITRO -loadURL %[1]s/nitro/v1/stat/lbvserver/lb_a -loadInterval 200 MSEC
add gslb service svc_b 127.0.0.32 HTTP 80 -siteName s1 -loadSource NITRO -loadURL %[1]s/nitro/v1/stat/lbvserver/lb_b -loadInterval 200 MSEC
add gslb vserver gv HTTP -lbMethod LEASTCONNECTION
bind gslb vserver gv -serviceName svc_a
bind gslb vserver gv -serviceName svc_b
bind gslb vserver gv -domainName lc.test -TTL 5
`, f.srv.URL)), 0o600)
	var logs syncBuffer
	d, err := daemon.Start(daemon.Options{ConfigPath: conf, Listen: []string{"127.0.0.1:0"}, NITROCredentials: creds,
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(&logs, t.Output()), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.Current().Snapshot.Service("svc_a").Health; got.String() != "appliance" {
		t.Fatalf("health source %v, want the appliance", got)
	}
	chosen(t, d, "127.0.0.32", "svc_b (2 connections on the appliance) chosen over svc_a (7)")
	f.set("lb_b", "DOWN", "0")
	waitFor(t, "svc_a alone once lb_b is DOWN", 10*time.Second, func() bool { return answerSet(t, d, "lc.test") == "127.0.0.31" })
	f.set("lb_b", "UP", "0")
	chosen(t, d, "127.0.0.32", "svc_b back, with no connections")
	st := d.Stat("gslbservice")["svc_b"]
	if got := fmt.Sprint(st["statereason"]); !strings.Contains(got, "appliance lbvserver lb_b: UP (2 of 2 services active)") {
		t.Errorf("svc_b reason %q", got)
	}
	// A login the appliance refuses: its services are out (every service
	// down: the vserver answers both, fail open), and say why.
	f.mu.Lock()
	f.pass = "changed-on-the-appliance"
	f.mu.Unlock()
	waitFor(t, "services DOWN with the appliance's refusal", 10*time.Second, func() bool {
		r := fmt.Sprint(d.Stat("gslbservice")["svc_a"]["statereason"])
		return strings.Contains(r, "errorcode 354")
	})
	if strings.Contains(logs.String(), password) {
		t.Fatal("the appliance's password is in the log")
	}
}
