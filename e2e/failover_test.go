package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

const failoverConf = `
add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb site s2 REMOTE 127.0.0.2
add gslb service p1 192.0.2.1 HTTP 80 -siteName s1
add gslb service p2 192.0.2.2 HTTP 80 -siteName s1
add gslb service b1 198.51.100.1 HTTP 80 -siteName s2
add gslb service c1 198.51.100.2 HTTP 80 -siteName s2
add gslb service x1 192.0.2.10 HTTP 80 -siteName s1
add gslb service x2 192.0.2.11 HTTP 80 -siteName s1
add gslb service o1 192.0.2.20 HTTP 80 -siteName s1
add gslb service o2 192.0.2.21 HTTP 80 -siteName s2
add gslb service d1 192.0.2.30 HTTP 80 -siteName s1
add gslb service d2 198.51.100.30 HTTP 80 -siteName s2
add gslb service off1 192.0.2.40 HTTP 80 -siteName s1 -state DISABLED
add gslb service on1 192.0.2.41 HTTP 80 -siteName s1
add gslb vserver gv_p HTTP -lbMethod ROUNDROBIN
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
`

func down(d *daemon.Daemon, svcs ...string) {
	for _, s := range svcs {
		d.Engine().Report(health.Report{Service: s, State: health.Down, Reason: "test", Source: "test"})
	}
}

func up(d *daemon.Daemon, svcs ...string) {
	for _, s := range svcs {
		d.Engine().Report(health.Report{Service: s, State: health.Up, Reason: "test", Source: "test"})
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

func expect(t *testing.T, d *daemon.Daemon, name string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := answers(t, d, name, 6); !slices.Equal(got, want) {
		t.Fatalf("%s: got %v, want %v", name, got, want)
	}
}

func TestBackupVServerChain(t *testing.T) {
	d := start(t, failoverConf)
	expect(t, d, "p.test", "192.0.2.1", "192.0.2.2")
	down(d, "p1")
	expect(t, d, "p.test", "192.0.2.2")
	down(d, "p2")
	expect(t, d, "p.test", "198.51.100.1") // active-passive: the backup answers
	if s := status(t, d, "gv_p"); s.State != "DOWN" || s.Serving != "gv_b" {
		t.Fatalf("status: got %+v, want DOWN serving gv_b", s)
	}
	down(d, "b1")
	expect(t, d, "p.test", "198.51.100.2") // next in the chain
	down(d, "c1")
	// Whole chain down, no backup IP, no EDR: fail open with the primary's services.
	expect(t, d, "p.test", "192.0.2.1", "192.0.2.2")
	up(d, "p1")
	expect(t, d, "p.test", "192.0.2.1") // primary back
}

func TestBackupIP(t *testing.T) {
	d := start(t, failoverConf)
	expect(t, d, "bip.test", "192.0.2.10")
	down(d, "x1")
	expect(t, d, "bip.test", "192.0.2.250")
	up(d, "x1")
	expect(t, d, "bip.test", "192.0.2.10")
}

func TestEmptyDownResponse(t *testing.T) {
	d := start(t, failoverConf)
	down(d, "x2")
	for _, proto := range dnstest.Protos {
		r := dnstest.Exchange(t, proto, addr(d, string(proto)), dnstest.Msg("edr.test", dns.TypeA))
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || !r.Authoritative {
			t.Fatalf("%s EDR: got rcode %d, %d answers, AA %v; want empty NOERROR", proto, r.Rcode, len(r.Answer), r.Authoritative)
		}
		if got := dnstest.Section(r.Ns); !strings.HasPrefix(got, "test. 30 IN SOA") {
			t.Fatalf("%s EDR authority: got %q, want the SOA with the negative TTL", proto, got)
		}
	}
}

func TestFailOpen(t *testing.T) {
	d := start(t, failoverConf)
	down(d, "o1", "o2")
	// NetScaler default: every configured service, in one answer.
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("open.test", dns.TypeA))
	if got := dnstest.Addrs(r); !slices.Equal(got, []string{"192.0.2.20", "192.0.2.21"}) {
		t.Fatalf("all down: got %v, want both services", got)
	}
	if s := status(t, d, "gv_open"); s.State != "DOWN" {
		t.Fatalf("status: got %+v, want DOWN", s)
	}
}

func TestDisablePrimaryOnDown(t *testing.T) {
	d := start(t, failoverConf)
	expect(t, d, "dpod.test", "192.0.2.30")
	down(d, "d1")
	expect(t, d, "dpod.test", "198.51.100.30")
	up(d, "d1")
	// The primary stays off until an administrator enables it.
	expect(t, d, "dpod.test", "198.51.100.30")
	d.Engine().EnableVServer("gv_dpod")
	expect(t, d, "dpod.test", "192.0.2.30")
}

func TestAdminState(t *testing.T) {
	d := start(t, failoverConf)
	// A service added -state DISABLED is never answered.
	expect(t, d, "admin.test", "192.0.2.41")
	// A disabled vserver hands over to its backup...
	expect(t, d, "dis.test", "198.51.100.2")
	if s := status(t, d, "gv_dis"); s.State != "OUT OF SERVICE" {
		t.Fatalf("status: got %+v, want OUT OF SERVICE", s)
	}
	// ...and without one answers empty.
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("dis2.test", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("disabled vserver without backup: got %d answers", len(r.Answer))
	}
}
