package health

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// remote is a monitored remote service whose site's link went to l at t0,
// seen at t0+1s.
func remote(l Link, tr Trigger, mon, peer State) Inputs {
	return Inputs{Monitored: true, Monitor: mon, Trigger: tr, Link: l, LinkSince: t0, Peer: peer, Now: t0.Add(time.Second)}
}

// unmonitored is a remote service with no monitor bound.
func unmonitored(l Link, peer State) Inputs {
	return Inputs{Link: l, LinkSince: t0, Peer: peer, Now: t0.Add(time.Second)}
}

func with(in Inputs, f func(*Inputs)) Inputs { f(&in); return in }

// TestEffective walks the rules for a service's state: docs/mep.md
// "Remote service state" (design §7.8) and "Partitions" (§7.11).
func TestEffective(t *testing.T) {
	tests := []struct {
		name   string
		in     Inputs
		want   State
		probe  bool
		reason string // a part of the reason, "" to skip
		until  time.Time
	}{
		// Administrator and local services.
		{name: "disabled beats every source", in: with(remote(LinkUp, TriggerAlways, Up, Up), func(i *Inputs) { i.Disabled = true }), want: OutOfService, reason: "disabled"},
		{name: "local: its monitors decide", in: Inputs{Local: true, Monitored: true, Monitor: Down, Link: LinkUp, Peer: Up}, want: Down, probe: true},
		{name: "local before the first probe: unknown, answered", in: Inputs{Local: true, Monitored: true}, want: Unknown, probe: true},
		{name: "local, -healthMonitor NO: nothing probes", in: Inputs{Local: true}, want: Unknown},

		// §7.8 rule 1: a bound monitor and -triggerMonitor.
		{name: "ALWAYS: monitor UP beats MEP DOWN report", in: remote(LinkUp, TriggerAlways, Up, Down), want: Up, probe: true, reason: "monitor"},
		{name: "ALWAYS: monitor DOWN beats MEP UP report", in: remote(LinkUp, TriggerAlways, Down, Up), want: Down, probe: true, reason: "monitor"},
		{name: "ALWAYS: monitor decides while MEP is down", in: remote(LinkDown, TriggerAlways, Up, Unknown), want: Up, probe: true},
		{name: "MEPDOWN, MEP up: MEP decides, monitors idle", in: remote(LinkUp, TriggerMEPDown, Down, Up), want: Up, reason: "over MEP"},
		{name: "MEPDOWN, MEP suspect (still up): MEP decides", in: remote(LinkSuspect, TriggerMEPDown, Down, Up), want: Up},
		{name: "MEPDOWN, MEP learning: monitors idle, not trusted yet", in: remote(LinkLearning, TriggerMEPDown, Up, Up), want: Down, reason: "learning"},
		{name: "MEPDOWN, MEP down: monitor decides", in: remote(LinkDown, TriggerMEPDown, Up, Down), want: Up, probe: true},
		{name: "MEPDOWN, never connected: monitor decides", in: remote(LinkConnecting, TriggerMEPDown, Up, Unknown), want: Up, probe: true},
		{name: "MEPDOWN, metric exchange disabled: monitor decides", in: remote(LinkDisabled, TriggerMEPDown, Up, Unknown), want: Up, probe: true},
		{name: "MEPDOWN, MEP down, monitor not reported yet: no hold, DOWN", in: remote(LinkDown, TriggerMEPDown, Unknown, Up), want: Down, probe: true},
		{name: "MEPDOWN, MEP down, monitor not reported yet: last state within the hold", in: with(remote(LinkDown, TriggerMEPDown, Unknown, Up), func(i *Inputs) { i.Hold = 5 * time.Second }), want: Up, probe: true, until: t0.Add(5 * time.Second)},
		{name: "MEPDOWN_SVCDOWN, MEP up, service UP: MEP decides", in: remote(LinkUp, TriggerMEPDownSvcDown, Down, Up), want: Up},
		{name: "MEPDOWN_SVCDOWN, MEP up, service DOWN: monitor decides", in: remote(LinkUp, TriggerMEPDownSvcDown, Up, Down), want: Up, probe: true, reason: "MEPDOWN_SVCDOWN"},
		{name: "MEPDOWN_SVCDOWN, MEP up, service DOWN, monitor not reported: MEP's DOWN", in: remote(LinkUp, TriggerMEPDownSvcDown, Unknown, Down), want: Down, probe: true},
		{name: "MEPDOWN_SVCDOWN, MEP down: monitor decides", in: remote(LinkDown, TriggerMEPDownSvcDown, Down, Up), want: Down, probe: true, reason: "monitor"},

		// §7.8 rule 2: no monitor, MEP up.
		{name: "MEP up: the reported state", in: unmonitored(LinkUp, Up), want: Up, reason: "over MEP"},
		{name: "MEP up: reported DOWN", in: unmonitored(LinkUp, Down), want: Down},
		{name: "MEP up: reported OUT OF SERVICE", in: unmonitored(LinkUp, OutOfService), want: OutOfService},
		{name: "MEP up, not reported by the site: DOWN", in: unmonitored(LinkUp, Unknown), want: Down, reason: "not reported"},
		{name: "MEP learning: DOWN until trusted", in: unmonitored(LinkLearning, Up), want: Down, reason: "learning"},

		// §7.8 rule 3: no monitor, MEP lost or disabled.
		{name: "MEP down, no delay time: DOWN at once", in: unmonitored(LinkDown, Up), want: Down, reason: "MEP DOWN"},
		{name: "MEP down within svcStateDelayTime: last state kept", in: with(unmonitored(LinkDown, Up), func(i *Inputs) { i.Hold = 3 * time.Second }), want: Up, until: t0.Add(3 * time.Second), reason: "kept until"},
		{name: "MEP down past svcStateDelayTime: DOWN", in: with(unmonitored(LinkDown, Up), func(i *Inputs) { i.Hold = 3 * time.Second; i.Now = t0.Add(3 * time.Second) }), want: Down},
		{name: "MEP down within the delay, nothing ever reported: DOWN", in: with(unmonitored(LinkDown, Unknown), func(i *Inputs) { i.Hold = 3 * time.Second }), want: Down},
		{name: "MEP connecting (never up): DOWN", in: unmonitored(LinkConnecting, Unknown), want: Down},
		{name: "metric exchange disabled, no monitor: DOWN", in: unmonitored(LinkDisabled, Unknown), want: Down, reason: "disabled"},
		{name: "no exchange runs at all: unknown, answered", in: unmonitored(LinkNone, Unknown), want: Unknown, reason: "no metric exchange"},
		{name: "no exchange, monitor under MEPDOWN: it decides", in: remote(LinkNone, TriggerMEPDown, Down, Unknown), want: Down, probe: true},

		// §7.11, partitions (A's view; B is another parent, c a child).
		{name: "7.11 A-B link cut, monitor on A (ALWAYS) reaches B's service", in: remote(LinkDown, TriggerAlways, Up, Up), want: Up, probe: true},
		{name: "7.11 A-B link cut, monitor on A (MEPDOWN) reaches B's service", in: remote(LinkDown, TriggerMEPDown, Up, Up), want: Up, probe: true},
		{name: "7.11 A-B link cut, no monitor: B's service leaves A's answers", in: unmonitored(LinkDown, Up), want: Down},
		{name: "7.11 B's host dies: B's own services DOWN", in: unmonitored(LinkDown, Up), want: Down},
		{name: "7.11 c's parent dies: c's last state kept for the adoption grace", in: with(unmonitored(LinkDown, Up), func(i *Inputs) { i.Hold = 2 * time.Second }), want: Up, until: t0.Add(2 * time.Second)},
		{name: "7.11 c's parent dies, no adopter within the grace: DOWN", in: with(unmonitored(LinkDown, Up), func(i *Inputs) { i.Hold = 2 * time.Second; i.Now = t0.Add(2 * time.Second) }), want: Down},
		{name: "7.11 c adopted: the adopter's relay decides", in: unmonitored(LinkUp, Up), want: Up},
		{name: "7.11 only c-primary link cut: relayed DOWN, no monitor", in: unmonitored(LinkDown, Down), want: Down},
		{name: "7.11 only c-primary link cut: monitor under MEPDOWN keeps c's service", in: remote(LinkDown, TriggerMEPDown, Up, Down), want: Up, probe: true},
		{name: "7.11 split into halves: what this half's monitors see", in: remote(LinkDown, TriggerAlways, Down, Up), want: Down, probe: true},
		{name: "7.11 nothing answerable: DOWN here, the engine fails open", in: unmonitored(LinkDown, Down), want: Down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Effective(tt.in)
			if got.State != tt.want || got.Probe != tt.probe || !got.Until.Equal(tt.until) {
				t.Errorf("Effective(%+v) = %+v; want state %s, probe %v, until %v", tt.in, got, tt.want, tt.probe, tt.until)
			}
			if tt.reason != "" && !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", got.Reason, tt.reason)
			}
		})
	}
}

