package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

// TestTriggerMonitorMEPDown: a remote service's monitor under
// -triggerMonitor MEPDOWN runs only while the exchange with its site is
// down; meanwhile the site's reports decide. Monitors probe a real HTTP
// listener, answers are real DNS queries; the exchange is driven through
// the daemon's health store (the MEP links of a later step feed it the
// same way).
func TestTriggerMonitorMEPDown(t *testing.T) {
	local, remote := newBackend(t, "127.0.0.1"), newBackend(t, "127.0.0.2")
	conf := fmt.Sprintf(`add gslb site s1 127.0.0.1
add gslb site s2 127.0.0.2 -triggerMonitor MEPDOWN
add lb monitor m HTTP -interval 1 -resptimeout 500 MSEC
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb service svc0 %s HTTP %s -siteName s1
add gslb service svc1 %s HTTP %s -siteName s2
bind gslb service svc0 -monitorName m
bind gslb service svc1 -monitorName m
bind gslb vserver gv -serviceName svc0
bind gslb vserver gv -serviceName svc1
bind gslb vserver gv -domainName mon.test -TTL 5
`, local.IP(), local.Port(), remote.IP(), remote.Port())
	d := start(t, conf)
	both := "127.0.0.1,127.0.0.2"
	// No exchange runs: the monitor probes the remote service.
	waitAnswer(t, d, both, 10*time.Second)
	waitFor(t, "a probe of the remote service", 10*time.Second, func() bool { return remote.Hits() > 0 })

	h := d.Health()
	h.SetLink("s2", health.LinkUp, "test: link up")
	h.FromPeer("s2", true, []health.PeerState{{Service: "svc1", State: health.Down}})
	// MEP decides: DOWN although the monitor would find it UP.
	waitAnswer(t, d, "127.0.0.1", 5*time.Second)
	hits := remote.Hits()
	time.Sleep(3500 * time.Millisecond) // three intervals: three probes would have run
	if n := remote.Hits(); n > hits+1 { // one may have started before the link came up
		t.Errorf("MEP up: the remote service was probed %d times in 3.5s (interval 1s)", n-hits)
	}
	if got := answerSet(t, d, "mon.test"); got != "127.0.0.1" {
		t.Errorf("MEP reports svc1 DOWN: answered %s", got)
	}

	// MEP goes down: the monitor starts again from nothing (the
	// monitor package's TestGateHoldsAndActivates shows it starts at
	// once) and its UP decides.
	h.SetLink("s2", health.LinkDown, "test: keep-alive timeout")
	waitAnswer(t, d, both, 10*time.Second)
	// And it keeps deciding: the service dies, it leaves the answers.
	remote.Kill()
	waitAnswer(t, d, "127.0.0.1", 15*time.Second)
}
