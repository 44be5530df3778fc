package health

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is a Sink that keeps the last state and reason given per
// service, and every report in order.
type recorder struct {
	mu    sync.Mutex
	last  map[string]Report
	all   []Report
	probe [][]string
}

func newRecorder() *recorder { return &recorder{last: map[string]Report{}} }

func (r *recorder) Report(rs ...Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range rs {
		r.all = append(r.all, x)
		if x.State != Unknown {
			r.last[x.Service] = x
		}
	}
}

func (r *recorder) state(svc string) State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[svc].State
}

func (r *recorder) reason(svc string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[svc].Reason
}

func (r *recorder) onProbe(s []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.probe = append(r.probe, slices.Clone(s))
}

// twoSites: dc1 is this site with svc1 (monitored); dc2 is remote with
// svc2 (no monitor) and mon2 (monitored, dc2's -triggerMonitor is tr).
func twoSites(tr Trigger) Config {
	return Config{
		Sites: []SiteConfig{{Name: "dc1", Local: true, Exchange: true}, {Name: "dc2", Trigger: tr, Exchange: true}},
		Services: []ServiceConfig{
			{Name: "svc1", Site: "dc1", Local: true, Monitored: true},
			{Name: "svc2", Site: "dc2"},
			{Name: "mon2", Site: "dc2", Monitored: true},
		},
	}
}

func newTestStore(cfg Config) (*Store, *recorder) {
	rec := newRecorder()
	s := NewStore(Options{Out: rec, OnProbe: rec.onProbe})
	s.Update(cfg)
	return s, rec
}

func TestStoreLocalPassesThrough(t *testing.T) {
	s, rec := newTestStore(twoSites(TriggerAlways))
	defer s.Close()
	if len(rec.all) != 0 {
		t.Fatalf("reports before any source said anything: %+v", rec.all)
	}
	s.Report(Report{Service: "svc1", State: Down, Reason: "probe timed out after 2s", Source: "monitor"})
	if got := rec.last["svc1"]; got.State != Down || got.Reason != "probe timed out after 2s" || got.Source != "monitor" {
		t.Errorf("local service: got %+v, want the monitor's DOWN with its reason and source", got)
	}
	n := len(rec.all)
	s.Report(Report{Service: "svc1", State: Down, Reason: "probe timed out after 2s", Source: "monitor"})
	if len(rec.all) != n {
		t.Errorf("an unchanged report was handed on: %+v", rec.all[n:])
	}
	m := Metrics{}.With(Connections, 7)
	s.Report(Report{Service: "svc1", Metrics: &m})
	if last := rec.all[len(rec.all)-1]; last.Metrics == nil || last.Metrics.Connections != 7 {
		t.Errorf("metrics not handed on: %+v", last)
	}
	if !s.Probing("svc1") || !s.Probing("not-configured") {
		t.Error("a local service (or one not configured) is not probed")
	}
	// A service not in the configuration is taken as local.
	s.Report(Report{Service: "other", State: Up, Reason: "HTTP 200"})
	if rec.state("other") != Up {
		t.Errorf("unconfigured service: %s, want UP", rec.state("other"))
	}
}

func TestStoreRemoteOverMEP(t *testing.T) {
	s, rec := newTestStore(twoSites(TriggerAlways))
	defer s.Close()
	// No exchange runs: svc2 is unknown (answered) and nothing is said.
	if _, ok := rec.last["svc2"]; ok {
		t.Fatalf("svc2 reported with no exchange: %+v", rec.last["svc2"])
	}
	s.SetLink("dc2", LinkConnecting, "dialling")
	if rec.state("svc2") != Down {
		t.Errorf("MEP connecting: svc2 %s, want DOWN", rec.state("svc2"))
	}
	s.SetLink("dc2", LinkLearning, "connected")
	if rec.state("svc2") != Down || !strings.Contains(rec.reason("svc2"), "learning") {
		t.Errorf("MEP learning: svc2 %s (%s), want DOWN, learning", rec.state("svc2"), rec.reason("svc2"))
	}
	if d := s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}, {Service: "svc1", State: Down}, {Service: "nosuch", State: Up}}); d != 2 {
		t.Errorf("dropped %d reports, want 2 (a service of another site, an unknown one)", d)
	}
	if rec.state("svc1") != Unknown {
		t.Errorf("dc2 changed dc1's service: %s", rec.state("svc1"))
	}
	if rec.state("svc2") != Down {
		t.Errorf("still learning: svc2 %s, want DOWN", rec.state("svc2"))
	}
	s.SetLink("dc2", LinkUp, "learnt")
	if rec.state("svc2") != Up {
		t.Errorf("MEP up, reported UP: svc2 %s", rec.state("svc2"))
	}
	s.FromPeer("dc2", false, []PeerState{{Service: "svc2", State: Down}})
	if rec.state("svc2") != Down {
		t.Errorf("delta DOWN: svc2 %s", rec.state("svc2"))
	}
	s.FromPeer("dc2", false, []PeerState{{Service: "svc2", State: Up}})
	s.FromPeer("dc2", true, nil)
	if rec.state("svc2") != Down || !strings.Contains(rec.reason("svc2"), "not reported") {
		t.Errorf("full snapshot without svc2: %s (%s), want DOWN, not reported", rec.state("svc2"), rec.reason("svc2"))
	}
	s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
	s.SetLink("dc2", LinkDown, "keep-alive timeout")
	if rec.state("svc2") != Down || !strings.Contains(rec.reason("svc2"), "MEP DOWN") {
		t.Errorf("MEP down: svc2 %s (%s)", rec.state("svc2"), rec.reason("svc2"))
	}
	// A reconnection forgets what was reported on the old link.
	s.SetLink("dc2", LinkLearning, "reconnected")
	s.SetLink("dc2", LinkUp, "learnt")
	if rec.state("svc2") != Down {
		t.Errorf("up again without a new snapshot: svc2 %s, want DOWN", rec.state("svc2"))
	}
	if got, ok := s.Service("svc2"); !ok || got.Link != LinkUp || got.Result.State != Down {
		t.Errorf("Service(svc2) = %+v, %v", got, ok)
	}
}

func TestStoreDelayTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := twoSites(TriggerAlways)
		cfg.DelayTime = 3 * time.Second
		s, rec := newTestStore(cfg)
		defer s.Close()
		s.SetLink("dc2", LinkUp, "")
		s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
		s.SetLink("dc2", LinkDown, "keep-alive timeout")
		if rec.state("svc2") != Up {
			t.Fatalf("within svcStateDelayTime: svc2 %s, want UP", rec.state("svc2"))
		}
		time.Sleep(2900 * time.Millisecond)
		synctest.Wait()
		if rec.state("svc2") != Up {
			t.Fatalf("2.9s after MEP DOWN: svc2 %s, want UP", rec.state("svc2"))
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if rec.state("svc2") != Down {
			t.Errorf("3.1s after MEP DOWN: svc2 %s, want DOWN", rec.state("svc2"))
		}
		// Back before the hold ends: nothing goes DOWN.
		s.SetLink("dc2", LinkUp, "")
		s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
		s.SetLink("dc2", LinkDown, "")
		time.Sleep(time.Second)
		s.SetLink("dc2", LinkUp, "")
		s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if rec.state("svc2") != Up {
			t.Errorf("link back within the hold: svc2 %s, want UP", rec.state("svc2"))
		}
	})
}

func TestStoreTriggerMEPDown(t *testing.T) {
	s, rec := newTestStore(twoSites(TriggerMEPDown))
	defer s.Close()
	s.SetLink("dc2", LinkUp, "")
	s.FromPeer("dc2", true, []PeerState{{Service: "mon2", State: Up}})
	if s.Probing("mon2") {
		t.Fatal("MEPDOWN with MEP up: mon2 probed")
	}
	s.Report(Report{Service: "mon2", State: Down, Reason: "from a probe started earlier"})
	if rec.state("mon2") != Up {
		t.Fatalf("a monitor not allowed to run decided: mon2 %s", rec.state("mon2"))
	}
	s.SetLink("dc2", LinkDown, "keep-alive timeout")
	if !s.Probing("mon2") {
		t.Fatal("MEPDOWN with MEP down: mon2 not probed")
	}
	if !slices.ContainsFunc(rec.probe, func(p []string) bool { return slices.Equal(p, []string{"mon2"}) }) {
		t.Errorf("OnProbe calls %v, want [mon2] when its monitors may run", rec.probe)
	}
	if rec.state("mon2") != Down {
		t.Errorf("monitor not reported yet, no hold: mon2 %s, want DOWN", rec.state("mon2"))
	}
	s.Report(Report{Service: "mon2", State: Up, Reason: "HTTP 200", Source: "monitor http"})
	if got := rec.last["mon2"]; got.State != Up || got.Reason != "HTTP 200" {
		t.Errorf("monitor's verdict: %+v", got)
	}
	s.SetLink("dc2", LinkLearning, "reconnected")
	s.FromPeer("dc2", true, []PeerState{{Service: "mon2", State: Down}})
	s.SetLink("dc2", LinkUp, "learnt")
	if s.Probing("mon2") || rec.state("mon2") != Down {
		t.Errorf("MEP up again: probing %v, mon2 %s; want MEP's DOWN, no probes", s.Probing("mon2"), rec.state("mon2"))
	}
	// The verdict from before is not reused when monitors start again.
	s.SetLink("dc2", LinkDown, "")
	if got, _ := s.Service("mon2"); got.Monitor != Unknown {
		t.Errorf("monitor state kept across a stop: %s", got.Monitor)
	}
}

