package daemon

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep"
)

// Stat returns live figures of a NITRO resource's objects, by lower-cased
// name: what `stat gslb vserver` and `show gslb service` report beyond
// the configuration. Counters are strings of digits, as the appliance
// sends its <Double> fields; codes (<Integer>) are numbers. Hits count from when a name was first served
// (removing or renaming starts again from zero). Counters gslbd does not keep
// are left out, not reported as zero.
func (d *Daemon) Stat(resource string) map[string]map[string]any {
	out := map[string]map[string]any{}
	switch resource {
	case "locationparameter":
		return d.locationStatus()
	case "gslbvserver":
		for _, v := range d.engine.Status() {
			f := map[string]any{"state": v.State, "curstate": v.State, "actsvcs": digits(v.ActiveServices),
				"inactsvcs": digits(v.TotalServices - v.ActiveServices), "lbrrreason": v.LBRRReason,
				"tothits": digits(v.Hits), "totvserverdownbackuphits": digits(v.BackupHits)}
			if v.Method == "RTT" || v.Method == "STATICPROXIMITY" {
				// gslbd: choices the method could not make (backup method answered).
				f["proximityfallbacks"] = digits(v.ProximityFallbacks)
			}
			if v.TotalServices > 0 {
				f["vslbhealth"] = digits(100 * v.ActiveServices / v.TotalServices)
			}
			if v.LBRRReasonText != "" {
				f["lbrrreasontext"] = v.LBRRReasonText
			}
			// gslbd: the vserver whose services answer (a backup vserver
			// after a failover), and with none UP what clients get.
			if v.Serving != "" {
				f["answeringfrom"] = v.Serving
			}
			if v.AllDown != "" {
				f["alldown"] = v.AllDown
			}
			out[strings.ToLower(v.Name)] = f
		}
	case "gslbservice":
		snap := d.Current().Snapshot
		for _, s := range d.engine.ServiceStatus() {
			st := s.State
			if st == health.Unknown {
				st = health.Up // nothing says otherwise: answered as UP
			}
			f := map[string]any{"state": st.String(), "svrstate": st.String(), "svreffgslbstate": st.String(), "vsvrservicehits": digits(s.Hits)}
			if s.Reason != "" {
				f["statereason"] = s.Reason
			}
			// gslbd: where the state comes from (monitors, the default
			// monitor, the LB vserver behind it...), and why.
			if info := snap.Service(s.Name); info != nil {
				f["healthsource"] = info.Health.String()
				if info.HealthNote != "" {
					f["healthsource"] = info.Health.String() + ": " + info.HealthNote
				}
			}
			m := s.Metrics
			if m.Present(health.ResponseTime) {
				f["responsetime"] = digits(m.ResponseTime.Milliseconds())
			}
			if m.Present(health.Connections) {
				f["curclntconnections"] = digits(m.Connections)
			}
			if m.Present(health.Load) {
				f["curload"] = digits(m.Load)
			}
			out[strings.ToLower(s.Name)] = f
		}
	case "gslbsite":
		d.siteStat(out)
	case "gslbdomain":
		for name, n := range d.engine.DomainHits() {
			out[name] = map[string]any{"dnstotalqueries": digits(n)}
		}
	}
	return out
}

// siteStat: each remote site's exchange as NetScaler shows it (status
// and persistencemepstatus: ACTIVE, INACTIVE or DOWN) and, beyond it, the
// link's state machine, why it is there, since when, who dials, the
// peer's address and how often it flapped.
func (d *Daemon) siteStat(out map[string]map[string]any) {
	snap := d.Current().Snapshot
	links := map[string]mep.LinkStatus{}
	for _, l := range d.Links() {
		links[strings.ToLower(l.Site)] = l
	}
	for _, si := range snap.Sites {
		if si.Local {
			out[strings.ToLower(si.Name)] = map[string]any{"status": "ACTIVE", "persistencemepstatus": "ACTIVE", "mepstate": "LOCAL"}
			continue
		}
		f := map[string]any{}
		l, ok := links[strings.ToLower(si.Name)]
		switch {
		case !si.MetricExchange:
			f["status"], f["mepstate"], f["mepreason"] = "INACTIVE", health.LinkDisabled.String(), "-metricExchange DISABLED"
		case !ok:
			f["status"], f["mepstate"], f["mepreason"] = "INACTIVE", health.LinkNone.String(), d.mepNotRunning(si)
		default:
			f["status"] = "DOWN"
			if l.State.Exchanging() {
				f["status"] = "ACTIVE"
			}
			f["mepstate"], f["mepreason"], f["mepsince"] = l.State.String(), l.Reason, l.Since.UTC().Format(time.RFC3339Nano)
			f["mepdialer"] = map[bool]string{true: "LOCAL", false: "REMOTE"}[l.Dialer]
			f["mepflaps"] = digits(l.Flaps)
			if l.Remote.IsValid() {
				f["mepremote"] = l.Remote.String()
			}
			if !l.LastHeard.IsZero() {
				f["meplastheard"] = l.LastHeard.UTC().Format(time.RFC3339Nano)
			}
			if l.RTT > 0 {
				f["meprttusec"] = digits(l.RTT.Microseconds())
			}
			if l.Incarnation != 0 {
				f["mepincarnation"] = fmt.Sprintf("%016x", l.Incarnation)
			}
			f["mepconfigmatch"] = map[bool]string{true: "NO", false: "YES"}[l.ConfigMismatch]
		}
		f["persistencemepstatus"] = f["status"]
		if !si.NWMetricExchange && !si.SessionExchange {
			f["persistencemepstatus"] = "INACTIVE"
		}
		out[strings.ToLower(si.Name)] = f
	}
}

// digits renders a counter as the appliance does: a string of digits.
func digits[T int | int64 | uint64](n T) string { return strconv.FormatInt(int64(n), 10) }
