package health

import (
	"fmt"
	"time"
)

// This file holds the one rule that turns what each source says about a
// service into the state the answer engine uses (docs/mep.md, "Remote
// service state"; NetScaler's behaviour in "Monitor GSLB services").

// Trigger is a site's -triggerMonitor: when the monitors bound to its
// services (as seen from another site) run and decide.
type Trigger uint8

// Triggers.
const (
	TriggerAlways         Trigger = iota // ALWAYS (default): monitors always run and decide
	TriggerMEPDown                       // MEPDOWN: only while metric exchange with the site is down or disabled
	TriggerMEPDownSvcDown                // MEPDOWN_SVCDOWN: also while MEP is up but reports the service DOWN
)

// ParseTrigger reads a -triggerMonitor value ("" is ALWAYS).
func ParseTrigger(s string) (Trigger, bool) {
	switch s {
	case "", "ALWAYS":
		return TriggerAlways, true
	case "MEPDOWN":
		return TriggerMEPDown, true
	case "MEPDOWN_SVCDOWN":
		return TriggerMEPDownSvcDown, true
	}
	return TriggerAlways, false
}

func (t Trigger) String() string {
	return [...]string{"ALWAYS", "MEPDOWN", "MEPDOWN_SVCDOWN"}[t]
}

// Link is the state of the metric exchange with a service's site, as this
// site sees it: the direct link for a parent or a child of this site, the
// relay of the child's parent for the child of another parent.
type Link uint8

// Link states (docs/mep.md, "Link state machine").
const (
	// LinkNone: this process runs no metric exchange with the site (no
	// exchange is configured at all). Nothing is learnt, nothing is lost:
	// a service without a monitor stays UNKNOWN and is answered, as before
	// sites exchanged.
	LinkNone Link = iota
	LinkConnecting
	LinkLearning // connected; the first full snapshot or the learning time is still to come
	LinkUp
	LinkSuspect // up, but silent for longer than the suspect threshold
	LinkDown
	// LinkDisabled: -metricExchange DISABLED on the site.
	LinkDisabled
)

func (l Link) String() string {
	return [...]string{"NONE", "CONNECTING", "LEARNING", "UP", "SUSPECT", "DOWN", "DISABLED"}[l]
}

// Exchanging reports whether the site's reports are current: UP or
// SUSPECT (SUSPECT only informs; the link is not yet declared down).
func (l Link) Exchanging() bool { return l == LinkUp || l == LinkSuspect }

// Inputs is everything the effective state of one service depends on. It
// is a value: Effective keeps nothing and reads no clock.
type Inputs struct {
	// Local: the service belongs to this site. Its monitors always run
	// and decide; nothing else is consulted.
	Local bool
	// Disabled: the administrator disabled the service.
	Disabled bool
	// Monitored: at least one monitor (explicit or the default) is
	// bound, and -healthMonitor is YES.
	Monitored bool
	// Monitor is the monitors' last verdict (Unknown: none yet, or not
	// probed since they became active); MonitorEffective their effective
	// state (a local service following an LB vserver with backup
	// vservers; Unknown: the same as Monitor).
	Monitor, MonitorEffective State
	// Trigger is the service's site's -triggerMonitor.
	Trigger Trigger
	// Link is the exchange with the service's site; LinkSince is when it
	// last changed.
	Link      Link
	LinkSince time.Time
	// Peer is the state the service's site reported over MEP (Unknown:
	// nothing yet), PeerEffective its effective state (the backing LB
	// vserver's backup chain can still serve).
	Peer, PeerEffective State
	// Hold is how long the last reported state is kept after the link is
	// lost before the service goes DOWN: -GSLBSvcStateDelayTime, or the
	// adoption grace for the child of another parent, whichever is longer.
	Hold time.Duration
	Now  time.Time
}

// Result is a service's effective state and why.
type Result struct {
	State State
	// Effective is what considerEffectiveState STATE_ONLY uses when every
	// service of a vserver is DOWN (Unknown: nothing more than State).
	Effective State
	Reason    string
	// Probe: the service's monitors should run now.
	Probe bool
	// Until is when the result changes by itself with no new input (the
	// end of the hold), zero if never.
	Until time.Time
}

// Effective derives a service's state from its sources, in this order
// (docs/mep.md; NetScaler's documented rules):
//  1. disabled by the administrator: OUT OF SERVICE;
//  2. a local service: its monitors (UNKNOWN until they report);
//  3. a remote service whose monitors the site's -triggerMonitor lets run
//     (ALWAYS; MEPDOWN while the exchange is lost; MEPDOWN_SVCDOWN also
//     while the site reports the service DOWN): the monitors' verdict;
//  4. the exchange is UP: the state the site reports (nothing reported
//     yet: DOWN, it is not answered before the site says so);
//  5. the exchange is LEARNING: DOWN (not yet trusted);
//  6. the exchange is lost for less than Hold: the last reported state;
//  7. the exchange is lost (or disabled): DOWN;
//  8. no exchange runs at all (LinkNone): UNKNOWN, answered.
//
// A monitor that has just become active and has not reported yet keeps
// the rule that would apply without it, so that turning monitors on when
// MEP goes down does not answer a DOWN service for one probe interval.
func Effective(in Inputs) Result {
	if in.Disabled {
		return Result{State: OutOfService, Reason: "disabled"}
	}
	if in.Local {
		return Result{State: in.Monitor, Effective: in.MonitorEffective, Probe: in.Monitored}
	}
	probe := in.Monitored && monitorsRun(in)
	if probe && in.Monitor != Unknown {
		return Result{State: in.Monitor, Effective: in.PeerEffective, Probe: true, Reason: "monitor (triggerMonitor " + in.Trigger.String() + ")"}
	}
	r := fromExchange(in)
	r.Probe = probe
	return r
}

// monitorsRun applies -triggerMonitor to a remote service with monitors.
func monitorsRun(in Inputs) bool {
	switch in.Trigger {
	case TriggerMEPDown:
		return !in.Link.Exchanging() && in.Link != LinkLearning
	case TriggerMEPDownSvcDown:
		return !in.Link.Exchanging() && in.Link != LinkLearning || in.Peer == Down
	}
	return true
}

// fromExchange is a remote service's state from its site's reports alone.
func fromExchange(in Inputs) Result {
	switch {
	case in.Link == LinkNone:
		return Result{State: Unknown, Reason: "no metric exchange with the site; no monitor decides"}
	case in.Link.Exchanging():
		if in.Peer == Unknown {
			return Result{State: Down, Reason: "MEP up; the site has not reported the service"}
		}
		return Result{State: in.Peer, Effective: in.PeerEffective, Reason: "reported by the site over MEP"}
	case in.Link == LinkLearning:
		return Result{State: Down, Reason: "MEP learning: the site's reports are not trusted yet"}
	case in.Link == LinkDisabled:
		return Result{State: Down, Reason: "metric exchange disabled and no monitor decides"}
	}
	// Lost: DOWN or never up.
	if in.Hold > 0 && in.Peer != Unknown && !in.LinkSince.IsZero() && in.Now.Before(in.LinkSince.Add(in.Hold)) {
		end := in.LinkSince.Add(in.Hold)
		return Result{State: in.Peer, Effective: in.PeerEffective, Until: end,
			Reason: fmt.Sprintf("MEP %s; last reported state kept until %s", in.Link, end.Format(time.RFC3339))}
	}
	return Result{State: Down, Reason: "MEP " + in.Link.String() + " and no monitor decides"}
}
