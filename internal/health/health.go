package health

import (
	"fmt"
	"time"
)

// State is a service's operational state (NetScaler svrstate).
type State uint8

// States. Unknown means nothing has been reported: gslbd treats it as UP,
// as NetScaler does for a service without monitors until MEP says otherwise.
const (
	Unknown State = iota
	Up
	Down
	OutOfService
)

func (s State) String() string {
	switch s {
	case Up:
		return "UP"
	case Down:
		return "DOWN"
	case OutOfService:
		return "OUT OF SERVICE"
	}
	return "UNKNOWN"
}

// Metric names one load figure.
type Metric uint8

// Metrics a source can report.
const (
	Connections  Metric = iota // current client connections
	ResponseTime               // average response time
	Bandwidth                  // kbit/s
	Packets                    // packets/s
	Load                       // custom load (LOAD monitor), 0-100
	NumMetrics                 // number of metrics
)

func (m Metric) String() string {
	return [...]string{"connections", "response time", "bandwidth", "packets", "load"}[m]
}

// Metrics are load figures measured at At. Has says which are present.
type Metrics struct {
	At           time.Time
	Has          uint8 // bit per Metric
	Connections  uint64
	ResponseTime time.Duration
	Bandwidth    uint64
	Packets      uint64
	Load         uint64
	// MaxAge is how long the figures stay valid (0: the engine's
	// default). Sources set three of their intervals.
	MaxAge time.Duration
	// Overloaded is set by LOAD monitors when a metric reached its
	// threshold: CUSTOMLOAD then prefers other services.
	Overloaded bool
}

// With sets one metric and marks it present.
func (m Metrics) With(k Metric, v uint64) Metrics {
	m.Has |= 1 << k
	switch k {
	case Connections:
		m.Connections = v
	case ResponseTime:
		m.ResponseTime = time.Duration(v)
	case Bandwidth:
		m.Bandwidth = v
	case Packets:
		m.Packets = v
	case Load:
		m.Load = v
	}
	return m
}

// Present reports whether metric k was measured.
func (m *Metrics) Present(k Metric) bool { return m.Has&(1<<k) != 0 }

// Value returns metric k as a number for comparison.
func (m *Metrics) Value(k Metric) uint64 {
	switch k {
	case Connections:
		return m.Connections
	case ResponseTime:
		return uint64(m.ResponseTime)
	case Bandwidth:
		return m.Bandwidth
	case Packets:
		return m.Packets
	case Load:
		return m.Load
	}
	return 0
}

// Report is one observation of a service. A zero State leaves the state as
// it was; nil Metrics leaves the metrics as they were.
type Report struct {
	Service string
	State   State
	// Effective is the service's effective state where it differs in
	// meaning from State: UP while the LB vserver behind a local service
	// can still serve through its -backupVServer chain (Unknown: the same
	// as State). considerEffectiveState STATE_ONLY reads it.
	Effective State
	Metrics   *Metrics
	Reason    string // why the state is what it is: "probe timed out after 2s"
	Source    string // who reports: "monitor tcp", "mep dc2", "test"
}

func (r Report) String() string {
	return fmt.Sprintf("service %q: %s (%s)", r.Service, r.State, r.Reason)
}

// Sink receives reports. Implementations must be safe for concurrent use.
type Sink interface {
	Report(rs ...Report)
}
