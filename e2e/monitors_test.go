package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// backend is a real HTTP server on a loopback address that a test can
// kill and start again on the same port.
type backend struct {
	t    *testing.T
	addr string // ip:port
	mu   sync.Mutex
	srv  *http.Server
	code int
	body string
	hits int // requests served
}

func newBackend(t *testing.T, ip string) *backend { return newBackendAt(t, ip+":0") }

// newBackendAt is a backend on addr (ip:port).
func newBackendAt(t *testing.T, addr string) *backend {
	b := &backend{t: t, addr: addr, code: 200}
	b.Start()
	t.Cleanup(b.Kill)
	return b
}

func (b *backend) IP() string   { return strings.Split(b.addr, ":")[0] }
func (b *backend) Port() string { return strings.Split(b.addr, ":")[1] }

func (b *backend) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		return
	}
	var l net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment after Kill
		if l, err = net.Listen("tcp", b.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		b.t.Fatalf("backend %s: %v", b.addr, err)
	}
	b.addr = l.Addr().String()
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		code, body := b.code, b.body
		b.hits++
		b.mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, body)
	})}
	go b.srv.Serve(l)
}

func (b *backend) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func (b *backend) SetCode(c int) {
	b.mu.Lock()
	b.code = c
	b.mu.Unlock()
}

// Hits returns how many requests the backend served.
func (b *backend) Hits() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits
}

// SetBody sets what the backend answers after the status line.
func (b *backend) SetBody(s string) {
	b.mu.Lock()
	b.body = s
	b.mu.Unlock()
}

// monitoredConf serves mon.test (MIR: every eligible service in one
// answer) from the backends, each bound to the monitor line mon.
func monitoredConf(mon string, bs ...*backend) string {
	var c strings.Builder
	c.WriteString("add gslb site s1 127.0.0.1\n" + mon + "\n")
	c.WriteString("add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED\n")
	for i, b := range bs {
		fmt.Fprintf(&c, "add gslb service svc%d %s HTTP %s -siteName s1\n", i, b.IP(), b.Port())
		fmt.Fprintf(&c, "bind gslb service svc%d -monitorName m\n", i)
		fmt.Fprintf(&c, "bind gslb vserver gv -serviceName svc%d\n", i)
	}
	c.WriteString("bind gslb vserver gv -domainName mon.test -TTL 5\n")
	return c.String()
}

// answerSet is the sorted set of addresses answered for a name.
func answerSet(t *testing.T, d *daemon.Daemon, name string) string {
	t.Helper()
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg(name, dns.TypeA))
	a := dnstest.Addrs(r)
	slices.Sort(a)
	return strings.Join(a, ",")
}

// waitAnswer polls every 10 ms until the answer set is want and returns
// how long that took.
func waitAnswer(t *testing.T, d *daemon.Daemon, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_, seen := waitAnswerAt(t, d, want, timeout)
	return seen.Sub(start)
}

// waitAnswerAt polls until the answer set is want and returns when it
// last saw another answer and when it first saw want: the change
// happened between the two, however late a busy machine ran the polls.
func waitAnswerAt(t *testing.T, d *daemon.Daemon, want string, timeout time.Duration) (before, seen time.Time) {
	t.Helper()
	before = time.Now()
	deadline := before.Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		asked := time.Now()
		if got = answerSet(t, d, "mon.test"); got == want {
			return before, time.Now()
		}
		before = asked
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("after %s the answer is %q, want %q", timeout, got, want)
	return
}

func monitorsUp(d *daemon.Daemon, n int) func() bool {
	return func() bool {
		st := d.Monitors().Status()
		up := 0
		for _, s := range st {
			if s.State == health.Up {
				up++
			}
		}
		return up == n
	}
}

