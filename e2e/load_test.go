package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
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
