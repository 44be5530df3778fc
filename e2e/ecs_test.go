package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// startUnbound runs Debian's Unbound (built with subnetcache) as a
// resolver on listen that asks gslbd at auth for the zone test., sending
// it ECS (send-client-subnet) with the client's /24.
func startUnbound(t *testing.T, listen, auth netip.AddrPort) {
	t.Helper()
	bin := program(t, "unbound", "unbound")
	dir := t.TempDir()
	conf := fmt.Sprintf(`server:
	interface: %s
	port: %d
	do-daemonize: no
	use-syslog: no
	logfile: ""
	username: ""
	chroot: ""
	directory: "%s"
	pidfile: ""
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "subnetcache iterator"
	send-client-subnet: %s
	max-client-subnet-ipv4: 24
	qname-minimisation: no
	minimal-responses: yes
	verbosity: 1
	# test. is a special-use name Unbound answers NXDOMAIN by default.
	local-zone: "test." nodefault
remote-control:
	control-enable: no
stub-zone:
	name: "test."
	stub-addr: %s@%d
`, listen.Addr(), listen.Port(), dir, auth.Addr(), auth.Addr(), auth.Port())
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(program(t, "unbound-checkconf", "unbound"), path).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-d", "-c", path)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("unbound's log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dns.Client{Timeout: 200 * time.Millisecond}
		if _, _, err := c.Exchange(dnstest.Msg("version.bind.", dns.TypeTXT), listen.String()); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound does not answer on %s", listen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestECSThroughUnbound: clients ask a real Unbound (subnetcache, sending
// ECS /24 to gslbd) from different loopback addresses. For a vserver that
// decides on the client subnet (-ECS ENABLED, source-IP hash on /24),
// each client gets the answer of its own /24, as gslbd gives it to that
// subnet directly; Unbound caches per scope: a second client of the same
// /24 is answered from its cache (gslbd sees no query), a client of
// another /24 makes it ask again. A round-robin name's answer has scope 0
// and is cached once for every client.
func TestECSThroughUnbound(t *testing.T) {
	conf := `add gslb site s1 127.0.60.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service b 192.0.2.2 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service c 192.0.2.3 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service d 192.0.2.4 HTTP 80 -siteName s1 -healthMonitor NO
add gslb vserver near HTTP -lbMethod SOURCEIPHASH -netmask 255.255.255.0 -ECS ENABLED
add gslb vserver any HTTP -lbMethod ROUNDROBIN
bind gslb vserver near -serviceName a
bind gslb vserver near -serviceName b
bind gslb vserver near -serviceName c
bind gslb vserver near -serviceName d
bind gslb vserver any -serviceName a
bind gslb vserver any -serviceName b
bind gslb vserver near -domainName near.test -TTL 60
bind gslb vserver any -domainName any.test -TTL 60
add dns soaRec test -originServer ns1.test -contact h.test
add dns nsRec test ns1.test
add dns addRec ns1.test 127.0.60.1
`
	d := startWith(t, conf, func(o *daemon.Options) { o.Listen = []string{"127.0.60.1:0"} })
	auth := netip.MustParseAddrPort(d.UDPAddr())
	ub := netip.AddrPortFrom(netip.MustParseAddr("127.0.60.53"), uint16(mustAtoi(t, freePortOn(t, "127.0.60.53"))))
	startUnbound(t, ub, auth)
	hits := func(name string) uint64 { return d.Engine().DomainHits()[name] }

	// gslbd's own answer for a /24, asked directly with ECS.
	direct := func(subnet string) string {
		q := dnstest.Msg("near.test", dns.TypeA)
		q.SetEdns0(1232, false)
		p := netip.MustParsePrefix(subnet)
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IP(p.Addr().AsSlice())})
		r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), q)
		return strings.Join(dnstest.Addrs(r), ",")
	}
	// Subnets whose answers differ, so that a leaked cache entry shows.
	subnets := map[string]string{}
	answers := map[string]bool{}
	for i := 1; i <= 40 && len(answers) < 3; i++ {
		s := fmt.Sprintf("127.61.%d.0/24", i)
		if a := direct(s); !answers[a] {
			answers[a] = true
			subnets[s] = a
		}
	}
	if len(subnets) < 2 {
		t.Fatalf("the hash gives every /24 the same answer: %v", subnets)
	}
	direct0 := hits("near.test")
	for s, want := range subnets {
		base := strings.TrimSuffix(s, "0/24")
		before := hits("near.test")
		if got := answersFrom(t, dnstest.UDP, base+"5", ub.String(), "near.test"); got != want {
			t.Errorf("client %s5 through unbound: %s, want its /24's %s", base, got, want)
		}
		if hits("near.test") != before+1 {
			t.Errorf("client %s5: gslbd saw %d queries, want 1 (a new /24)", base, hits("near.test")-before)
		}
		if got := answersFrom(t, dnstest.UDP, base+"6", ub.String(), "near.test"); got != want {
			t.Errorf("client %s6 (same /24): %s, want %s", base, got, want)
		}
		if hits("near.test") != before+1 {
			t.Errorf("client %s6 of a cached /24 reached gslbd", base)
		}
	}
	t.Logf("%d subnets, %d queries reached gslbd for near.test", len(subnets), hits("near.test")-direct0)

	// Scope 0: one query reaches gslbd, every other client is answered
	// from the cache.
	first := answersFrom(t, dnstest.UDP, "127.61.1.5", ub.String(), "any.test")
	for _, c := range []string{"127.61.2.5", "127.61.3.5", "127.61.9.9"} {
		if got := answersFrom(t, dnstest.UDP, c, ub.String(), "any.test"); got != first {
			t.Errorf("client %s: any.test %s, want the cached %s", c, got, first)
		}
	}
	if n := hits("any.test"); n != 1 {
		t.Errorf("any.test reached gslbd %d times, want once (scope 0: one cache entry)", n)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
