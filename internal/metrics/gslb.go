package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// ServiceHealth is one GSLB service as the answer engine sees it.
type ServiceHealth struct {
	Name, Site string
	// State is UP, DOWN, OUT OF SERVICE or UNKNOWN (nothing reported:
	// answered as UP); Reason says why.
	State, Reason string
	Transitions   uint64
}

// VServerHealth is one GSLB vserver's state and method figures.
type VServerHealth struct {
	Name, State, Method string
	// LBRRReason is NetScaler's code for why the method fell back to
	// round robin (0: it decided).
	LBRRReason                   int
	ActiveServices               int
	BackupAnswers, ProxFallbacks uint64
	Proximity                    bool // RTT or STATICPROXIMITY: ProxFallbacks counts
}

// GSLB is what the engine shows of services and vservers (nil funcs:
// nothing).
type GSLB struct {
	Services func() []ServiceHealth
	VServers func() []VServerHealth
}

var (
	serviceUpDesc = prometheus.NewDesc("gslbd_service_up",
		"1 while the GSLB service is answered as UP (UP, or nothing reported yet), else 0.", []string{"service", "site"}, nil)
	serviceInfoDesc = prometheus.NewDesc("gslbd_service_state_info",
		"The GSLB service's state and why: 1 for the current pair.", []string{"service", "site", "state", "reason"}, nil)
	serviceTransDesc = prometheus.NewDesc("gslbd_service_transitions_total",
		"State changes of the GSLB service since its first known state.", []string{"service", "site"}, nil)
	vserverUpDesc = prometheus.NewDesc("gslbd_gslb_vserver_up",
		"1 while the GSLB vserver is UP.", []string{"vserver"}, nil)
	vserverActiveDesc = prometheus.NewDesc("gslbd_gslb_vserver_active_services",
		"Services the GSLB vserver can answer with now.", []string{"vserver"}, nil)
	vserverReasonDesc = prometheus.NewDesc("gslbd_gslb_vserver_lbrrreason",
		"NetScaler's lbrrreason: why the vserver's method fell back to round robin (0: the method decides).", []string{"vserver", "method"}, nil)
	vserverBackupDesc = prometheus.NewDesc("gslbd_gslb_vserver_backup_answers_total",
		"Answers given with a backup vserver's services.", []string{"vserver"}, nil)
	vserverFallbackDesc = prometheus.NewDesc("gslbd_gslb_vserver_proximity_fallbacks_total",
		"Choices RTT or STATICPROXIMITY could not make (the backup method answered, or -dropLdnsReq dropped).", []string{"vserver"}, nil)
	buildDesc = prometheus.NewDesc("gslbd_build_info",
		"1, labelled with gslbd's version and the Go version it was built with.", []string{"version", "goversion"}, nil)
)

type gslbCollector GSLB

func (c gslbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{serviceUpDesc, serviceInfoDesc, serviceTransDesc, vserverUpDesc, vserverActiveDesc,
		vserverReasonDesc, vserverBackupDesc, vserverFallbackDesc, buildDesc} {
		ch <- d
	}
}

// Version is gslbd's module version ("(devel)" when built from a
// checkout).
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (c gslbCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(buildDesc, prometheus.GaugeValue, 1, Version(), runtime.Version())
	if c.Services != nil {
		for _, s := range c.Services() {
			up := 0.0
			if s.State == "UP" || s.State == "UNKNOWN" {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(serviceUpDesc, prometheus.GaugeValue, up, s.Name, s.Site)
			ch <- prometheus.MustNewConstMetric(serviceInfoDesc, prometheus.GaugeValue, 1, s.Name, s.Site, s.State, s.Reason)
			ch <- prometheus.MustNewConstMetric(serviceTransDesc, prometheus.CounterValue, float64(s.Transitions), s.Name, s.Site)
		}
	}
	if c.VServers != nil {
		for _, v := range c.VServers() {
			up := 0.0
			if v.State == "UP" {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(vserverUpDesc, prometheus.GaugeValue, up, v.Name)
			ch <- prometheus.MustNewConstMetric(vserverActiveDesc, prometheus.GaugeValue, float64(v.ActiveServices), v.Name)
			ch <- prometheus.MustNewConstMetric(vserverReasonDesc, prometheus.GaugeValue, float64(v.LBRRReason), v.Name, v.Method)
			ch <- prometheus.MustNewConstMetric(vserverBackupDesc, prometheus.CounterValue, float64(v.BackupAnswers), v.Name)
			if v.Proximity {
				ch <- prometheus.MustNewConstMetric(vserverFallbackDesc, prometheus.CounterValue, float64(v.ProxFallbacks), v.Name)
			}
		}
	}
}
