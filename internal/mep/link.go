package mep

import (
	"fmt"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

// Timers are the exchange's timings (docs/mep.md, "Timers").
type Timers struct {
	// Heartbeat is how often a link sends a HEARTBEAT when nothing else
	// was sent (default 500ms). Shorter detects sooner and costs frames.
	Heartbeat time.Duration
	// KeepAlive is -MEPKeepAliveTimeout: a link that hears nothing for
	// this long is DOWN (gslbd's default 2s; NetScaler's 10s). The larger
	// of both ends' proposals is used.
	KeepAlive time.Duration
	// Suspect is how long a silent link is UP before it shows SUSPECT
	// (informational; default 1s).
	Suspect time.Duration
	// Learning is -SvcStateLearningTime: after a (re)connection, the
	// site's reports are trusted only once its first full snapshot has
	// arrived and this has passed (default 0).
	Learning time.Duration
	// Update is how often changed service states are sent (default 1s);
	// a state change is sent at once.
	Update time.Duration
	// Full is how often a full snapshot is sent anyway (default 30s).
	Full time.Duration
	// Check is how often links check their deadlines (default 100ms).
	Check time.Duration
	// Sessions is how often persistence sessions and network metrics
	// (resolvers' RTTs) are sent (default 5s).
	Sessions time.Duration
	// BackoffMin and BackoffMax bound the dialler's exponential backoff
	// (defaults 100ms and 5s; +-20% jitter).
	BackoffMin, BackoffMax time.Duration
}

// DefaultTimers are the defaults of docs/mep.md.
func DefaultTimers() Timers {
	return Timers{Heartbeat: 500 * time.Millisecond, KeepAlive: 2 * time.Second, Suspect: time.Second, Update: time.Second,
		Full: 30 * time.Second, Check: 100 * time.Millisecond, Sessions: 5 * time.Second, BackoffMin: 100 * time.Millisecond, BackoffMax: 5 * time.Second}
}

// withDefaults fills zero fields.
func (t Timers) withDefaults() Timers {
	d := DefaultTimers()
	for _, f := range []struct{ v, def *time.Duration }{{&t.Heartbeat, &d.Heartbeat}, {&t.KeepAlive, &d.KeepAlive}, {&t.Suspect, &d.Suspect},
		{&t.Update, &d.Update}, {&t.Full, &d.Full}, {&t.Sessions, &d.Sessions}, {&t.Check, &d.Check}, {&t.BackoffMin, &d.BackoffMin}, {&t.BackoffMax, &d.BackoffMax}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// linkView is what a connected link's state depends on.
type linkView struct {
	state       health.Link
	connectedAt time.Time // handshake done
	lastHeard   time.Time // last frame received
	gotFull     bool      // a full snapshot arrived on this connection
	// flapped: the link was DOWN before this connection, so it must stay
	// connected for two heartbeats before its reports count again.
	flapped bool
	// keepAlive is the agreed keep-alive timeout (the larger proposal).
	keepAlive time.Duration
}

// nextState is the state of a connected link at now. lag is how late
// this process's own timers ran recently: a starved process adds it
// (beyond one heartbeat, at most one keep-alive) to its deadline before
// it accuses a peer of silence (Lifeguard's local-health awareness).
func nextState(v linkView, now time.Time, lag time.Duration, t Timers) (health.Link, string) {
	silent := now.Sub(v.lastHeard)
	guard := min(max(lag-t.Heartbeat, 0), v.keepAlive)
	if silent >= v.keepAlive+guard {
		why := fmt.Sprintf("no frame for %v (keep-alive timeout %v)", silent.Round(time.Millisecond), v.keepAlive)
		if guard > 0 {
			why += fmt.Sprintf(", after %v more for this process's own lag", guard.Round(time.Millisecond))
		}
		return health.LinkDown, why
	}
	switch v.state {
	case health.LinkLearning:
		wait := t.Learning
		if v.flapped {
			wait = max(wait, 2*t.Heartbeat)
		}
		if v.gotFull && now.Sub(v.connectedAt) >= wait {
			return health.LinkUp, "full snapshot received"
		}
		return health.LinkLearning, ""
	case health.LinkUp, health.LinkSuspect:
		if silent >= t.Suspect {
			return health.LinkSuspect, fmt.Sprintf("no frame for %v", silent.Round(time.Millisecond))
		}
		return health.LinkUp, "heard again"
	}
	return v.state, ""
}

// agreedKeepAlive is the keep-alive timeout both ends use: the larger
// proposal, so that neither declares the other down sooner than it
// expects.
func agreedKeepAlive(mine, theirs time.Duration) time.Duration {
	return max(mine, theirs)
}

// backoff is the wait before the n-th reconnection attempt (n from 0):
// BackoffMin doubled each time up to BackoffMax, times jitter in
// [0.8, 1.2) (jitter is a random value in [0, 1)).
func backoff(n int, jitter float64, t Timers) time.Duration {
	d := t.BackoffMin
	for range n {
		d *= 2
		if d >= t.BackoffMax {
			d = t.BackoffMax
			break
		}
	}
	return time.Duration(float64(d) * (0.8 + 0.4*jitter))
}
