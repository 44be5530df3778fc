package monitor

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

// Result is the outcome of one probe.
type Result struct {
	OK     bool
	RTT    time.Duration // time from start to the answer (also on failure)
	Reason string        // "HTTP 503 not in 200", "probe timed out after 2s", "HTTP 200"
	// OutOfService is set when the answer matched -trofscode/-trofsstring:
	// the server asks to be taken out of service gracefully.
	OutOfService bool
	// Load is the custom load a LOAD monitor computed (HasLoad set).
	Load    uint64
	HasLoad bool
	// Over is set by LOAD monitors when a metric is above its threshold.
	Over bool
}

// binding is the state machine of one monitor bound to one service
// (NetScaler monitor semantics, docs §3.9):
//   - the first probe decides (UP on success, DOWN on failure), so that a
//     dead service is not served for retries x interval after start-up;
//   - UP -> DOWN when, of the last -retries probes, -failureRetries failed
//     (0: all of them);
//   - DOWN -> UP after -successRetries consecutive successes;
//   - after going DOWN, the next probe waits -downTime (then -interval).
//
// -reverse inverts each probe result before it counts.
type binding struct {
	mon     *config.MonitorInfo
	state   health.State // Unknown until the first probe
	window  [2]uint64    // last probes, bit set = failure (retries <= 127)
	n       int          // probes in window
	success int          // consecutive successes
	reason  string
	last    Result
	lastAt  time.Time
	changed time.Time
}

// observe feeds one probe result. It returns true if the state changed,
// and the delay until the next probe.
func (b *binding) observe(r Result, now time.Time) (changed bool, next time.Duration) {
	m := b.mon
	ok := r.OK
	if m.Reverse {
		ok = !ok
		if ok {
			r.Reason = "reverse: " + r.Reason
		} else {
			r.Reason = "reverse: probe succeeded (" + r.Reason + ")"
		}
	}
	b.last, b.lastAt = r, now
	b.push(!ok)
	if ok {
		b.success++
	} else {
		b.success = 0
	}
	old := b.state
	switch {
	case ok && r.OutOfService:
		b.state = health.OutOfService
		b.reason = r.Reason
	case b.state == health.Unknown:
		b.state = health.Down
		if ok {
			b.state = health.Up
		}
		b.reason = r.Reason
	case b.state == health.Up:
		if !ok {
			need := m.FailureRetries
			if need == 0 || need > m.Retries {
				need = m.Retries
			}
			if f := b.failures(m.Retries); f >= need {
				b.state = health.Down
				b.reason = fmt.Sprintf("%s (%d of the last %d probes failed)", r.Reason, f, min(b.n, m.Retries))
			}
		}
	default: // Down or OutOfService
		if ok && b.success >= m.SuccessRetries {
			b.state = health.Up
			b.reason = r.Reason
		}
	}
	if b.state == old {
		return false, m.Interval
	}
	b.changed = now
	if b.state == health.Down {
		return true, m.DownTime
	}
	return true, m.Interval
}

func (b *binding) push(fail bool) {
	b.window[1] = b.window[1]<<1 | b.window[0]>>63
	b.window[0] <<= 1
	if fail {
		b.window[0] |= 1
	}
	if b.n < 128 {
		b.n++
	}
}

// failures counts failures among the last k probes.
func (b *binding) failures(k int) int {
	k = min(k, b.n)
	if k <= 64 {
		return bits.OnesCount64(b.window[0] & mask(k))
	}
	return bits.OnesCount64(b.window[0]) + bits.OnesCount64(b.window[1]&mask(k-64))
}

func mask(k int) uint64 {
	if k >= 64 {
		return ^uint64(0)
	}
	return 1<<k - 1
}

// serviceState combines a service's monitor bindings (NetScaler
// -monThreshold): with a threshold, the service is UP while the weights of
// its UP monitors reach it; without one, every enabled monitor must be UP.
// A disabled monitor or binding does not count; a service whose monitors are
// all disabled is UP. While a monitor has not probed yet, the result is
// Unknown unless the others already decide.
func serviceState(refs []config.MonitorRef, bs []*binding, threshold int) (health.State, string) {
	upWeight, enabled := 0, 0
	unknown := false
	downReason := ""
	for i, ref := range refs {
		if ref.Disabled || ref.Monitor.Disabled {
			continue
		}
		if ref.Monitor.Type == "LOAD" {
			continue // LOAD monitors report load, not state
		}
		enabled++
		b := bs[i]
		switch b.state {
		case health.Up:
			upWeight += ref.Weight
		case health.Unknown:
			unknown = true
		case health.OutOfService:
			if threshold == 0 {
				return health.OutOfService, fmt.Sprintf("monitor %s: %s", ref.Monitor.Name, b.reason)
			}
		default:
			if downReason == "" {
				downReason = fmt.Sprintf("monitor %s: %s", ref.Monitor.Name, b.reason)
			}
		}
	}
	if enabled == 0 {
		return health.Up, "no enabled monitor"
	}
	if threshold > 0 {
		switch {
		case upWeight >= threshold:
			return health.Up, fmt.Sprintf("UP monitors weigh %d, threshold %d", upWeight, threshold)
		case unknown:
			return health.Unknown, ""
		}
		if downReason == "" {
			downReason = "monitors out of service"
		}
		return health.Down, fmt.Sprintf("UP monitors weigh %d, below threshold %d; %s", upWeight, threshold, downReason)
	}
	switch {
	case downReason != "":
		return health.Down, downReason
	case unknown:
		return health.Unknown, ""
	}
	return health.Up, "all monitors UP"
}
