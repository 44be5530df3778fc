package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// answersFrom asks addr for name over proto from a source address and
// returns the sorted answer set, "error: ..." while nothing answers, or
// "rcode X" for another rcode than NOERROR.
func answersFrom(t *testing.T, proto dnstest.Proto, from, addr, name string) string {
	t.Helper()
	q := dnstest.Msg(name, dns.TypeA)
	q.RecursionDesired = true // a resolver in front needs it; gslbd copies it
	r, err := dnstest.TryExchangeFrom(proto, from, addr, q, 3*time.Second)
	if err != nil {
		return "error: " + err.Error()
	}
	if r.Rcode != dns.RcodeSuccess {
		return "rcode " + dns.RcodeToString[r.Rcode]
	}
	a := dnstest.Addrs(r)
	slices.Sort(a)
	return strings.Join(a, ",")
}

// TestRTTProximityThreeSites: three gslbd processes, one file, a vserver
// with -lbMethod RTT. A resolver queries each site; each site probes it
// (DNS first in -ldnsProbeOrder, from its site IP, through a responder
// that delays each site's probe differently) and the sites exchange what
// they measured (NW_LDNS_NEW, NW_METRICS). Every site then answers with
// the service of the site nearest the resolver, and all move when the
// delays change. A second resolver, never measured, is answered by the
// backup method.
func TestRTTProximityThreeSites(t *testing.T) {
	const net3 = "127.0.57"
	ldnsIP := net3 + ".100"
	res := dnstest.NewSlowResolver(t, ldnsIP+":0")
	site := func(i int) string { return fmt.Sprintf("%s.%d", net3, i) }
	res.SetDelays(map[string]time.Duration{site(1): 150 * time.Millisecond, site(2): 20 * time.Millisecond, site(3): 80 * time.Millisecond})
	names := []string{"dc1", "dc2", "dc3"}
	tail := fmt.Sprintf(`add gslb vserver rv HTTP -lbMethod RTT -backupLBMethod ROUNDROBIN
bind gslb vserver rv -serviceName svc_dc1
bind gslb vserver rv -serviceName svc_dc2
bind gslb vserver rv -serviceName svc_dc3
bind gslb vserver rv -domainName rtt.test -TTL 5
set gslb parameter -ldnsProbeOrder DNS PING
set lb monitor ldns-dns LDNS-DNS -query . -queryType Address -interval 1 -resptimeout 500 MSEC -destPort %d
`, res.Port())
	m := startMeshTail(t, net3, names, nil, "", tail)
	all := m.addrs(names...)
	for _, n := range names {
		waitAnswersAt(t, m.dns[n], n+" answering every site's service", 30*time.Second, func(s string) bool { return s == all })
	}
	// The first query from the resolver (at dc1 only): backup method.
	if got := answersFrom(t, dnstest.UDP, ldnsIP, m.dns["dc1"], "rtt.test"); strings.Contains(got, "error") || strings.Contains(got, ",") {
		t.Fatalf("first query: %q, want one address by the backup method", got)
	}
	nearest := func(want string) {
		t.Helper()
		for _, n := range names {
			deadline := time.Now().Add(30 * time.Second)
			var got string
			for {
				// Every answer of a few in a row is the nearest site's.
				ok := true
				for range 3 {
					if got = answersFrom(t, dnstest.UDP, ldnsIP, m.dns[n], "rtt.test"); got != m.backends[want].IP() {
						ok = false
						break
					}
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s answers %q, want %s's service %s", n, got, want, m.backends[want].IP())
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	start := time.Now()
	nearest("dc2")
	t.Logf("every site answers the nearest (dc2) %v after the first query", time.Since(start))

	res.SetDelays(map[string]time.Duration{site(2): 200 * time.Millisecond, site(3): 5 * time.Millisecond})
	start = time.Now()
	nearest("dc3")
	t.Logf("every site moves to dc3 %v after the delays changed", time.Since(start))

	// A resolver never seen: the backup method's round robin, at every site.
	other := net3 + ".101"
	seen := map[string]bool{}
	for range 6 {
		seen[answersFrom(t, dnstest.UDP, other, m.dns["dc2"], "rtt.test")] = true
	}
	if len(seen) < 2 {
		t.Errorf("an unmeasured resolver got %v, want the backup method's round robin", seen)
	}
}

// TestLDNSEntriesShowAndClear: the resolvers the RTT method measured are
// listed by NITRO (gslbldnsentries) and `show gslb ldnsentries` with
// each site's RTT; `rm gslb ldnsentry` drops one (an unknown address is
// error 258), `clear gslb ldnsentries` all; a read-only user may list but
// not clear.
func TestLDNSEntriesShowAndClear(t *testing.T) {
	ldnsIP := "127.0.58.100"
	res := dnstest.NewSlowResolver(t, ldnsIP+":0")
	res.SetDelays(map[string]time.Duration{"127.0.58.1": 30 * time.Millisecond})
	d, _, srv := nitroServer(t, fmt.Sprintf(`add gslb site s1 LOCAL 127.0.58.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service b 192.0.2.2 HTTP 80 -siteName s1 -healthMonitor NO
add gslb vserver rv HTTP -lbMethod RTT
bind gslb vserver rv -serviceName a
bind gslb vserver rv -serviceName b
bind gslb vserver rv -domainName rtt.test
set gslb parameter -ldnsProbeOrder DNS
set lb monitor ldns-dns LDNS-DNS -interval 1 -resptimeout 500 MSEC -destPort %d
`, res.Port()))
	if got := answersFrom(t, dnstest.UDP, ldnsIP, d.UDPAddr(), "rtt.test"); strings.Contains(got, "error") {
		t.Fatal(got)
	}
	user := map[string]string{"X-NITRO-USER": "nsroot", "X-NITRO-PASS": nitroPassword}
	viewer := map[string]string{"X-NITRO-USER": "viewer", "X-NITRO-PASS": nitroPassword}
	var ent map[string]any
	waitFor(t, "the resolver measured", 10*time.Second, func() bool {
		out := expectCall(t, srv, "GET", "/nitro/v1/config/gslbldnsentries", "", viewer, 200)
		l, _ := out["gslbldnsentries"].([]any)
		if len(l) != 1 {
			return false
		}
		ent = l[0].(map[string]any)
		rtt, _ := ent["rtt"].([]any)
		return len(rtt) == 1
	})
	if ent["ipaddress"] != ldnsIP || fmt.Sprint(ent["sitename"]) != "[s1]" || fmt.Sprint(ent["probe"]) != "[DNS]" || ent["numsites"] != 1.0 {
		t.Fatalf("entry %v", ent)
	}
	if ms := ent["rtt"].([]any)[0].(float64); ms < 30 || ms > 1000 {
		t.Fatalf("rtt %v ms, want about the resolver's 30 ms", ms)
	}
	// The first query was answered by the backup method: counted.
	if l, _ := expectCall(t, srv, "GET", "/nitro/v1/stat/gslbvserver/rv", "", viewer, 200)["gslbvserver"].([]any); len(l) != 1 || l[0].(map[string]any)["proximityfallbacks"] != "1" {
		t.Fatalf("stat gslbvserver rv: %v", l)
	}
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbldnsentries?action=clear", `{"gslbldnsentries":{}}`, viewer, 403)
	expectCall(t, srv, "DELETE", "/nitro/v1/config/gslbldnsentry/192.0.2.99", "", user, 404)
	expectCall(t, srv, "DELETE", "/nitro/v1/config/gslbldnsentry/"+ldnsIP, "", user, 200)
	if out := expectCall(t, srv, "GET", "/nitro/v1/config/gslbldnsentries", "", user, 200); out["gslbldnsentries"] != nil {
		t.Fatalf("after rm: %v", out)
	}
	answersFrom(t, dnstest.UDP, ldnsIP, d.UDPAddr(), "rtt.test") // seen again: measured again
	waitFor(t, "the resolver measured again", 10*time.Second, func() bool {
		l, _ := expectCall(t, srv, "GET", "/nitro/v1/config/gslbldnsentries", "", user, 200)["gslbldnsentries"].([]any)
		return len(l) == 1 && len(l[0].(map[string]any)["rtt"].([]any)) == 1
	})
	expectCall(t, srv, "POST", "/nitro/v1/config/gslbldnsentries?action=clear", `{"gslbldnsentries":{}}`, user, 200)
	if out := expectCall(t, srv, "GET", "/nitro/v1/config/gslbldnsentries", "", user, 200); out["gslbldnsentries"] != nil {
		t.Fatalf("after clear: %v", out)
	}
}

// TestCloseTwice: a daemon closed twice (a caller's Close, then the
// test's cleanup) stops once and does not panic.
func TestCloseTwice(t *testing.T) {
	d := start(t, "add gslb site s1 LOCAL 127.0.0.1\n")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()
}
