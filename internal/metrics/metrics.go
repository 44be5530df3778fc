// Package metrics exports gslbd's figures in the Prometheus text format:
// the Go runtime and process (CPU, memory, file descriptors) and the health
// monitors (probes, bindings by state, probe start lateness).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep"
	"github.com/gslbd/gslbd/internal/monitor"
)

// LatenessBounds are the buckets of the probe start lateness histogram.
var LatenessBounds = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second,
}

// Changes is what the daemon counts of configuration changes: the number,
// their total time, and per bound how many took at most that long.
type Changes struct {
	Bounds []time.Duration
	Times  func() (count uint64, sum time.Duration, cumulative []uint64)
	// Results counts changes and reloads by {source, result} (nil: none).
	Results func() map[[2]string]uint64
}

// MEP is what the metric exchange shows: its links and this process's
// timer lag (nil funcs: no exchange).
type MEP struct {
	Links func() []mep.LinkStatus
	Lag   func() time.Duration
}

// Register adds the collectors of a monitor manager, of configuration
// changes, of the site links, of DNS and GSLB, and of the process (Go
// runtime, CPU, memory, file descriptors) to reg. Nothing is global: a
// program, or a test, gives each its own registry.
func Register(reg prometheus.Registerer, mon *monitor.Manager, ch Changes, x MEP, d DNS, g GSLB) error {
	for _, c := range []prometheus.Collector{
		// The scheduler's latency histogram (go_sched_latencies_seconds)
		// shows whether goroutines wait for a CPU.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&monitorCollector{m: mon},
		changeCollector(ch),
		mepCollector(x),
		dnsCollector(d),
		gslbCollector(g),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves what g gathers (a registry given to Register).
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

var (
	probesDesc = prometheus.NewDesc("gslbd_monitor_probes_total",
		"Monitor probes completed.", nil, nil)
	bindingsDesc = prometheus.NewDesc("gslbd_monitor_bindings",
		"Probed (service, monitor) bindings by state.", []string{"state"}, nil)
	latenessDesc = prometheus.NewDesc("gslbd_monitor_probe_start_lateness_seconds",
		"How long after its scheduled time each probe started.", nil, nil)
	probeDurationDesc = prometheus.NewDesc("gslbd_monitor_probe_duration_seconds",
		"How long probes took, from start to result, by monitor type.", []string{"type"}, nil)
)

type monitorCollector struct{ m *monitor.Manager }

func (c *monitorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- probesDesc
	ch <- bindingsDesc
	ch <- latenessDesc
	ch <- probeDurationDesc
}

func (c *monitorCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.m.Stats()
	ch <- prometheus.MustNewConstMetric(probesDesc, prometheus.CounterValue, float64(st.Probes))
	for s, label := range map[health.State]string{health.Up: "up", health.Down: "down", health.OutOfService: "out_of_service", health.Unknown: "unknown"} {
		ch <- prometheus.MustNewConstMetric(bindingsDesc, prometheus.GaugeValue, float64(st.States[s]), label)
	}
	n, sum, counts := c.m.Lateness(LatenessBounds)
	buckets := make(map[float64]uint64, len(counts))
	for i, b := range LatenessBounds {
		buckets[b.Seconds()] = counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(latenessDesc, n, sum.Seconds(), buckets)
	for typ, d := range c.m.ProbeDurations() {
		b := make(map[float64]uint64, len(d.Cumulative))
		for i, bound := range monitor.DurationBounds {
			b[bound.Seconds()] = d.Cumulative[i]
		}
		ch <- prometheus.MustNewConstHistogram(probeDurationDesc, d.Count, d.Sum.Seconds(), b, typ)
	}
}

var (
	changeDesc = prometheus.NewDesc("gslbd_config_change_duration_seconds",
		"Time to validate and apply one configuration change (an API call, a gslbctl command), waiting for the change before included.", nil, nil)
	changeResultsDesc = prometheus.NewDesc("gslbd_config_changes_total",
		"Configuration changes and reloads, by source (nitro: the API and gslbctl; reload: SIGHUP) and result (ok, refused).", []string{"source", "result"}, nil)
)

type changeCollector Changes

func (c changeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- changeDesc
	ch <- changeResultsDesc
}

func (c changeCollector) Collect(ch chan<- prometheus.Metric) {
	n, sum, counts := c.Times()
	buckets := make(map[float64]uint64, len(counts))
	for i, b := range c.Bounds {
		buckets[b.Seconds()] = counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(changeDesc, n, sum.Seconds(), buckets)
	if c.Results != nil {
		for k, v := range c.Results() {
			ch <- prometheus.MustNewConstMetric(changeResultsDesc, prometheus.CounterValue, float64(v), k[0], k[1])
		}
	}
}

var (
	linkStateDesc = prometheus.NewDesc("gslbd_mep_link_state",
		"The state of the link with each site: 1 for its current state (CONNECTING, LEARNING, UP, SUSPECT, DOWN).", []string{"site", "state"}, nil)
	linkRTTDesc = prometheus.NewDesc("gslbd_mep_link_rtt_seconds",
		"The last round trip measured on the link by heartbeats.", []string{"site"}, nil)
	linkFlapsDesc = prometheus.NewDesc("gslbd_mep_link_flaps_total",
		"How often the link went DOWN after being UP.", []string{"site"}, nil)
	linkFramesDesc = prometheus.NewDesc("gslbd_mep_frames_total",
		"Frames on the link, by direction.", []string{"site", "dir"}, nil)
	linkBytesDesc = prometheus.NewDesc("gslbd_mep_bytes_total",
		"Frame bytes on the link (HMAC trailers included, TLS records not), by direction.", []string{"site", "dir"}, nil)
	linkHeardDesc = prometheus.NewDesc("gslbd_mep_link_last_heard_seconds",
		"Seconds since the last frame from the site.", []string{"site"}, nil)
	linkMismatchDesc = prometheus.NewDesc("gslbd_mep_config_mismatch",
		"1 while the site's GSLB configuration digest, as its HELLO on the current connection gave it, differs from this site's.", []string{"site"}, nil)
	lagDesc = prometheus.NewDesc("gslbd_mep_local_timer_lag_seconds",
		"How late this process's own timer ran recently (the guard added before a silent site is declared DOWN).", nil, nil)
)

type mepCollector MEP

func (c mepCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{linkStateDesc, linkRTTDesc, linkFlapsDesc, linkFramesDesc, linkBytesDesc, linkHeardDesc, linkMismatchDesc, lagDesc} {
		ch <- d
	}
}

func (c mepCollector) Collect(ch chan<- prometheus.Metric) {
	if c.Lag != nil {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, c.Lag().Seconds())
	}
	if c.Links == nil {
		return
	}
	now := time.Now()
	for _, l := range c.Links() {
		ch <- prometheus.MustNewConstMetric(linkStateDesc, prometheus.GaugeValue, 1, l.Site, l.State.String())
		if l.RTT > 0 {
			ch <- prometheus.MustNewConstMetric(linkRTTDesc, prometheus.GaugeValue, l.RTT.Seconds(), l.Site)
		}
		if !l.LastHeard.IsZero() {
			ch <- prometheus.MustNewConstMetric(linkHeardDesc, prometheus.GaugeValue, now.Sub(l.LastHeard).Seconds(), l.Site)
		}
		ch <- prometheus.MustNewConstMetric(linkFlapsDesc, prometheus.CounterValue, float64(l.Flaps), l.Site)
		ch <- prometheus.MustNewConstMetric(linkMismatchDesc, prometheus.GaugeValue, map[bool]float64{true: 1}[l.ConfigMismatch], l.Site)
		ch <- prometheus.MustNewConstMetric(linkFramesDesc, prometheus.CounterValue, float64(l.FramesIn), l.Site, "in")
		ch <- prometheus.MustNewConstMetric(linkFramesDesc, prometheus.CounterValue, float64(l.FramesOut), l.Site, "out")
		ch <- prometheus.MustNewConstMetric(linkBytesDesc, prometheus.CounterValue, float64(l.BytesIn), l.Site, "in")
		ch <- prometheus.MustNewConstMetric(linkBytesDesc, prometheus.CounterValue, float64(l.BytesOut), l.Site, "out")
	}
}
