package monitor

import (
	"strings"
	"testing"
	"time"

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
