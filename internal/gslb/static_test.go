package gslb

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/location"
	"github.com/miekg/dns"
)

// staticLocations: clients in 203.0.113/24 (Tokyo), 203.0.114/24 (Kyoto),
// 198.51.100/24 (California), 192.0.2.0/24 (South Africa); the services'
// addresses in 10.1-10.3.
const staticLocations = `NSGEO1.0
Start
203.0.113.0,203.0.113.255,AS,JP,Tokyo,Tokyo,,,139.69,35.68
203.0.114.0,203.0.114.255,AS,JP,Kyoto,Kyoto
198.51.100.0,198.51.100.255,NA,US,California,"San Jose"
192.0.2.0,192.0.2.255,AF,ZA,Gauteng
100.0.0.0,100.63.255.255,AS,JP,Tokyo
10.1.0.10,10.1.0.10,AS,JP,Tokyo
10.1.0.11,10.1.0.11,AS,JP,Osaka
10.2.0.10,10.2.0.10,NA,US,California
10.3.0.10,10.3.0.10,EU,DE,Berlin
`

const staticConf = `add gslb site s1 10.9.0.1
add gslb service jp 10.1.0.10 HTTP 80 -siteName s1
add gslb service jp2 10.1.0.11 HTTP 80 -siteName s1
add gslb service us 10.2.0.10 HTTP 80 -siteName s1
add gslb service eu 10.3.0.10 HTTP 80 -siteName s1
add gslb service nowhere 10.4.0.10 HTTP 80 -siteName s1
add gslb vserver v HTTP -lbMethod STATICPROXIMITY -backupLBMethod ROUNDROBIN -ECS ENABLED
bind gslb vserver v -serviceName jp
bind gslb vserver v -serviceName jp2
bind gslb vserver v -serviceName us
bind gslb vserver v -serviceName eu
bind gslb vserver v -domainName v.test -TTL 5
add dns soaRec test -originServer ns1.test -contact h.test
`

func locDB(t testing.TB, text string) *location.DB {
	t.Helper()
	var b location.Builder
	st, err := location.ReadFile(strings.NewReader(text), "netscaler", &b)
	if err != nil || st.Errors > 0 {
		t.Fatalf("%+v %v", st, err)
	}
	return b.Build()
}

// TestStaticProximity: the services whose location agrees with the
// client's on the most leading qualifiers answer, in turn; a DOWN one is
// left out; a client without a location, or whose continent no service
// shares, gets the backup method; a service whose address has no
// location matches any client; with ECS the subnet is located and the
// scope is the matched range's.
func TestStaticProximity(t *testing.T) {
	e := engine(t, staticConf)
	e.SetLocations(locDB(t, staticLocations))
	if st := e.Status()[0]; st.Method != "STATICPROXIMITY" || st.LBRRReason != 0 {
		t.Fatalf("status %+v", st)
	}
	for _, tc := range []struct{ client, want, why string }{
		{"203.0.113.7", "10.1.0.10", "Tokyo: the Tokyo service (three qualifiers)"},
		{"203.0.114.7", "10.1.0.10 10.1.0.11", "Kyoto: both Japanese services (two qualifiers), in turn"},
		{"198.51.100.7", "10.2.0.10", "California"},
		{"192.0.2.7", "10.1.0.10 10.1.0.11 10.2.0.10 10.3.0.10", "South Africa: no service in Africa, the backup method"},
		{"100.64.0.1", "10.1.0.10 10.1.0.11 10.2.0.10 10.3.0.10", "no location: the backup method"},
	} {
		if got := answeredFrom(t, e, "v.test", tc.client, 8); got != tc.want {
			t.Errorf("%s: answered %s, want %s", tc.why, got, tc.want)
		}
	}
	if n := e.Status()[0].ProximityFallbacks; n != 16 {
		t.Errorf("%d fallbacks counted, want 16 (South Africa and no location, 8 each)", n)
	}
	// ECS: a Tokyo subnet through a Californian resolver; the scope is
	// the matched range's (a /24; a /10), clipped to the source (/8).
	for _, tc := range []struct {
		subnet string
		scope  uint8
	}{{"203.0.113.0/24", 24}, {"100.1.0.0/16", 10}, {"100.0.0.0/8", 8}} {
		_, got, opt := serveFrom(t, e, pack(t, ecsQuery("v.test", tc.subnet)), "198.51.100.7")
		if got != "10.1.0.10" || opt == nil || opt.SourceScope != tc.scope {
			t.Errorf("ECS %s: %s, ECS %v; want Tokyo at scope %d", tc.subnet, got, opt, tc.scope)
		}
	}
	e.Report(health.Report{Service: "jp", State: health.Down})
	e.Flush()
	if got := answeredFrom(t, e, "v.test", "203.0.113.7", 4); got != "10.1.0.11" {
		t.Errorf("Tokyo with its service DOWN: %s, want the other Japanese one", got)
	}
	e.Report(health.Report{Service: "jp", State: health.Up})
	// A service without a location matches any client.
	e.Load(snapshot(t, staticConf+"bind gslb vserver v -serviceName nowhere\n"))
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 6); got != "10.2.0.10 10.4.0.10" {
		t.Errorf("California with a service of no location: %s", got)
	}
	// A new database is used at once.
	e.SetLocations(locDB(t, strings.ReplaceAll(staticLocations, "10.2.0.10,10.2.0.10,NA,US,California", "10.2.0.10,10.2.0.10,EU,FR")))
	if got := answeredFrom(t, e, "v.test", "198.51.100.7", 6); got != "10.4.0.10" {
		t.Errorf("after the US service moved to France: %s", got)
	}
}

