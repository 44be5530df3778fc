package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

const answersConf = `
add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb site s2 REMOTE 127.0.0.2
add server web1 10.10.0.1
add gslb service pub 10.0.0.1 HTTP 80 -publicIP 203.0.113.1 -publicPort 8080 -siteName s1
add gslb service bysrv web1 HTTP 80 -siteName s1
add gslb service cn1 -cnameEntry dc1.apps.example.net -siteName s1
add gslb service cn2 -cnameEntry dc2.apps.example.net -siteName s2
add gslb service six 2001:db8::10 HTTP 80 -siteName s2
add gslb vserver gv_pub HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_srv HTTP -lbMethod ROUNDROBIN
add gslb vserver gv_cname ANY -dnsRecordType CNAME -lbMethod ROUNDROBIN -EDR ENABLED
add gslb vserver gv_six HTTP -dnsRecordType AAAA -lbMethod ROUNDROBIN
bind gslb vserver gv_pub -serviceName pub
bind gslb vserver gv_srv -serviceName bysrv
bind gslb vserver gv_cname -serviceName cn1
bind gslb vserver gv_cname -serviceName cn2
bind gslb vserver gv_six -serviceName six
bind gslb vserver gv_pub -domainName pub.test -TTL 17
bind gslb vserver gv_srv -domainName srv.test
bind gslb vserver gv_cname -domainName apps.test -TTL 30
bind gslb vserver gv_six -domainName six.test -TTL 5
add dns soaRec test -originServer ns1.test -contact hostmaster.test
`

func TestGSLBAnswerContents(t *testing.T) {
	d := start(t, answersConf)
	for _, proto := range dnstest.Protos {
		a := addr(d, string(proto))
		// -publicIP is what clients get, with the binding's TTL.
		r := dnstest.Exchange(t, proto, a, dnstest.Msg("pub.test", dns.TypeA))
		if got := dnstest.Section(r.Answer); got != "pub.test. 17 IN A 203.0.113.1" {
			t.Errorf("%s public IP: got %q", proto, got)
		}
		// A service on a server object answers the server's address; a
		// domain bound without -TTL gets NetScaler's 5.
		r = dnstest.Exchange(t, proto, a, dnstest.Msg("srv.test", dns.TypeA))
		if got := dnstest.Section(r.Answer); got != "srv.test. 5 IN A 10.10.0.1" {
			t.Errorf("%s server name: got %q", proto, got)
		}
		// AAAA vserver.
		r = dnstest.Exchange(t, proto, a, dnstest.Msg("six.test", dns.TypeAAAA))
		if got := dnstest.Section(r.Answer); got != "six.test. 5 IN AAAA 2001:db8::10" {
			t.Errorf("%s AAAA: got %q", proto, got)
		}
		r = dnstest.Exchange(t, proto, a, dnstest.Msg("six.test", dns.TypeA))
		if len(r.Answer) != 0 || len(r.Ns) != 1 || r.Rcode != dns.RcodeSuccess {
			t.Errorf("%s A on an AAAA vserver: got %v, want NODATA", proto, r)
		}
		// CNAME vserver: one CNAME per answer, round robin, for any type.
		seen := map[string]bool{}
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeA, dns.TypeCNAME} {
			r = dnstest.Exchange(t, proto, a, dnstest.Msg("apps.test", qt))
			if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[0].Header().Ttl != 30 {
				t.Fatalf("%s CNAME vserver %s: got %v", proto, dns.TypeToString[qt], r.Answer)
			}
			seen[r.Answer[0].(*dns.CNAME).Target] = true
		}
		if !seen["dc1.apps.example.net."] || !seen["dc2.apps.example.net."] {
			t.Errorf("%s CNAME round robin: saw %v", proto, seen)
		}
	}
	// EDR on the CNAME vserver when both are down: empty answer.
	d.Engine().Report(health.Report{Service: "cn1", State: health.Down}, health.Report{Service: "cn2", State: health.Down})
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("apps.test", dns.TypeA))
	if len(r.Answer) != 0 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("CNAME vserver all down with EDR: got %v", r.Answer)
	}
}

// TestAnswersNeverMixConfigurations reloads between two configurations
// while clients query: every answer must be wholly one or the other
// (address and TTL come from the same generation).
func TestAnswersNeverMixConfigurations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.conf")
	conf := func(ip string, ttl int) []byte {
		return []byte(fmt.Sprintf(`add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service a %s HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
bind gslb vserver gv -serviceName a
bind gslb vserver gv -domainName mix.test -TTL %d
`, ip, ttl))
	}
	os.WriteFile(path, conf("192.0.2.1", 11), 0o644)
	d, err := daemon.Start(daemon.Options{ConfigPath: path, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	valid := map[string]bool{"192.0.2.1/11": true, "192.0.2.2/22": true}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var queries, bad atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r, err := dnstest.TryExchange(dnstest.UDP, d.UDPAddr(), dnstest.Msg("mix.test", dns.TypeA), 2e9)
				if err != nil || len(r.Answer) != 1 {
					bad.Add(1)
					continue
				}
				a := r.Answer[0].(*dns.A)
				if !valid[fmt.Sprintf("%s/%d", a.A, a.Hdr.Ttl)] {
					bad.Add(1)
				}
				queries.Add(1)
			}
		}()
	}
	for i := range 60 {
		if i%2 == 0 {
			os.WriteFile(path, conf("192.0.2.2", 22), 0o644)
		} else {
			os.WriteFile(path, conf("192.0.2.1", 11), 0o644)
		}
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 || queries.Load() == 0 {
		t.Fatalf("%d of %d answers failed or mixed two configurations", bad.Load(), queries.Load())
	}
}

// TestIPv6Listener serves on [::1] (batched UDP reads IPv6 socket addresses).
func TestIPv6Listener(t *testing.T) {
	d, err := daemon.Start(daemon.Options{ConfigText: []byte(answersConf), Listen: []string{"[::1]:0"}})
	if err != nil {
		t.Fatalf("listen on [::1]: %v", err)
	}
	defer d.Close()
	for _, proto := range dnstest.Protos {
		for range 3 {
			r := dnstest.Exchange(t, proto, addr(d, string(proto)), dnstest.Msg("six.test", dns.TypeAAAA))
			if got := dnstest.Section(r.Answer); got != "six.test. 5 IN AAAA 2001:db8::10" {
				t.Fatalf("%s over ::1: got %q", proto, got)
			}
		}
	}
}
