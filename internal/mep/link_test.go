package mep

import (
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

func TestNextState(t *testing.T) {
	tm := DefaultTimers()
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond
	view := func(s health.Link, heard time.Duration, full bool) linkView {
		return linkView{state: s, connectedAt: t0, lastHeard: at(heard), gotFull: full, keepAlive: 2 * time.Second}
	}
	tests := []struct {
		name   string
		v      linkView
		now    time.Time
		lag    time.Duration
		timers func(*Timers)
		want   health.Link
		reason string
	}{
		{name: "learning, no snapshot yet", v: view(health.LinkLearning, 0, false), now: at(500 * ms), want: health.LinkLearning},
		{name: "learning, snapshot: up", v: view(health.LinkLearning, 0, true), now: at(10 * ms), want: health.LinkUp},
		{name: "learning time not passed", v: view(health.LinkLearning, 900*ms, true), now: at(time.Second), timers: func(t *Timers) { t.Learning = 3 * time.Second }, want: health.LinkLearning},
		{name: "learning time passed", v: view(health.LinkLearning, 2900*ms, true), now: at(3 * time.Second), timers: func(t *Timers) { t.Learning = 3 * time.Second }, want: health.LinkUp},
		{name: "after a flap: two heartbeats first", v: func() linkView { v := view(health.LinkLearning, 0, true); v.flapped = true; return v }(), now: at(999 * ms), want: health.LinkLearning},
		{name: "after a flap: two heartbeats passed", v: func() linkView { v := view(health.LinkLearning, 900*ms, true); v.flapped = true; return v }(), now: at(time.Second), want: health.LinkUp},
		{name: "up, heard recently", v: view(health.LinkUp, 0, true), now: at(999 * ms), want: health.LinkUp},
		{name: "up, silent 1s: suspect", v: view(health.LinkUp, 0, true), now: at(time.Second), want: health.LinkSuspect, reason: "no frame for 1s"},
		{name: "suspect, heard again: up", v: view(health.LinkSuspect, 1500*ms, true), now: at(1600 * ms), want: health.LinkUp},
		{name: "silent for the keep-alive: down", v: view(health.LinkSuspect, 0, true), now: at(2 * time.Second), want: health.LinkDown, reason: "keep-alive timeout 2s"},
		{name: "learning and silent: down", v: view(health.LinkLearning, 0, false), now: at(2 * time.Second), want: health.LinkDown},
		{name: "own lag below a heartbeat: no grace", v: view(health.LinkUp, 0, true), now: at(2 * time.Second), lag: 400 * ms, want: health.LinkDown},
		{name: "own lag 1.5s: 1s more before down", v: view(health.LinkUp, 0, true), now: at(2900 * ms), lag: 1500 * ms, want: health.LinkSuspect},
		{name: "own lag 1.5s: down after 3s", v: view(health.LinkUp, 0, true), now: at(3 * time.Second), lag: 1500 * ms, want: health.LinkDown, reason: "own lag"},
		{name: "own lag huge: capped at one keep-alive", v: view(health.LinkUp, 0, true), now: at(4 * time.Second), lag: time.Minute, want: health.LinkDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timers := tm
			if tt.timers != nil {
				tt.timers(&timers)
			}
			got, why := nextState(tt.v, tt.now, tt.lag, timers)
			if got != tt.want {
				t.Errorf("got %s (%s), want %s", got, why, tt.want)
			}
			if !strings.Contains(why, tt.reason) {
				t.Errorf("reason %q does not say %q", why, tt.reason)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tm := DefaultTimers()
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for n, w := range want {
		w *= time.Millisecond
		if got := backoff(n, 0.5, tm); got != w {
			t.Errorf("attempt %d: %v, want %v", n, got, w)
		}
	}
	if lo, hi := backoff(0, 0, tm), backoff(0, 0.999, tm); lo != 80*time.Millisecond || hi < 119*time.Millisecond || hi >= 120*time.Millisecond {
		t.Errorf("jitter bounds %v..%v, want 80ms..120ms", lo, hi)
	}
	if got := backoff(1000, 0.5, tm); got != 5*time.Second {
		t.Errorf("attempt 1000: %v", got)
	}
}

func TestAgreedKeepAlive(t *testing.T) {
	if got := agreedKeepAlive(2*time.Second, 10*time.Second); got != 10*time.Second {
		t.Errorf("got %v, want the larger proposal", got)
	}
}
