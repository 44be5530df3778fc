package gslb

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/health"
)

// TestEngineEvents: a service going DOWN, its vserver failing over to
// its backup vserver and coming back are events, in order, with their
// reasons; a report that changes nothing is none.
func TestEngineEvents(t *testing.T) {
	log := events.New(0)
	e := New(Options{Events: log})
	t.Cleanup(e.Close)
	e.Load(snapshot(t, `add gslb site s1 10.0.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s1
add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bk HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bk
bind gslb vserver v -serviceName a
bind gslb vserver bk -serviceName b
bind gslb vserver v -domainName v.test -TTL 5
`))
	e.Report(health.Report{Service: "a", State: health.Up, Source: "monitor m1"}, health.Report{Service: "b", State: health.Up})
	e.Report(health.Report{Service: "a", State: health.Up})
	e.Report(health.Report{Service: "a", State: health.Down, Reason: "connection refused", Source: "monitor m1"})
	e.Report(health.Report{Service: "a", State: health.Up, Source: "monitor m1"})
	var got []string
	for _, ev := range log.Since(0, 0) {
		got = append(got, ev.Kind+" "+ev.Name+": "+ev.From+" -> "+ev.To+" ("+ev.Reason+", "+ev.Source+")")
	}
	want := []string{
		"service a: UNKNOWN -> UP (, monitor m1)",
		"service b: UNKNOWN -> UP (, )",
		"service a: UP -> DOWN (connection refused, monitor m1)",
		"vserver v: UP -> DOWN (0 of 1 services active, )", // its own services: DOWN, as NetScaler shows it
		"vserver v: answering from v -> answering from bk (backup vserver chain, )",
		"service a: DOWN -> UP (, monitor m1)",
		"vserver v: DOWN -> UP (1 of 1 services active, )",
		"vserver v: answering from bk -> answering from v (backup vserver chain, )",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAllDownEvents: a vserver whose last service goes DOWN says how it
// answers now (fail open; EDR once set; the domain's backup IP), and
// says so again when it recovers.
func TestAllDownEvents(t *testing.T) {
	for _, tc := range []struct{ extra, how string }{
		{"", "answering every service (fail open)"},
		{"set gslb vserver v -EDR ENABLED\n", "empty answers (EDR)"},
		{"bind gslb vserver v -domainName w.test -TTL 5 -backupIP 192.0.2.9\n", "answering the backup IP for 1 of 2 domains, answering every service (fail open) for the rest"},
		{"set gslb vserver v -EDR ENABLED\nunbind gslb vserver v -domainName v.test\nbind gslb vserver v -domainName w.test -TTL 5 -backupIP 192.0.2.9\n", "answering the domains' backup IPs"},
	} {
		log := events.New(0)
		e := New(Options{Events: log})
		e.Load(snapshot(t, `add gslb site s1 10.0.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -domainName v.test -TTL 5
`+tc.extra))
		e.Report(health.Report{Service: "a", State: health.Up})
		e.Report(health.Report{Service: "a", State: health.Down, Reason: "connection refused"})
		e.Report(health.Report{Service: "a", State: health.Up})
		e.Close()
		var got []string
		for _, ev := range log.Since(0, 0) {
			if ev.Kind == events.VServer && ev.From != "UP" && ev.From != "DOWN" {
				got = append(got, ev.From+" -> "+ev.To+" ("+ev.Reason+")")
			}
		}
		want := []string{
			"answering from v -> no service UP (" + tc.how + ")",
			"no service UP -> answering from v (a service is UP again)",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%q: events:\n%s\nwant:\n%s", tc.extra, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestAllDownExplained: the decision trace says what a domain with no
// service UP answers: every service (fail open), an empty answer (EDR,
// or no service bound), or its backup IP.
func TestAllDownExplained(t *testing.T) {
	e := New(Options{})
	t.Cleanup(e.Close)
	e.Load(snapshot(t, `add gslb site s1 10.0.0.1
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb vserver open HTTP
bind gslb vserver open -serviceName a
bind gslb vserver open -domainName open.test -TTL 5
bind gslb vserver open -domainName bip.test -TTL 5 -backupIP 192.0.2.99
add gslb vserver edr HTTP -EDR ENABLED
bind gslb vserver edr -serviceName a
bind gslb vserver edr -domainName edr.test -TTL 5
add gslb vserver none HTTP
bind gslb vserver none -domainName none.test -TTL 5
`))
	e.Report(health.Report{Service: "a", State: health.Down, Reason: "connection refused"})
	for name, want := range map[string]string{
		"open.test": "no service is UP: answering every service (fail open, as NetScaler)",
		"bip.test":  "no service is UP: the domain's backup IP",
		"edr.test":  "no service is UP: an empty answer (EDR)",
		"none.test": "no service is UP: an empty answer (no service bound)",
	} {
		tr, err := e.Explain(name, 0, netip.MustParseAddr("198.18.0.1"), netip.Prefix{}, netip.Addr{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if steps := strings.Join(tr.Steps, "\n"); !strings.Contains(steps, want) {
			t.Errorf("%s: the trace lacks %q:\n%s", name, want, steps)
		}
	}
}

// TestBackupChain: a vserver with no service UP answers from the first
// enabled vserver down its backup chain that has one, however deep:
// past a disabled one and one whose services are DOWN; and again from
// nearer ones as they come back.
func TestBackupChain(t *testing.T) {
	e := New(Options{})
	t.Cleanup(e.Close)
	e.Load(snapshot(t, `add gslb site s1 10.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s1
add gslb service a3 192.0.2.3 HTTP 80 -siteName s1
add gslb service a4 192.0.2.4 HTTP 80 -siteName s1
add gslb vserver v1 HTTP
add gslb vserver v2 HTTP
add gslb vserver v3 HTTP
add gslb vserver v4 HTTP
set gslb vserver v1 -backupVServer v2
set gslb vserver v2 -backupVServer v3
set gslb vserver v3 -backupVServer v4
bind gslb vserver v1 -serviceName a1
bind gslb vserver v2 -serviceName a2
bind gslb vserver v3 -serviceName a3
bind gslb vserver v4 -serviceName a4
bind gslb vserver v1 -domainName v1.test
disable gslb vserver v2
`))
	serving := func() string {
		for _, v := range e.Status() {
			if v.Name == "v1" {
				return v.Serving
			}
		}
		return "?"
	}
	for _, step := range []struct {
		svc   string
		state health.State
		want  string
	}{
		{"a1", health.Up, "v1"},
		{"a1", health.Down, "v3"}, // v2 is disabled
		{"a3", health.Down, "v4"},
		{"a4", health.Down, ""}, // nothing UP anywhere
		{"a3", health.Up, "v3"},
		{"a1", health.Up, "v1"},
	} {
		e.Report(health.Report{Service: step.svc, State: step.state})
		if got := serving(); got != step.want {
			t.Errorf("after %s %v: v1 answers from %q, want %q", step.svc, step.state, got, step.want)
		}
	}
}
