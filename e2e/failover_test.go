package e2e

import (
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// failoverServices are the services of failoverConf, each a real backend
// on its own loopback address (127.0.1.N), probed by a TCP monitor.
var failoverServices = []string{"p1", "p2", "b1", "c1", "x1", "x2", "o1", "o2", "d1", "d2", "off1", "on1"}

// failoverConf is the failover configuration for services at the given
// addresses (name -> ip:port).
func failoverConf(at map[string]string) string {
	var b strings.Builder
	b.WriteString("add gslb site s1 127.0.0.1\nadd gslb site s2 REMOTE 127.0.0.2\n")
	// Probes every 100 ms; one failure is DOWN; back 200 ms after.
	b.WriteString("add lb monitor fast TCP -interval 100 MSEC -resptimeout 80 MSEC -retries 1 -downTime 200 MSEC\n")
	site := map[string]string{"b1": "s2", "c1": "s2", "o2": "s2", "d2": "s2"}
	for _, s := range failoverServices {
		ip, port, _ := strings.Cut(at[s], ":")
		extra := ""
		if s == "off1" {
			extra = " -state DISABLED"
		}
		fmt.Fprintf(&b, "add gslb service %s %s HTTP %s -siteName %s%s\n", s, ip, port, cmpOr(site[s], "s1"), extra)
		fmt.Fprintf(&b, "bind gslb service %s -monitorName fast\n", s)
	}
	b.WriteString(`add gslb vserver gv_p HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_b HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_c HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_bip HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_edr HTTP -lbMethod ROUNDROBIN -EDR ENABLED
add gslb vserver gv_open HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_dpod HTTP -lbMethod ROUNDROBIN -disablePrimaryOnDown ENABLED
add gslb vserver gv_dpod_b HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_admin HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_dis HTTP -lbMethod ROUNDROBIN -state DISABLED
add gslb vserver gv_dis2 HTTP -lbMethod ROUNDROBIN -state DISABLED
set gslb vserver gv_p -backupVServer gv_b
set gslb vserver gv_b -backupVServer gv_c
set gslb vserver gv_dpod -backupVServer gv_dpod_b
set gslb vserver gv_dis -backupVServer gv_c
bind gslb vserver gv_p -serviceName p1
bind gslb vserver gv_p -serviceName p2
bind gslb vserver gv_b -serviceName b1
bind gslb vserver gv_c -serviceName c1
bind gslb vserver gv_bip -serviceName x1
bind gslb vserver gv_edr -serviceName x2
bind gslb vserver gv_open -serviceName o1
bind gslb vserver gv_open -serviceName o2
bind gslb vserver gv_dpod -serviceName d1
bind gslb vserver gv_dpod_b -serviceName d2
bind gslb vserver gv_admin -serviceName off1
bind gslb vserver gv_admin -serviceName on1
bind gslb vserver gv_dis -serviceName p1
bind gslb vserver gv_dis2 -serviceName p2
bind gslb vserver gv_p -domainName p.test -TTL 5
bind gslb vserver gv_bip -domainName bip.test -TTL 5 -backupIP 192.0.2.250
bind gslb vserver gv_edr -domainName edr.test -TTL 5
bind gslb vserver gv_open -domainName open.test -TTL 5
bind gslb vserver gv_dpod -domainName dpod.test -TTL 5
bind gslb vserver gv_admin -domainName admin.test -TTL 5
bind gslb vserver gv_dis -domainName dis.test -TTL 5
bind gslb vserver gv_dis2 -domainName dis2.test -TTL 5
add dns soaRec test -originServer ns1.test -contact hostmaster.test -minimum 30
`)
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rig is a daemon serving failoverConf from a file, its NITRO API, and
// the real backends behind its services.
type rig struct {
	t        *testing.T
	d        *daemon.Daemon
	backends map[string]*backend
	ip       map[string]string // service -> address answered
}

func failoverRig(t *testing.T) *rig {
	r := &rig{t: t, backends: map[string]*backend{}, ip: map[string]string{}}
	at := map[string]string{}
	for i, s := range failoverServices {
		b := newBackend(t, fmt.Sprintf("127.0.1.%d", i+1))
		r.backends[s], r.ip[s], at[s] = b, b.IP(), b.addr
	}
	r.d, _ = startFile(t, failoverConf(at))
	// Every enabled service UP from its monitor before a test starts.
	waitFor(t, "every monitor UP", 10*time.Second, monitorsUp(r.d, len(failoverServices)-1))
	return r
}

// state is what the answer engine holds for a service.
func (r *rig) state(svc string) health.State {
	for _, s := range r.d.Engine().ServiceStatus() {
		if s.Name == svc {
			return s.State
		}
	}
	return health.Unknown
}

// down kills the services' backends and waits until their monitors have
// taken them DOWN in the engine; up starts them again and waits for UP.
func (r *rig) down(svcs ...string) { r.set(health.Down, svcs...) }
func (r *rig) up(svcs ...string)   { r.set(health.Up, svcs...) }

func (r *rig) set(want health.State, svcs ...string) {
	r.t.Helper()
	for _, s := range svcs {
		if want == health.Down {
			r.backends[s].Kill()
		} else {
			r.backends[s].Start()
		}
	}
	waitFor(r.t, fmt.Sprintf("%v %s", svcs, want), 10*time.Second, func() bool {
		for _, s := range svcs {
			if r.state(s) != want {
				return false
			}
		}
		return true
	})
}

// expect checks the distinct answers for name over both transports: the
// addresses of the services named (or literal addresses).
func (r *rig) expect(name string, want ...string) {
	r.t.Helper()
	var addrs []string
	for _, w := range want {
		addrs = append(addrs, cmpOr(r.ip[w], w))
	}
	slices.Sort(addrs)
	if got := answers(r.t, r.d, name, 6); !slices.Equal(got, addrs) {
		r.t.Fatalf("%s: got %v, want %v (%v)", name, got, addrs, want)
	}
}

// answers returns the distinct addresses seen over n queries on both transports.
func answers(t *testing.T, d *daemon.Daemon, name string, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, proto := range dnstest.Protos {
		for range n {
			r := dnstest.Exchange(t, proto, addr(d, string(proto)), dnstest.Msg(name, dns.TypeA))
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
				t.Fatalf("%s %s: rcode %d AA %v", proto, name, r.Rcode, r.Authoritative)
			}
			for _, a := range dnstest.Addrs(r) {
				seen[a] = true
			}
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func TestBackupVServerChain(t *testing.T) {
	r := failoverRig(t)
	r.expect("p.test", "p1", "p2")
	r.down("p1")
	r.expect("p.test", "p2")
	r.down("p2")
	r.expect("p.test", "b1") // active-passive: the backup answers
	if s := status(t, r.d, "gv_p"); s.State != "DOWN" || s.Serving != "gv_b" {
		t.Fatalf("status: got %+v, want DOWN serving gv_b", s)
	}
	r.down("b1")
	r.expect("p.test", "c1") // next in the chain
	r.down("c1")
	// Whole chain down, no backup IP, no EDR: fail open with the primary's services.
	r.expect("p.test", "p1", "p2")
	r.up("p1")
	r.expect("p.test", "p1") // primary back
}

func TestBackupIP(t *testing.T) {
	r := failoverRig(t)
	r.expect("bip.test", "x1")
	r.down("x1")
	r.expect("bip.test", "192.0.2.250")
	r.up("x1")
	r.expect("bip.test", "x1")
}

func TestEmptyDownResponse(t *testing.T) {
	r := failoverRig(t)
	r.down("x2")
	for _, proto := range dnstest.Protos {
		m := dnstest.Exchange(t, proto, addr(r.d, string(proto)), dnstest.Msg("edr.test", dns.TypeA))
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !m.Authoritative {
			t.Fatalf("%s EDR: got rcode %d, %d answers, AA %v; want empty NOERROR", proto, m.Rcode, len(m.Answer), m.Authoritative)
		}
		if got := dnstest.Section(m.Ns); !strings.HasPrefix(got, "test. 30 IN SOA") {
			t.Fatalf("%s EDR authority: got %q, want the SOA with the negative TTL", proto, got)
		}
	}
}

func TestFailOpen(t *testing.T) {
	r := failoverRig(t)
	r.down("o1", "o2")
	// NetScaler default: every configured service, in one answer.
	m := dnstest.Exchange(t, dnstest.UDP, r.d.UDPAddr(), dnstest.Msg("open.test", dns.TypeA))
	want := []string{r.ip["o1"], r.ip["o2"]}
	if got := dnstest.Addrs(m); !slices.Equal(got, want) {
		t.Fatalf("all down: got %v, want both services %v", got, want)
	}
	if s := status(t, r.d, "gv_open"); s.State != "DOWN" {
		t.Fatalf("status: got %+v, want DOWN", s)
	}
}

// TestDisablePrimaryOnDown: after the backup took over, the primary stays
// off when its service comes back, until an administrator enables it
// again: through NITRO, then through gslbctl (a failover and a return each
// time, driven by the monitors).
func TestDisablePrimaryOnDown(t *testing.T) {
	r := failoverRig(t)
	users := newUsers(t)
	srv := apiServer(t, r.d, users)
	failover := func() {
		t.Helper()
		r.expect("dpod.test", "d1")
		r.down("d1")
		r.expect("dpod.test", "d2")
		r.up("d1")
		r.expect("dpod.test", "d2") // the primary stays off
		if s := status(t, r.d, "gv_dpod"); s.State != "DOWN" || s.Serving != "gv_dpod_b" {
			t.Fatalf("primary switched off: status %+v", s)
		}
	}
	failover()
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbvserver?action=enable", `{"gslbvserver":{"name":"gv_dpod"}}`,
		map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}, 200)
	r.expect("dpod.test", "d1")

	failover()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	cmd := exec.Command(built(t, "gslbctl"), "-url", srv.URL, "-cacert", ca, "-c", "enable gslb vserver gv_dpod")
	cmd.Env = append(os.Environ(), "GSLBCTL_PASSWORD="+nitroPassword)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Done") {
		t.Fatalf("gslbctl enable gslb vserver: %v\n%s", err, out)
	}
	r.expect("dpod.test", "d1")
	// A reload of the file does not turn a switched-off primary on.
	failover()
	if err := r.d.Reload(); err != nil {
		t.Fatal(err)
	}
	r.expect("dpod.test", "d2")
}

func TestAdminState(t *testing.T) {
	r := failoverRig(t)
	// A service added -state DISABLED is never answered.
	r.expect("admin.test", "on1")
	// A disabled vserver hands over to its backup...
	r.expect("dis.test", "c1")
	if s := status(t, r.d, "gv_dis"); s.State != "OUT OF SERVICE" {
		t.Fatalf("status: got %+v, want OUT OF SERVICE", s)
	}
	// ...and without one answers empty.
	m := dnstest.Exchange(t, dnstest.UDP, r.d.UDPAddr(), dnstest.Msg("dis2.test", dns.TypeA))
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Fatalf("disabled vserver without backup: got %d answers", len(m.Answer))
	}
}

// expect checks the distinct answers for name over both transports.
func expect(t *testing.T, d *daemon.Daemon, name string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := answers(t, d, name, 6); !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", name, got, want)
	}
}