func TestStaticQueryDoesNotAllocate(t *testing.T) {
	e := engine(t, staticConf)
	e.SetLocations(locDB(t, staticLocations))
	q := pack(t, dnsMsg("v.test", dns.TypeA))
	qe := pack(t, ecsQuery("v.test", "203.0.113.0/24"))
	buf := make([]byte, 0, 1232)
	req := dnsserver.Request{Src: netip.MustParseAddr("203.0.114.7"), Now: time.Now()}
	if n := testing.AllocsPerRun(1000, func() { e.ServeDNS(buf, q, req); e.ServeDNS(buf, qe, req) }); n != 0 {
		t.Fatalf("static proximity: %v allocations, want 0", n)
	}
}

// bigLocations is a location file of n /24 ranges from 1.0.0.0 (200
// locations in 4 continents) and the services' addresses.
func bigLocations(n int) string {
	var s strings.Builder
	s.WriteString(staticLocations)
	for i := range n {
		a := 1<<24 + i*256
		fmt.Fprintf(&s, "%d.%d.%d.0,%d.%d.%d.255,%s,C%d,R%d\n", a>>24, a>>16&255, a>>8&255, a>>24, a>>16&255, a>>8&255, []string{"AS", "NA", "EU", "AF"}[i%4], i%50, i%200)
	}
	return s.String()
}

// TestStaticProximityExplicitLocation: gslbd's -location places a
// service before its address does, and a site's -location places its
// services the database does not; a qualifier the database has nowhere
// agrees with no client.
func TestStaticProximityExplicitLocation(t *testing.T) {
	conf := `add gslb site s1 10.9.0.1 -location EU.DE.Berlin
add gslb site s2 10.9.0.2
add gslb service jp 10.1.0.10 HTTP 80 -siteName s2 -location NA.US.California
add gslb service far 10.4.0.10 HTTP 80 -siteName s1
add gslb service odd 10.4.0.11 HTTP 80 -siteName s2 -location XX.YY
add gslb vserver v HTTP -lbMethod STATICPROXIMITY -backupLBMethod ROUNDROBIN
bind gslb vserver v -serviceName jp
bind gslb vserver v -serviceName far
bind gslb vserver v -serviceName odd
bind gslb vserver v -domainName v.test -TTL 5
add dns soaRec test -originServer ns1.test -contact h.test
`
	e := engine(t, conf)
	e.SetLocations(locDB(t, staticLocations+"203.1.0.0,203.1.0.255,EU,DE,Berlin\n"))
	for _, tc := range []struct{ client, want, why string }{
		{"198.51.100.7", "10.1.0.10", "California: jp by its -location, not its Tokyo address"},
		{"203.1.0.7", "10.4.0.10", "Berlin: far by its site's -location (its address has none)"},
		{"203.0.113.7", "10.1.0.10 10.4.0.10 10.4.0.11", "Tokyo: no service there any more, the backup method"},
	} {
		if got := answeredFrom(t, e, "v.test", tc.client, 8); got != tc.want {
			t.Errorf("%s: answered %s, want %s", tc.why, got, tc.want)
		}
	}
	if _, _, _, err := config.Load("t.conf", strings.NewReader(conf+"set gslb service far -location 'a.\"b'\n")); err == nil || !strings.Contains(err.Error(), "-location") {
		t.Errorf("a bad -location: %v", err)
	}
}