// TestMonitorKillAndReturn: a killed backend leaves the answers no
// sooner than its retries allow (retries failed probes an interval apart)
// and within interval x retries + resptimeout; it comes back no sooner
// than downTime after it went DOWN and successRetries probes an interval
// apart after the restart. Lower bounds are exact (a busy machine only
// makes things later); upper bounds have a generous margin for this
// shared 2-core machine.
func TestMonitorKillAndReturn(t *testing.T) {
	b1, b2 := newBackend(t, "127.0.0.2"), newBackend(t, "127.0.0.3")
	const (
		interval, resptimeout, downTime = 200 * time.Millisecond, 100 * time.Millisecond, 600 * time.Millisecond
		retries, successRetries         = 3, 2
		margin                          = 3 * time.Second
	)
	mon := "add lb monitor m HTTP -interval 200 MSEC -resptimeout 100 MSEC -retries 3 -successRetries 2 -downTime 600 MSEC"
	d := start(t, monitoredConf(mon, b1, b2))
	waitFor(t, "both monitors UP", 5*time.Second, monitorsUp(d, 2))
	both := "127.0.0.2,127.0.0.3"
	waitAnswer(t, d, both, time.Second)

	b1.Kill()
	killed := time.Now()
	stillIn, gone := waitAnswerAt(t, d, "127.0.0.3", 10*time.Second)
	took := gone.Sub(killed) // at least the real time to leave
	if low := (retries - 1) * interval; took < low {
		t.Errorf("killed backend left the answers after %s: %d failed probes %s apart take at least %s", took, retries, interval, low)
	}
	if limit := retries*interval + resptimeout + margin; took > limit {
		t.Errorf("killed backend left the answers after %s, want within %s", took, limit)
	}
	t.Logf("kill -> gone from the answers: %s", took)

	b1.Start()
	restart := time.Now()
	_, back := waitAnswerAt(t, d, both, 10*time.Second)
	took = back.Sub(restart)
	// It left after stillIn and was back by back: out no longer than that.
	if out := back.Sub(stillIn); out < downTime {
		t.Errorf("the backend was out of the answers at most %s, want at least downTime %s", out, downTime)
	}
	if low := (successRetries - 1) * interval; took < low {
		t.Errorf("restarted backend came back after %s: %d good probes %s apart take at least %s", took, successRetries, interval, low)
	}
	if limit := downTime + successRetries*interval + margin; took > limit {
		t.Errorf("restarted backend came back after %s, want within %s", took, limit)
	}
	t.Logf("restart -> back in the answers: %s (out for %s to %s)", took, back.Sub(gone), back.Sub(stillIn))

	// An HTTP failure (not a dead socket) counts the same, with its reason.
	b2.SetCode(503)
	waitAnswer(t, d, "127.0.0.2", 5*time.Second)
	var reason string
	for _, s := range d.Monitors().Status() {
		if s.Service == "svc1" {
			reason = s.Reason
		}
	}
	if !strings.Contains(reason, "HTTP 503 not in 200") {
		t.Errorf("svc1 reason %q, want the HTTP code", reason)
	}
}

// TestMonitorFlapping: a backend flapping every 300 ms changes the answer
// set at most once per downTime: the service stays out for downTime each
// time it goes DOWN.
func TestMonitorFlapping(t *testing.T) {
	b1, b2 := newBackend(t, "127.0.0.4"), newBackend(t, "127.0.0.5")
	const downTime = time.Second
	mon := "add lb monitor m TCP -interval 100 MSEC -resptimeout 50 MSEC -retries 1 -downTime 1 SEC"
	d := start(t, monitoredConf(mon, b1, b2))
	waitFor(t, "both monitors UP", 5*time.Second, monitorsUp(d, 2))

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for alive := true; ; alive = !alive {
			select {
			case <-stop:
				b1.Start()
				return
			case <-time.After(300 * time.Millisecond):
			}
			if alive {
				b1.Kill()
			} else {
				b1.Start()
			}
		}
	}()
	const run = 5 * time.Second
	// Each removal happened after the last poll that still saw the
	// backend (from) and before the poll that saw it gone (to).
	type removal struct{ from, to time.Time }
	var removals []removal
	changes := 0
	last, lastAt := answerSet(t, d, "mon.test"), time.Now()
	for end := time.Now().Add(run); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		asked := time.Now()
		cur := answerSet(t, d, "mon.test")
		if cur != last {
			changes++
			if !strings.Contains(cur, "127.0.0.4") {
				removals = append(removals, removal{lastAt, time.Now()})
			}
		}
		last, lastAt = cur, asked
	}
	close(stop)
	<-done
	if len(removals) == 0 {
		t.Fatal("the flapping backend never left the answers")
	}
	for i := 1; i < len(removals); i++ {
		// The longest the two removals can be apart, however late the
		// polls ran: from the first's earliest to the second's latest.
		if gap := removals[i].to.Sub(removals[i-1].from); gap < downTime {
			t.Errorf("removals %d and %d at most %s apart, want >= downTime %s", i-1, i, gap, downTime)
		}
	}
	if max := 2*int(run/downTime) + 2; changes > max {
		t.Errorf("%d answer changes in %s, want at most %d", changes, run, max)
	}
	t.Logf("%d changes, %d removals in %s", changes, len(removals), run)
}
