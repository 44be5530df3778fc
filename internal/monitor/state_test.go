package monitor

import (
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

func mon(retries, failureRetries, successRetries int) *config.MonitorInfo {
	return &config.MonitorInfo{Name: "m", Type: "TCP", Interval: time.Second, RespTimeout: 500 * time.Millisecond,
		DownTime: 30 * time.Second, Retries: retries, FailureRetries: failureRetries, SuccessRetries: successRetries}
}

// TestBindingStateMachine feeds probe results ("S" success, "F" failure)
// and checks the state after each one.
func TestBindingStateMachine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mon     *config.MonitorInfo
		results string
		states  string // U, D after each result
	}{
		{"first probe decides up", mon(3, 0, 1), "S", "U"},
		{"first probe decides down", mon(3, 0, 1), "F", "D"},
		{"all retries must fail", mon(3, 0, 1), "SFFSFFF", "UUUUUUD"},
		{"failureRetries of retries", mon(4, 2, 1), "SFSF", "UUUD"},
		{"failureRetries window slides", mon(4, 2, 1), "SFSSSF", "UUUUUU"},
		{"successRetries", mon(3, 0, 3), "FSSFSSS", "DDDDDDU"},
		{"retries 1", mon(1, 0, 1), "SFS", "UDU"},
		{"retries 100", mon(100, 0, 1), "S" + strings.Repeat("F", 99) + "F", "U" + strings.Repeat("U", 99) + "D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &binding{mon: tc.mon}
			now := time.Unix(0, 0)
			for i, c := range tc.results {
				b.observe(Result{OK: c == 'S', Reason: string(c)}, now)
				want := map[byte]health.State{'U': health.Up, 'D': health.Down}[tc.states[i]]
				if b.state != want {
					t.Fatalf("after %q: state %s, want %s", tc.results[:i+1], b.state, want)
				}
			}
		})
	}
}

func TestBindingReverseAndDownTime(t *testing.T) {
	m := mon(1, 0, 1)
	m.Reverse = true
	b := &binding{mon: m}
	changed, next := b.observe(Result{OK: true, Reason: "connected"}, time.Now())
	if !changed || b.state != health.Down || next != m.DownTime {
		t.Fatalf("reverse success: changed %v state %s next %s, want DOWN and downTime", changed, b.state, next)
	}
	if !strings.Contains(b.reason, "reverse") {
		t.Fatalf("reason %q does not say reverse", b.reason)
	}
	changed, next = b.observe(Result{OK: false, Reason: "connection refused"}, time.Now())
	if !changed || b.state != health.Up || next != m.Interval {
		t.Fatalf("reverse failure: changed %v state %s next %s, want UP and interval", changed, b.state, next)
	}
}

func TestServiceStateThreshold(t *testing.T) {
	a, b, c := mon(1, 0, 1), mon(1, 0, 1), mon(1, 0, 1)
	a.Name, b.Name, c.Name = "a", "b", "c"
	refs := []config.MonitorRef{{Monitor: a, Weight: 3}, {Monitor: b, Weight: 2}, {Monitor: c, Weight: 1}}
	bs := []*binding{{mon: a}, {mon: b}, {mon: c}}
	set := func(s ...health.State) {
		for i := range s {
			bs[i].state = s[i]
		}
	}
	U, D, X := health.Up, health.Down, health.Unknown
	for _, tc := range []struct {
		states    []health.State
		threshold int
		want      health.State
	}{
		{[]health.State{U, U, U}, 0, U},
		{[]health.State{U, D, U}, 0, D},
		{[]health.State{U, X, U}, 0, X},
		{[]health.State{D, X, U}, 0, D},
		{[]health.State{U, D, D}, 3, U},
		{[]health.State{D, U, U}, 3, U},
		{[]health.State{D, U, D}, 3, D},
		{[]health.State{D, U, X}, 3, X},
		{[]health.State{U, D, D}, 4, D},
	} {
		set(tc.states...)
		if got, why := serviceState(refs, bs, tc.threshold); got != tc.want {
			t.Errorf("states %v threshold %d: %s (%s), want %s", tc.states, tc.threshold, got, why, tc.want)
		}
	}
	// A disabled binding does not count; all disabled means UP.
	set(D, U, U)
	refs[0].Disabled = true
	if got, _ := serviceState(refs, bs, 0); got != U {
		t.Errorf("disabled DOWN binding still counts: %s", got)
	}
	refs[1].Disabled, refs[2].Disabled = true, true
	if got, _ := serviceState(refs, bs, 0); got != U {
		t.Errorf("all bindings disabled: %s, want UP", got)
	}
}
