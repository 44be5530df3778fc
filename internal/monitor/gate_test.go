package monitor

import (
	"fmt"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

// switchGate lets a test open and close the probing of remote services.
type switchGate struct{ open atomic.Bool }

func (g *switchGate) Probing(string) bool { return g.open.Load() }

// upReports counts the UP reports of a service.
func upReports(s *recordingSink, svc string) int {
	n := 0
	for _, call := range s.got() {
		for _, r := range call {
			if r.Service == svc && r.State == health.Up {
				n++
			}
		}
	}
	return n
}

// TestGateHoldsAndActivates: the gate stops the probes of a remote
// service (a local one is always probed); a binding held starts again
// from nothing, so its first verdict after the gate opens is reported
// even when it is the same as before; Activate makes a long-interval
// binding probe at once.
func TestGateHoldsAndActivates(t *testing.T) {
	var local, remote atomic.Int64
	la := netip.MustParseAddrPort(httpServer(t, func(http.ResponseWriter, *http.Request) { local.Add(1) }))
	ra := netip.MustParseAddrPort(httpServer(t, func(http.ResponseWriter, *http.Request) { remote.Add(1) }))
	gate := &switchGate{}
	sink := &recordingSink{}
	m := New(Options{Sink: sink, Gate: gate})
	defer m.Close() // closing twice is harmless
	conf := func(interval string) string {
		return fmt.Sprintf(`add gslb site s1 LOCAL 127.0.0.1
add gslb site s2 REMOTE 127.0.0.2
add lb monitor web HTTP -interval %s -resptimeout 90 MSEC
add gslb service here %s HTTP %d -siteName s1
add gslb service there %s HTTP %d -siteName s2
bind gslb service here -monitorName web
bind gslb service there -monitorName web
`, interval, la.Addr(), la.Port(), ra.Addr(), ra.Port())
	}
	m.Update(snapshotFrom(t, conf("100 MSEC")))
	waitFor(t, "five probes of the local service", func() bool { return local.Load() >= 5 })
	if n := remote.Load(); n != 0 {
		t.Fatalf("gate closed: the remote service was probed %d times", n)
	}
	gate.open.Store(true)
	waitFor(t, "the remote service UP", func() bool { return upReports(sink, "there") == 1 })
	gate.open.Store(false)
	time.Sleep(300 * time.Millisecond) // held: reset
	before := remote.Load()
	time.Sleep(300 * time.Millisecond)
	if n := remote.Load() - before; n > 0 {
		t.Errorf("gate closed again: %d more probes", n)
	}
	gate.open.Store(true)
	waitFor(t, "the remote service UP again (reported after the hold)", func() bool { return upReports(sink, "there") == 2 })

	// A one-hour interval: without Activate the next probe is far off.
	m.Close()
	gate.open.Store(false)
	m2 := New(Options{Sink: &recordingSink{}, Gate: gate})
	defer m2.Close()
	m2.Update(snapshotFrom(t, conf("3600")))
	before = remote.Load()
	gate.open.Store(true)
	m2.Activate([]string{"THERE", "nosuch"})
	waitFor(t, "a probe at once after Activate", func() bool { return remote.Load() > before })
}
