package monitor

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/health"
)

// TestReportsOnlyChanges: a service's combined state is reported when its
// state or its reason changes, once each: a second monitor failing while
// the service is already DOWN for the first one's reason sends nothing;
// the first one recovering changes the reason (now the second's) and
// sends it.
func TestReportsOnlyChanges(t *testing.T) {
	listen := func(addr string) net.Listener {
		t.Helper()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return l
	}
	l1, l2 := listen("127.0.0.1:0"), listen("127.0.0.1:0")
	defer func() { l1.Close(); l2.Close() }()
	p1, p2 := l1.Addr().(*net.TCPAddr).Port, l2.Addr().(*net.TCPAddr).Port
	sink := &recordingSink{}
	m := New(Options{Sink: sink})
	defer m.Close()
	m.Update(snapshotFrom(t, fmt.Sprintf(`add gslb site s1 127.0.0.1
add lb monitor m1 TCP -destPort %d -interval 100 MSEC -resptimeout 90 MSEC -retries 1 -downTime 100 MSEC
add lb monitor m2 TCP -destPort %d -interval 100 MSEC -resptimeout 90 MSEC -retries 1 -downTime 100 MSEC
add gslb service svc 127.0.0.1 TCP 9 -siteName s1
bind gslb service svc -monitorName m1
bind gslb service svc -monitorName m2
`, p1, p2)))
	states := func() []string {
		var out []string
		for _, call := range sink.got() {
			for _, r := range call {
				if r.Metrics == nil {
					out = append(out, r.State.String()+" "+strings.SplitN(r.Reason, ":", 2)[0])
				}
			}
		}
		return out
	}
	waitFor(t, "UP", func() bool { return len(states()) == 1 })
	l1.Close()
	waitFor(t, "DOWN for m1", func() bool { return len(states()) == 2 })
	l2.Close()
	waitFor(t, "both monitors DOWN", func() bool { return m.Stats().States[health.Down] == 2 })
	l1 = listen(fmt.Sprintf("127.0.0.1:%d", p1))
	waitFor(t, "m1 UP again", func() bool { return m.Stats().States[health.Up] == 1 })
	waitFor(t, "the reason to change", func() bool { return len(states()) >= 3 })
	want := []string{"UP all monitors UP", "DOWN monitor m1", "DOWN monitor m2"}
	if got := states(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("reports %q, want %q", got, want)
	}
}
