package mep

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// parentChildHealth: parents p1 and p2, c1 a child of p1; one service
// each, monitored where it is.
func parentChildHealth(self string) health.Config {
	var hc health.Config
	for _, s := range []string{"p1", "p2", "c1"} {
		hc.Sites = append(hc.Sites, health.SiteConfig{Name: s, Local: s == self, Exchange: true})
		hc.Services = append(hc.Services, health.ServiceConfig{Name: "svc_" + s, Site: s, Local: s == self, Monitored: s == self})
	}
	return hc
}

// TestChildRelayed: p2 has no link to p1's child c1 and learns it through
// p1's CHILD_RELAY: its service's state and changes, the child's link
// going DOWN at p1, and p1 itself going DOWN.
func TestChildRelayed(t *testing.T) {
	ca := newTestCA(t)
	p2 := newSite(t, "p2", ca.identity(t, "p2"), parentChildHealth("p2"))
	p2.node.Update(Config{Site: "p2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "p1", Role: wire.Role_PARENT}},
		Relayed: map[string][]string{"c1": {"p1"}}})
	c1 := newSite(t, "c1", ca.identity(t, "c1"), parentChildHealth("c1"))
	c1.node.Update(Config{Site: "c1", Role: wire.Role_CHILD, Listen: lo, Peers: []Peer{{Name: "p1", Role: wire.Role_PARENT}}})
	p2addr, _ := p2.node.Addrs()
	c1addr, _ := c1.node.Addrs()
	p1 := newSite(t, "p1", ca.identity(t, "p1"), parentChildHealth("p1"))
	p1.node.Update(Config{Site: "p1", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{
		{Name: "p2", Role: wire.Role_PARENT, Addr: p2addr, Dial: true}, {Name: "c1", Role: wire.Role_CHILD, Addr: c1addr, Dial: true}}})
	if ss, _ := p2.store.Service("svc_c1"); ss.Link != health.LinkConnecting {
		t.Errorf("p2's view of c1 before any relay: %+v, want CONNECTING", ss)
	}
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Up, Source: "test"})
	waitFor(t, "p2 sees c1's service UP through p1", 10*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Up })
	if ss, _ := c1.store.Service("svc_p1"); ss.Peer != health.Unknown {
		t.Errorf("the child was sent its parent's service (%+v): children hold their own services only", ss)
	}
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Down, Source: "test"})
	waitFor(t, "p2 sees c1's change", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Down })
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Up, Source: "test"})
	waitFor(t, "p2 sees c1 UP again", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Up })

	// The child goes away: p1's link to it is DOWN, and p2 is told.
	c1.node.Close()
	waitFor(t, "p2 drops c1's service", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Down })
	if ss, _ := p2.store.Service("svc_c1"); ss.Link != health.LinkDown {
		t.Errorf("p2's view of c1 after it left p1: %+v", ss)
	}
	if r := p2.out.get("svc_c1").Reason; !strings.Contains(r, "DOWN") {
		t.Errorf("reason %q", r)
	}

	// The parent goes away: its children go with it at p2.
	p2.store.SetLink("c1", health.LinkUp, "test: as if relayed UP")
	p2.store.FromPeer("c1", true, []health.PeerState{{Service: "svc_c1", State: health.Up}})
	waitFor(t, "svc_c1 UP at p2 (set by the test)", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Up })
	p1.node.Close()
	waitFor(t, "p2 drops p1's child with p1", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Down })
	if ss, _ := p2.store.Service("svc_c1"); ss.Link != health.LinkDown {
		t.Errorf("c1 at p2 after p1 left: %+v", ss)
	}
}

// TestRelayOfAnotherParentsChildRefused: a parent relaying a child the
// configuration gives to another parent is not believed; the same relay
// from the right parent is.
func TestRelayOfAnotherParentsChildRefused(t *testing.T) {
	_, dc2 := pair(t)
	hc := twoSiteHealth("dc2")
	hc.Sites = append(hc.Sites, health.SiteConfig{Name: "c9", Exchange: true})
	hc.Services = append(hc.Services, health.ServiceConfig{Name: "svc_c9", Site: "c9"})
	dc2.store.Update(hc)
	dc2.node.mu.Lock()
	dc2.node.cfg.Relayed = map[string][]string{"c9": {"dc3"}}
	l := dc2.node.links["dc1"]
	dc2.node.mu.Unlock()
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	relay := &wire.ChildRelay{Child: "c9", ChildLink: wire.LinkState_LINK_UP, Full: true,
		Update: &wire.SiteUpdate{Services: []*wire.Service{{Name: "svc_c9", State: wire.State_UP}}}}
	c.childRelayed(relay)
	if ss, _ := dc2.store.Service("svc_c9"); ss.Peer != health.Unknown || ss.Link == health.LinkUp {
		t.Errorf("dc1's relay of dc3's child was believed: %+v", ss)
	}
	dc2.node.mu.Lock()
	dc2.node.cfg.Relayed = map[string][]string{"c9": {"dc1"}}
	dc2.node.mu.Unlock()
	c.childRelayed(relay)
	if ss, _ := dc2.store.Service("svc_c9"); ss.Peer != health.Up || ss.Result.State != health.Up {
		t.Errorf("dc1's relay of its own child: %+v", ss)
	}
}