// TestEffectiveCarriesEffectiveState: considerEffectiveState needs the
// site's effective state wherever the site's report is used.
func TestEffectiveCarriesEffectiveState(t *testing.T) {
	in := with(unmonitored(LinkUp, Down), func(i *Inputs) { i.PeerEffective = Up })
	if got := Effective(in); got.Effective != Up {
		t.Errorf("MEP up: effective %s, want UP", got.Effective)
	}
	in.Link, in.Hold = LinkDown, 5*time.Second
	if got := Effective(in); got.Effective != Up {
		t.Errorf("within the hold: effective %s, want UP", got.Effective)
	}
	in.Hold = 0
	if got := Effective(in); got.Effective != Unknown {
		t.Errorf("MEP down: effective %s, want UNKNOWN (nothing current)", got.Effective)
	}
	// A local service: its monitors' effective state (the LB vserver's
	// backup chain), which is what MEP sends the other sites.
	local := Inputs{Local: true, Monitored: true, Monitor: Down, MonitorEffective: Up}
	if got := Effective(local); got.State != Down || got.Effective != Up {
		t.Errorf("local: %s / effective %s, want DOWN / UP", got.State, got.Effective)
	}
}

func TestParseTrigger(t *testing.T) {
	for s, want := range map[string]Trigger{"": TriggerAlways, "ALWAYS": TriggerAlways, "MEPDOWN": TriggerMEPDown, "MEPDOWN_SVCDOWN": TriggerMEPDownSvcDown} {
		if got, ok := ParseTrigger(s); !ok || got != want || (s != "" && got.String() != s) {
			t.Errorf("ParseTrigger(%q) = %s, %v", s, got, ok)
		}
	}
	if _, ok := ParseTrigger("SOMETIMES"); ok {
		t.Error("ParseTrigger(SOMETIMES) accepted")
	}
}
