package monitor

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// waitFor polls cond until it holds or 10 s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkQueue fails unless the scheduler's heap holds exactly the bindings
// named (service/monitor), each at its index and not dropped.
func checkQueue(t *testing.T, m *Manager, want ...string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var got []string
	for i, j := range m.queue {
		if j.index != i || j.gone {
			t.Errorf("queued %s/%s: index %d at %d, gone %v", j.key.svc, j.key.mon, j.index, i, j.gone)
		}
		got = append(got, j.key.svc+"/"+j.key.mon)
	}
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("queue %v, want %v", got, want)
	}
}

// TestProbesRepeat: a binding probed in its own goroutine (HTTP) is probed
// again every interval, and the figures count it: probes, bindings by
// state, lateness.
func TestProbesRepeat(t *testing.T) {
	var requests atomic.Int64
	addr := httpServer(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	ap := netip.MustParseAddrPort(addr)
	m := New(Options{Sink: &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}})
	defer m.Close()
	m.Update(snapshotFrom(t, fmt.Sprintf(`add gslb site s1 127.0.0.1
add lb monitor web HTTP -interval 100 MSEC -resptimeout 90 MSEC
add gslb service svc %s HTTP %d -siteName s1
bind gslb service svc -monitorName web
`, ap.Addr(), ap.Port())))
	waitFor(t, "four probes", func() bool { return requests.Load() >= 4 })
	st := m.Stats()
	if n := uint64(requests.Load()); st.Probes < 3 || st.Probes > n || st.Bindings != 1 || st.States[health.Up] != 1 || len(st.States) != 1 {
		t.Fatalf("stats %+v, want at least 3 probes (at most the %d requests served) of one UP binding", st, n)
	}
	if n, _, _ := m.Lateness(nil); n < 3 {
		t.Fatalf("lateness of %d probes, want at least 3", n)
	}
}

// TestUpdateDropsBindings: bindings removed by an Update leave the
// scheduler's heap, whether queued first, queued later, never queued
// (disabled) or being probed at that moment, and the others stay.
func TestUpdateDropsBindings(t *testing.T) {
	var mu sync.Mutex
	held := map[string]chan struct{}{}
	hold := func(name string) string {
		release := make(chan struct{})
		mu.Lock()
		held[name] = release
		mu.Unlock()
		h := &servers{t: t}
		a := h.serve(func(c net.Conn) {
			readRequest(c)
			<-release
		}).String()
		t.Cleanup(func() { close(release) }) // before the server's own cleanup
		return a
	}
	slow := netip.MustParseAddrPort(hold("slow"))
	conf := func(services ...string) string {
		var b strings.Builder
		b.WriteString(`add gslb site s1 127.0.0.1
add lb monitor idle TCP -interval 20 MIN
add lb monitor idle2 TCP -interval 20 MIN
add lb monitor busy HTTP -interval 1 -resptimeout 900 MSEC
`)
		for _, s := range services {
			switch s {
			case "slow":
				fmt.Fprintf(&b, "add gslb service slow %s HTTP %d -siteName s1\nbind gslb service slow -monitorName busy\n", slow.Addr(), slow.Port())
			default:
				fmt.Fprintf(&b, "add gslb service %s 127.0.0.1 TCP 9 -siteName s1\nbind gslb service %s -monitorName idle\n", s, s)
				fmt.Fprintf(&b, "bind gslb service %s -monitorName idle2 -monState DISABLED\n", s)
			}
		}
		return b.String()
	}
	m := New(Options{Sink: &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}})
	defer m.Close()
	m.Update(snapshotFrom(t, conf("a", "b", "c")))
	checkQueue(t, m, "a/idle", "b/idle", "c/idle")
	// Drop each in turn, so that one of them is the heap's head.
	m.Update(snapshotFrom(t, conf("a", "b")))
	checkQueue(t, m, "a/idle", "b/idle")
	m.Update(snapshotFrom(t, conf("b")))
	checkQueue(t, m, "b/idle")
	// A binding dropped while its probe runs.
	m.Update(snapshotFrom(t, conf("b", "slow")))
	waitFor(t, "the slow probe to start", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		j := m.jobs[jobKey{"slow", "", "busy"}]
		return j != nil && j.index < 0 && m.probes == 0 && len(m.queue) == 1
	})
	m.Update(snapshotFrom(t, conf("b")))
	checkQueue(t, m, "b/idle")
	m.Update(snapshotFrom(t, ""))
	checkQueue(t, m)
	if st := m.Status(); len(st) != 0 {
		t.Fatalf("status after every service went: %+v", st)
	}
}