func TestStoreTriggerMEPDownSvcDown(t *testing.T) {
	s, rec := newTestStore(twoSites(TriggerMEPDownSvcDown))
	defer s.Close()
	s.SetLink("dc2", LinkUp, "")
	s.FromPeer("dc2", true, []PeerState{{Service: "mon2", State: Up}})
	if s.Probing("mon2") {
		t.Fatal("MEP up, service UP: probed")
	}
	s.FromPeer("dc2", false, []PeerState{{Service: "mon2", State: Down}})
	if !s.Probing("mon2") {
		t.Fatal("MEP reports DOWN: not probed")
	}
	s.Report(Report{Service: "mon2", State: Up, Reason: "TCP connect"})
	if rec.state("mon2") != Up {
		t.Errorf("MEP says DOWN, monitor UP: %s, want UP", rec.state("mon2"))
	}
}

func TestStoreUpdate(t *testing.T) {
	s, rec := newTestStore(twoSites(TriggerAlways))
	defer s.Close()
	s.SetLink("dc2", LinkUp, "")
	s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
	cfg := twoSites(TriggerAlways)
	cfg.Services = append(cfg.Services, ServiceConfig{Name: "svc3", Site: "dc2"})
	s.Update(cfg)
	if rec.state("svc2") != Up {
		t.Errorf("a reload lost dc2's link or svc2's state: %s", rec.state("svc2"))
	}
	if rec.state("svc3") != Down {
		t.Errorf("new remote service not reported by its site: %s, want DOWN", rec.state("svc3"))
	}
	cfg.Sites[1].Exchange = false
	s.Update(cfg)
	if rec.state("svc2") != Down || !strings.Contains(rec.reason("svc2"), "disabled") {
		t.Errorf("-metricExchange DISABLED: svc2 %s (%s)", rec.state("svc2"), rec.reason("svc2"))
	}
	cfg.Services[0].Disabled = true
	s.Update(cfg)
	if rec.state("svc1") != OutOfService {
		t.Errorf("disabled local service: %s, want OUT OF SERVICE", rec.state("svc1"))
	}
	if got := s.Local(); len(got) != 1 || got[0].Name != "svc1" {
		t.Errorf("Local() = %+v, want svc1 only", got)
	}
	if d := s.FromPeer("nosite", true, []PeerState{{Service: "svc2"}}); d != 1 {
		t.Errorf("report from an unknown site: %d dropped, want 1", d)
	}
}

// TestChangesAndLocalMetrics: a local service's state or metrics change
// closes the Changes channel and Local carries the metrics; a remote
// service's report does not wake MEP.
func TestChangesAndLocalMetrics(t *testing.T) {
	rec := newRecorder()
	s := NewStore(Options{Out: rec})
	defer s.Close()
	s.Update(twoSites(TriggerAlways))
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	ch := s.Changes()
	if closed(ch) {
		t.Fatal("Changes closed before any change")
	}
	s.Report(Report{Service: "mon2", State: Up, Source: "test"})
	if closed(ch) {
		t.Fatal("a remote service's report woke the exchange")
	}
	s.Report(Report{Service: "svc1", State: Up, Source: "test"})
	if !closed(ch) {
		t.Fatal("a local state change did not close Changes")
	}
	ch = s.Changes()
	s.Report(Report{Service: "svc1", State: Up, Source: "test"})
	if closed(ch) {
		t.Fatal("an unchanged report closed Changes")
	}
	m := Metrics{}.With(Connections, 7)
	s.Report(Report{Service: "svc1", Metrics: &m})
	if !closed(ch) {
		t.Fatal("new metrics did not close Changes")
	}
	loc := s.Local()
	if len(loc) != 1 || loc[0].Name != "svc1" || loc[0].Result.State != Up || loc[0].Metrics == nil || loc[0].Metrics.Connections != 7 {
		t.Fatalf("Local() = %+v", loc)
	}
	ch = s.Changes()
	s.Update(twoSites(TriggerAlways))
	if !closed(ch) {
		t.Fatal("a configuration update did not close Changes")
	}
}

// TestSiteGraceHolds: a site with an adoption grace keeps its last
// reported state that long after its exchange is lost, then goes DOWN; a
// new report within the grace (the adopter's) is taken.
func TestSiteGraceHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := twoSites(TriggerAlways)
		cfg.Sites[1].Grace = 2 * time.Second
		s, rec := newTestStore(cfg)
		defer s.Close()
		s.SetLink("dc2", LinkUp, "relayed")
		s.FromPeer("dc2", true, []PeerState{{Service: "svc2", State: Up}})
		if rec.state("svc2") != Up {
			t.Fatalf("svc2 %s, want UP", rec.state("svc2"))
		}
		s.SetLink("dc2", LinkDown, "its parent is DOWN")
		time.Sleep(1900 * time.Millisecond)
		synctest.Wait()
		if rec.state("svc2") != Up {
			t.Fatalf("svc2 %s within the grace, want UP (last reported)", rec.state("svc2"))
		}
		time.Sleep(200 * time.Millisecond)
		synctest.Wait()
		if rec.state("svc2") != Down {
			t.Fatalf("svc2 %s after the grace, want DOWN", rec.state("svc2"))
		}
	})
}
