package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// TestUpdateKeepsUnchangedBindings: a reload with the same monitor and
// target keeps a binding's state (no new probe round needed); a changed
// monitor setting or target starts it afresh.
func TestUpdateKeepsUnchangedBindings(t *testing.T) {
	dead := closedPort(t)
	conf := func(interval, port string) string {
		return "add gslb site s1 127.0.0.1\nadd lb monitor m TCP -interval " + interval + " -resptimeout 100 MSEC -retries 1 -downTime 10\n" +
			"add gslb service svc 127.0.0.1 TCP " + port + " -siteName s1\nbind gslb service svc -monitorName m\n"
	}
	port := dead[strings.LastIndexByte(dead, ':')+1:]
	sink := &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}
	m := New(Options{Sink: sink})
	defer m.Close()
	m.Update(snapshotFrom(t, conf("200 MSEC", port)))
	state := func() health.State {
		st := m.Status()
		if len(st) != 1 {
			t.Fatalf("status: %+v", st)
		}
		return st[0].State
	}
	deadline := time.Now().Add(5 * time.Second)
	for state() != health.Down {
		if time.Now().After(deadline) {
			t.Fatalf("binding not DOWN: %+v", m.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The same configuration, built again: the state stays (a new job
	// would be UNKNOWN until its first probe, 10 s of downTime away).
	m.Update(snapshotFrom(t, conf("200 MSEC", port)))
	if st := state(); st != health.Down {
		t.Fatalf("after an unchanged reload: %v, want DOWN kept", st)
	}
	// A changed interval, then a changed port: afresh.
	m.Update(snapshotFrom(t, conf("300 MSEC", port)))
	if st := state(); st != health.Unknown {
		t.Fatalf("after a changed monitor: %v, want a fresh binding", st)
	}
	for state() != health.Down {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("binding not DOWN again: %+v", m.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	other := closedPort(t)
	m.Update(snapshotFrom(t, conf("300 MSEC", other[strings.LastIndexByte(other, ':')+1:])))
	if st := state(); st != health.Unknown {
		t.Fatalf("after a changed target: %v, want a fresh binding", st)
	}
}

// TestUpdateAfterIncrementalChange: with snapshots from configuration
// changes (which keep the infos of unchanged services), Update restarts
// only the binding whose service changed, stops the one unbound (its
// service UP again), and keeps every other binding's state.
func TestUpdateAfterIncrementalChange(t *testing.T) {
	dead := closedPort(t)
	port := dead[strings.LastIndexByte(dead, ':')+1:]
	var conf strings.Builder
	conf.WriteString("add gslb site s1 127.0.0.1\nadd lb monitor m TCP -interval 100 MSEC -resptimeout 50 MSEC -retries 1 -downTime 10\n")
	for _, s := range []string{"s1", "s2", "s3"} {
		conf.WriteString("add gslb service " + s + " 127.0.0.1 TCP " + port + " -siteName s1\nbind gslb service " + s + " -monitorName m\n")
	}
	c, snap, _, err := config.Load("t.conf", strings.NewReader(conf.String()))
	if err != nil {
		t.Fatal(err)
	}
	sink := &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}
	m := New(Options{Sink: sink})
	defer m.Close()
	m.Update(snap)
	states := func() map[string]health.State {
		out := map[string]health.State{}
		for _, st := range m.Status() {
			out[st.Service] = st.State
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for st := states(); st["s1"] != health.Down || st["s2"] != health.Down || st["s3"] != health.Down; st = states() {
		if time.Now().After(deadline) {
			t.Fatalf("bindings not DOWN: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	change := func(line string) {
		t.Helper()
		n, s, _, err := c.Change("change", line)
		if err != nil {
			t.Fatal(err)
		}
		c = n
		m.Update(s)
	}
	change("add gslb vserver v TCP") // no service changed
	change("set gslb service s2 -IPAddress 127.0.0.2")
	change("unbind gslb service s3 -monitorName m")
	st := states()
	if st["s1"] != health.Down || st["s2"] != health.Unknown || len(st) != 2 {
		t.Fatalf("after the changes: %+v, want s1 DOWN kept, s2 probed afresh, s3 unmonitored", st)
	}
	for time.Now().Before(deadline) {
		sink.mu.Lock()
		r := sink.states["s3"]
		sink.mu.Unlock()
		if r.State == health.Up {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("s3 lost its monitor but was not reported UP")
}