// TestUnprobedServicesNotReported: a service of another site without a
// monitor is neither probed nor reported; one whose state follows an LB
// vserver is probed through the vserver's services.
func TestUnprobedServicesNotReported(t *testing.T) {
	good := netip.MustParseAddrPort(httpServer(t, func(http.ResponseWriter, *http.Request) {}))
	sink := &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}
	m := New(Options{Sink: sink})
	defer m.Close()
	m.Update(snapshotFrom(t, fmt.Sprintf(`add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb site s2 REMOTE 127.0.0.2
add service web1 %[1]s HTTP %[2]d
add lb vserver lb1 HTTP 127.0.0.1 8081
bind lb vserver lb1 web1
add lb monitor web HTTP -interval 200 MSEC -resptimeout 150 MSEC
bind service web1 -monitorName web
add gslb service local 127.0.0.1 HTTP 8081 -siteName s1
add gslb service remote 127.0.0.2 HTTP 80 -siteName s2
`, good.Addr(), good.Port())))
	waitFor(t, "the local service UP", func() bool {
		_, states := sink.snapshot()
		return states["local"].State == health.Up
	})
	if _, states := sink.snapshot(); len(states) != 1 {
		t.Fatalf("reports %+v, want the local service's only", states)
	}
	st := m.Status()
	if len(st) != 1 || st[0].Service != "local" || st[0].Backend != "web1" || st[0].Target != good {
		t.Fatalf("status %+v, want local probed through web1 at %s", st, good)
	}
}

// TestResponseTimeMetrics: an LRTM monitor's success reports the mean of
// the last successful response times of the service's LRTM monitors
// (dropped ones and LOAD monitors left out), valid for three intervals; a
// LOAD monitor reports its load; a service following a vserver reports
// nothing of its backends' figures.
func TestResponseTimeMetrics(t *testing.T) {
	mk := func(name string, lrtm bool, typ string, rtt time.Duration, ok, gone bool) *job {
		return &job{key: jobKey{"svc", "", name}, gone: gone, mon: &config.MonitorInfo{Name: name, Type: typ, LRTM: lrtm, Interval: 2 * time.Second},
			b: binding{last: Result{OK: ok, RTT: rtt}}}
	}
	u := &unit{}
	u.jobs = []*job{
		mk("a", true, "HTTP", 2*time.Millisecond, true, false),
		mk("b", true, "TCP", 6*time.Millisecond, true, false),
		mk("failed", true, "TCP", 50*time.Millisecond, false, false),
		mk("nolrtm", false, "TCP", 70*time.Millisecond, true, false),
		mk("dropped", true, "TCP", 90*time.Millisecond, true, true),
		mk("load", true, "LOAD", 110*time.Millisecond, true, false),
	}
	se := &svcEntry{name: "svc", units: []*unit{u}}
	for _, j := range u.jobs {
		j.svc, j.unit = se, u
	}
	m := &Manager{notify: make(chan struct{}, 1)}
	now := time.Unix(1000, 0)
	m.metrics(u.jobs[1], Result{OK: true, RTT: 6 * time.Millisecond}, now)
	m.metrics(u.jobs[3], Result{OK: true}, now) // not LRTM: nothing
	m.metrics(u.jobs[5], Result{OK: true, HasLoad: true, Load: 42, Over: true}, now)
	if len(m.pending) != 2 {
		t.Fatalf("reports %+v, want two", m.pending)
	}
	rt, load := m.pending[0].Metrics, m.pending[1].Metrics
	if !rt.Present(health.ResponseTime) || rt.ResponseTime != 4*time.Millisecond || rt.MaxAge != 6*time.Second || !rt.At.Equal(now) {
		t.Errorf("response time report %+v, want 4ms (the mean of 2 and 6) valid 6s", rt)
	}
	if !load.Present(health.Load) || load.Load != 42 || !load.Overloaded || load.MaxAge != 6*time.Second {
		t.Errorf("load report %+v, want 42, overloaded, valid 6s", load)
	}
	se.vserver = true
	m.metrics(u.jobs[0], Result{OK: true, RTT: time.Millisecond}, now)
	if len(m.pending) != 2 {
		t.Errorf("a vserver's backend reported figures: %+v", m.pending[2:])
	}
}

// recordingSink keeps every call's reports.
type recordingSink struct {
	mu    sync.Mutex
	calls [][]health.Report
}

func (s *recordingSink) Report(rs ...health.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, append([]health.Report(nil), rs...))
}

func (s *recordingSink) got() [][]health.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]health.Report(nil), s.calls...)
}

// TestReportBatching: a state change reaches the sink at once; figures
// wait for the next 100 ms tick and go together; the sink is never called
// with nothing.
func TestReportBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &recordingSink{}
		m := New(Options{Sink: sink})
		defer m.Close()
		queue := func(rs ...health.Report) {
			m.mu.Lock()
			for _, r := range rs {
				m.queueReport(r)
			}
			m.mu.Unlock()
		}
		time.Sleep(time.Second) // ten ticks with nothing to report
		synctest.Wait()
		if calls := sink.got(); len(calls) != 0 {
			t.Fatalf("sink called with nothing: %v", calls)
		}
		mt := health.Metrics{}.With(health.Connections, 3)
		queue(health.Report{Service: "a", Metrics: &mt}, health.Report{Service: "b", Metrics: &mt})
		synctest.Wait()
		if calls := sink.got(); len(calls) != 0 {
			t.Fatalf("figures delivered before the tick: %v", calls)
		}
		time.Sleep(metricBatch)
		synctest.Wait()
		if calls := sink.got(); len(calls) != 1 || len(calls[0]) != 2 {
			t.Fatalf("after a tick: %v, want both figures in one call", calls)
		}
		time.Sleep(metricBatch / 2) // between ticks
		queue(health.Report{Service: "a", State: health.Down, Reason: "test"})
		synctest.Wait()
		if calls := sink.got(); len(calls) != 2 || calls[1][0].State != health.Down {
			t.Fatalf("a state change waited: %v", calls)
		}
	})
}
