package e2e

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/events"
)

// TestRRLSpoofedFlood: set dns parameter -rrlResponsesPerSecond 200. A
// flood from 50 sources of one /24 (what a spoofed flood looks like: many
// addresses of a victim's network) asking one name as fast as it can
// at 10,000 queries a second gets about the rate in answers, every second limited one truncated
// (slip 2), the rest nothing; a legitimate client in another /24 asking
// the same name 100 times a second throughout is answered every time
// (>= 99.9%).
func TestRRLSpoofedFlood(t *testing.T) {
	const rate = 200
	d := start(t, "add gslb site s1 127.0.0.1\nadd gslb service a 192.0.2.10 HTTP 80 -siteName s1 -healthMonitor NO\n"+
		"add gslb vserver gv HTTP -lbMethod ROUNDROBIN\nbind gslb vserver gv -serviceName a\nbind gslb vserver gv -domainName www.rrl.test -TTL 5\n"+
		"set dns parameter -rrlResponsesPerSecond 200 -rrlWindow 2 -cacheRecords NO\n")
	server := d.UDPAddr()
	q, _ := dnstest.Msg("www.rrl.test", dns.TypeA).Pack()
	const floodFor = 3 * time.Second
	end := time.Now().Add(floodFor)
	var sent, answered, truncated atomic.Int64
	var wg sync.WaitGroup
	// 50 senders of 200 queries a second: 10,000 a second, 50 times the
	// rate (what this 2-core machine serves with the race detector and
	// the flood beside it).
	for i := range 50 {
		pacedSender(t, &wg, net.IPv4(127, 90, 0, byte(1+i)), server, end, 2,
			func() []byte { sent.Add(1); return q }, func(b []byte) {
				if len(b) >= 4 && b[2]&0x02 != 0 {
					truncated.Add(1)
				} else {
					answered.Add(1)
				}
			})
	}
	asked, ok := canary(t, net.IPv4(127, 91, 0, 1), server, "www.rrl.test", end)
	wg.Wait()
	lim := d.RRL()
	t.Logf("%v: the flood sent %d queries, got %d answers and %d truncated; the legitimate client %d of %d; limited %d, slipped %d",
		floodFor, sent.Load(), answered.Load(), truncated.Load(), ok, asked, lim.Limited[0].Load(), lim.Truncated.Load())
	if most := int64(rate * (floodFor/time.Second + 2)); answered.Load() > most {
		t.Errorf("the flood got %d answers in %v, more than %d at %d a second", answered.Load(), floodFor, most, rate)
	}
	if sent.Load() < 10*answered.Load() {
		t.Errorf("the flood sent only %d queries: not a flood", sent.Load())
	}
	if truncated.Load() == 0 {
		t.Error("no limited response was sent truncated (slip 2)")
	}
	if asked < 100 || ok*1000 < asked*999 {
		t.Errorf("the legitimate client was answered %d of %d times, want >= 99.9%%", ok, asked)
	}
}

// TestRRLFollowsChanges: the limiter comes with the first rate, stays
// (its accounts with it) through unrelated changes, and goes when no
// rate is left.
func TestRRLFollowsChanges(t *testing.T) {
	d := start(t, "add gslb site s1 127.0.0.1\n")
	if d.RRL() != nil {
		t.Fatal("a limiter with no rate set")
	}
	change := func(cmd string) {
		t.Helper()
		if _, err := d.Change(events.Origin{Via: "test"}, cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	change("set dns parameter -rrlResponsesPerSecond 5")
	first := d.RRL()
	if first == nil || first.Config().ResponsesPerSecond != 5 || first.Config().Slip != 2 {
		t.Fatalf("after a rate: %+v", first)
	}
	change("add gslb site s2 127.0.0.2")
	if d.RRL() != first {
		t.Error("an unrelated change replaced the limiter (and its accounts)")
	}
	change("set dns parameter -rrlSlip 1")
	if l := d.RRL(); l == first || l.Config().Slip != 1 {
		t.Error("a new slip did not make a new limiter")
	}
	change("unset dns parameter -rrlResponsesPerSecond")
	if d.RRL() != nil {
		t.Error("no rate left, and a limiter still")
	}
}