// TestBackupParentAdopts: c1's parent p1 dies; p2, its backup parent,
// adopts it after a keep-alive and relays it to p3, which keeps c1's
// service answered throughout (the adoption grace) and follows its changes
// through p2; when p1 is back for two keep-alives, p2 hands c1 back.
func TestBackupParentAdopts(t *testing.T) {
	ca := newTestCA(t)
	health4 := func(self string) health.Config {
		var hc health.Config
		for _, s := range []string{"p1", "p2", "p3", "c1"} {
			sc := health.SiteConfig{Name: s, Local: s == self, Exchange: true}
			if s == "c1" && self != "p1" && self != "c1" {
				sc.Grace = 3 * time.Second
			}
			hc.Sites = append(hc.Sites, sc)
			hc.Services = append(hc.Services, health.ServiceConfig{Name: "svc_" + s, Site: s, Local: s == self, Monitored: s == self})
		}
		return hc
	}
	relayed := map[string][]string{"c1": {"p1", "p2"}}
	p3 := newSite(t, "p3", ca.identity(t, "p3"), health4("p3"))
	p3.node.Update(Config{Site: "p3", Role: wire.Role_PARENT, Listen: lo, Relayed: relayed,
		Peers: []Peer{{Name: "p1", Role: wire.Role_PARENT}, {Name: "p2", Role: wire.Role_PARENT}}})
	p3addr, _ := p3.node.Addrs()
	c1 := newSite(t, "c1", ca.identity(t, "c1"), health4("c1"))
	c1.node.Update(Config{Site: "c1", Role: wire.Role_CHILD, Listen: lo,
		Peers: []Peer{{Name: "p1", Role: wire.Role_PARENT}, {Name: "p2", Role: wire.Role_PARENT}}})
	c1addr, _ := c1.node.Addrs()
	p2 := newSite(t, "p2", ca.identity(t, "p2"), health4("p2"))
	p2.node.Update(Config{Site: "p2", Role: wire.Role_PARENT, Listen: lo, Relayed: relayed,
		Peers:     []Peer{{Name: "p1", Role: wire.Role_PARENT}, {Name: "p3", Role: wire.Role_PARENT, Addr: p3addr, Dial: true}},
		Adoptable: []Adoption{{Child: Peer{Name: "c1", Role: wire.Role_CHILD, Addr: c1addr, Dial: true}, Parent: "p1"}}})
	p2addr, _ := p2.node.Addrs()
	p1cfg := Config{Site: "p1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "p2", Role: wire.Role_PARENT, Addr: p2addr, Dial: true},
		{Name: "p3", Role: wire.Role_PARENT, Addr: p3addr, Dial: true}, {Name: "c1", Role: wire.Role_CHILD, Addr: c1addr, Dial: true}}}
	p1 := newSite(t, "p1", ca.identity(t, "p1"), health4("p1"))
	p1.node.Update(p1cfg)
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Up, Source: "test"})
	waitFor(t, "p3 answering c1's service through p1", 10*time.Second, func() bool { return p3.out.get("svc_c1").State == health.Up })
	if l := p2.link("c1"); l.Site != "" {
		t.Fatalf("p2 adopted c1 while p1 is UP: %+v", l)
	}

	waitFor(t, "p2 linked to p1", 10*time.Second, func() bool { return p2.link("p1").State == health.LinkUp })
	died := time.Now()
	p1.node.Close()
	var adopted time.Duration
	for time.Since(died) < 4*time.Second {
		if st := p3.out.get("svc_c1").State; st != health.Up {
			t.Fatalf("p3 dropped c1's service %v after p1 died (%s): the grace should cover the adoption", time.Since(died), p3.out.get("svc_c1").Reason)
		}
		if adopted == 0 && p2.link("c1").State == health.LinkUp {
			adopted = time.Since(died)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if adopted == 0 {
		t.Fatalf("p2 did not adopt c1: %+v", p2.link("c1"))
	}
	t.Logf("p2 adopted c1 %v after p1 died (keep-alive %v)", adopted, testTimers.KeepAlive)
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Down, Source: "test"})
	waitFor(t, "p3 follows c1 through p2", 5*time.Second, func() bool { return p3.out.get("svc_c1").State == health.Down })
	if r := p3.out.get("svc_c1").Reason; !strings.Contains(r, "MEP") {
		t.Logf("reason %q", r)
	}
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Up, Source: "test"})
	waitFor(t, "p3 sees c1 UP through p2", 5*time.Second, func() bool { return p3.out.get("svc_c1").State == health.Up })

	// p1 returns: after two keep-alives p2 hands c1 back.
	p1b := newSite(t, "p1", ca.identity(t, "p1"), health4("p1"))
	p1b.node.Update(p1cfg)
	waitFor(t, "p2 handing c1 back", 10*time.Second, func() bool { return p2.link("c1").Site == "" })
	// Handing back is not losing: p2 keeps answering c1's service, now
	// through p1's relay.
	for end := time.Now().Add(2*testTimers.KeepAlive + 3*time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) { // past the grace
		if r := p2.out.get("svc_c1"); r.State != health.Up || strings.Contains(r.Reason, "kept until") {
			t.Fatalf("p2 lost c1 when it handed c1 back: %s (%s)", r.State, r.Reason)
		}
	}
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Down, Source: "test"})
	waitFor(t, "p3 follows c1 through p1 again", 5*time.Second, func() bool { return p3.out.get("svc_c1").State == health.Down })
	if !strings.Contains(p2.logs.String(), "child site handed back to its parent") {
		t.Error("p2 did not log the hand-back")
	}
	// p2 itself follows c1 through p1 after the hand-back.
	waitFor(t, "p2 follows c1 through p1 after the hand-back", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Down })
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Up, Source: "test"})
	waitFor(t, "p2 sees c1 UP through p1", 5*time.Second, func() bool { return p2.out.get("svc_c1").State == health.Up })

	// p1 dies a second time: p2 adopts c1 again.
	p1b.node.Close()
	waitFor(t, "p2 adopting c1 a second time", 10*time.Second, func() bool { return p2.link("c1").State == health.LinkUp })
	c1.store.Report(health.Report{Service: "svc_c1", State: health.Down, Source: "test"})
	waitFor(t, "p3 follows c1 through p2 again", 5*time.Second, func() bool { return p3.out.get("svc_c1").State == health.Down })
}

