package mep

import (
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
		Relayed: map[string]string{"c1": "p1"}})
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
	dc2.node.cfg.Relayed = map[string]string{"c9": "dc3"}
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
	dc2.node.cfg.Relayed = map[string]string{"c9": "dc1"}
	dc2.node.mu.Unlock()
	c.childRelayed(relay)
	if ss, _ := dc2.store.Service("svc_c9"); ss.Peer != health.Up || ss.Result.State != health.Up {
		t.Errorf("dc1's relay of its own child: %+v", ss)
	}
}
