package e2e

import (
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/events"
)

// viewE2EConf: split horizon. Queries to the lab address 127.0.70.2 are
// in view "lab"; clients in 127.71/16 are "inside"; everyone else gets
// the public addresses.
const viewE2EConf = `add gslb site s1 127.0.70.1
add gslb service web1 203.0.113.10 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service web2 198.51.100.10 HTTP 80 -siteName s1 -healthMonitor NO
add gslb vserver www HTTP -lbMethod ROUNDROBIN
bind gslb vserver www -serviceName web1
bind gslb vserver www -serviceName web2
bind gslb vserver www -domainName www.view.test -TTL 5
add dns soaRec view.test -originServer ns1.view.test -contact h.view.test
add dns view inside
add dns view lab
add dns action act_inside ViewName -viewName inside
add dns policy p_inside "CLIENT.IP.SRC.IN_SUBNET(127.71.0.0/16)" act_inside
add dns policy p_lab "CLIENT.IP.DST.EQ(127.0.70.2)" -viewName lab
bind dns global p_lab 100 -gotoPriorityExpression END -type REQ_DEFAULT
bind dns global p_inside 200 -gotoPriorityExpression END -type REQ_DEFAULT
bind gslb service web1 -viewName inside 10.70.1.10
bind gslb service web2 -viewName inside 10.70.2.10
bind gslb service web1 -viewName lab 10.70.9.10
bind gslb service web2 -viewName lab 10.70.9.20
`

// TestDNSViewsOverSockets: one gslbd on a wildcard listener answers, over
// UDP and TCP, each client by the view its source and the address it
// asked on put it in (the lab address first, then the inside subnet);
// a policy changed through the API moves the answers at once.
func TestDNSViewsOverSockets(t *testing.T) {
	port := freePortOn(t, "127.0.0.1")
	d := startWith(t, viewE2EConf, func(o *daemon.Options) { o.Listen = []string{"0.0.0.0:" + port} })
	pub, lab := "127.0.70.1:"+port, "127.0.70.2:"+port
	check := func(when string, cases []struct{ from, to, want string }) {
		t.Helper()
		for _, proto := range []dnstest.Proto{dnstest.UDP, dnstest.TCP} {
			for _, c := range cases {
				seen := map[string]bool{}
				for range 4 {
					seen[answersFrom(t, proto, c.from, c.to, "www.view.test")] = true
				}
				got := ""
				for _, a := range []string{"10.70.1.10", "10.70.2.10", "10.70.9.10", "10.70.9.20", "198.51.100.10", "203.0.113.10"} {
					if seen[a] {
						got += a + " "
					}
				}
				if got != c.want+" " || len(seen) != 2 {
					t.Fatalf("%s: %s from %s to %s: %v, want %s", when, proto, c.from, c.to, seen, c.want)
				}
			}
		}
	}
	check("as loaded", []struct{ from, to, want string }{
		{"127.72.0.5", pub, "198.51.100.10 203.0.113.10"},
		{"127.71.0.5", pub, "10.70.1.10 10.70.2.10"},
		{"127.71.0.5", lab, "10.70.9.10 10.70.9.20"},
		{"127.72.0.5", lab, "10.70.9.10 10.70.9.20"},
	})
	if _, err := d.Change(events.Origin{Via: "api"}, `set dns policy p_inside -rule "CLIENT.IP.SRC.IN_SUBNET(127.72.0.0/16)"`); err != nil {
		t.Fatal(err)
	}
	check("after the policy changed", []struct{ from, to, want string }{
		{"127.72.0.5", pub, "10.70.1.10 10.70.2.10"},
		{"127.71.0.5", pub, "198.51.100.10 203.0.113.10"},
	})
}