// TestSessionsShared: persistence sessions queued at one parent reach the
// other's OnSessions within the batch interval, when both exchange
// sessions; a peer without -sessionExchange gets none.
func TestSessionsShared(t *testing.T) {
	for _, share := range []bool{true, false} {
		ca := newTestCA(t)
		got := make(chan []Session, 10)
		dc2 := &site{name: "dc2", out: &sink{last: map[string]health.Report{}, metrics: map[string]*health.Metrics{}}, logs: &logBuf{}}
		dc2.store = health.NewStore(health.Options{Out: dc2.out})
		dc2.store.Update(twoSiteHealth("dc2"))
		tm := testTimers
		tm.Sessions = 100 * time.Millisecond
		dc2.node = New(Options{Store: dc2.store, Identity: ca.identity(t, "dc2"), Timers: tm, OnSessions: func(ss []Session) { got <- ss }})
		t.Cleanup(func() { dc2.node.Close(); dc2.store.Close() })
		dc2.node.Update(Config{Site: "dc2", Role: wire.Role_PARENT, Listen: lo, Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT, Sessions: share}}})
		addr, _ := dc2.node.Addrs()
		dc1 := newSite(t, "dc1", ca.identity(t, "dc1"), twoSiteHealth("dc1"))
		dc1.node.Update(Config{Site: "dc1", Role: wire.Role_PARENT, Peers: []Peer{{Name: "dc2", Role: wire.Role_PARENT, Addr: addr, Dial: true, Sessions: share}}})
		waitFor(t, "the link UP", 10*time.Second, func() bool { return dc1.link("dc2").State == health.LinkUp })
		exp := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		dc1.node.ShareSessions([]Session{{ID: 10, Client: netip.MustParseAddr("10.1.2.0"), Service: "svc1", Expires: exp}})
		select {
		case ss := <-got:
			if !share {
				t.Fatalf("sessions sent without -sessionExchange: %+v", ss)
			}
			if len(ss) != 1 || ss[0].ID != 10 || ss[0].Client.String() != "10.1.2.0" || ss[0].Service != "svc1" || !ss[0].Expires.Equal(exp) {
				t.Fatalf("sessions %+v", ss)
			}
		case <-time.After(3 * time.Second):
			if share {
				t.Fatal("no sessions within 3s (batch 100ms)")
			}
		}
	}
}
