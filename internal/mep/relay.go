package mep

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds the parent-child relay (docs/mep.md, "Parents and
// children"): a parent passes what its children report, and the state of
// its links to them, to the other parents (CHILD_RELAY); a parent learns
// another parent's children only that way.

// childView is what a parent knows of one of its children (link.child).
type childView struct {
	services map[string]*wire.Service
	epoch    uint64
}

// keep records a child's report (l.mu held by the caller).
func (v *childView) keep(full bool, svcs []*wire.Service) {
	if full || v.services == nil {
		v.services = make(map[string]*wire.Service, len(svcs))
	}
	for _, s := range svcs {
		v.services[s.Name] = s
	}
	if full {
		v.epoch++
	}
}

// childReported takes a child's SITE_FULL or SITE_DELTA on its link and
// tells the parent links to relay it.
func (l *link) childReported(full bool, svcs []*wire.Service) {
	if l.peer.Role != wire.Role_CHILD {
		return
	}
	l.mu.Lock()
	if l.child == nil {
		l.child = &childView{}
	}
	l.child.keep(full, svcs)
	l.mu.Unlock()
	l.n.relayChanged(l.peer.Name)
}

// relayChanged marks a child to be relayed on every parent link.
func (n *Node) relayChanged(child string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.links {
		if l.peer.Role == wire.Role_PARENT {
			l.relayDirty(child)
		}
	}
}

// relayDirty marks child on the link's connection and wakes it.
func (l *link) relayDirty(child string) {
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	if c == nil {
		return
	}
	c.relayMu.Lock()
	if c.relay == nil {
		c.relay = map[string]bool{}
	}
	c.relay[strings.ToLower(child)] = true
	c.relayMu.Unlock()
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// relayAll marks every child of this site on a new parent connection.
func (n *Node) relayAll(c *conn) {
	if c.l.peer.Role != wire.Role_PARENT {
		return
	}
	n.mu.Lock()
	var children []string
	for _, l := range n.links {
		if l.peer.Role == wire.Role_CHILD {
			children = append(children, l.peer.Name)
		}
	}
	n.mu.Unlock()
	c.relayMu.Lock()
	if c.relay == nil {
		c.relay = map[string]bool{}
	}
	for _, ch := range children {
		c.relay[strings.ToLower(ch)] = true
	}
	c.relayMu.Unlock()
}

func relayLink(l health.Link) wire.LinkState {
	switch l {
	case health.LinkUp, health.LinkSuspect:
		return wire.LinkState_LINK_UP
	case health.LinkDown, health.LinkDisabled:
		return wire.LinkState_LINK_DOWN
	}
	return wire.LinkState_LINK_LEARNING
}

// sendRelays sends CHILD_RELAY for the children marked on this parent
// connection: the child's last full view and this site's link to it.
func (c *conn) sendRelays() error {
	c.relayMu.Lock()
	dirty := c.relay
	c.relay = nil
	c.relayMu.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	n := c.l.n
	for _, child := range slices.Sorted(maps.Keys(dirty)) {
		n.mu.Lock()
		cl := n.links[child]
		n.mu.Unlock()
		if cl == nil || cl.peer.Role != wire.Role_CHILD {
			continue
		}
		cl.mu.Lock()
		if cl.adoptedLearning(cl.state) {
			// Adopting: the others keep the child's last state until this
			// link has learnt it (its UP marks it again).
			cl.mu.Unlock()
			continue
		}
		m := &wire.ChildRelay{Child: cl.peer.Name, ChildLink: relayLink(cl.state), Full: true, Update: &wire.SiteUpdate{Site: cl.peer.Name}}
		if v := cl.child; v != nil {
			m.Epoch = v.epoch
			for _, name := range slices.Sorted(maps.Keys(v.services)) {
				m.Update.Services = append(m.Update.Services, v.services[name])
			}
		}
		cl.mu.Unlock()
		if err := c.send(wire.TypeChildRelay, m); err != nil {
			return err
		}
	}
	return nil
}

// childRelayed takes a CHILD_RELAY from a parent peer. It is believed
// from the child's parent, or from a backup parent of it when every
// relayer ranked before that one is DOWN here; never while this site has
// adopted the child itself.
func (c *conn) childRelayed(m *wire.ChildRelay) {
	n := c.l.n
	key := strings.ToLower(m.Child)
	n.mu.Lock()
	relayers := n.cfg.Relayed[key]
	own := n.links[key]
	n.mu.Unlock()
	rank := slices.IndexFunc(relayers, func(p string) bool { return strings.EqualFold(p, c.l.peer.Name) })
	switch {
	case rank < 0:
		n.log.Debug("relay of a child that is not the site's", "site", c.l.peer.Name, "child", m.Child)
		return
	case own != nil:
		return // adopted here: this site's own link decides
	case slices.ContainsFunc(relayers[:rank], n.live):
		return // a relayer ranked before it is alive: it decides
	}
	st := map[wire.LinkState]health.Link{wire.LinkState_LINK_UP: health.LinkUp, wire.LinkState_LINK_DOWN: health.LinkDown}[m.ChildLink]
	if st == health.LinkNone {
		st = health.LinkLearning
	}
	how := "its parent"
	if rank > 0 {
		how = "its backup parent"
	}
	n.mu.Lock()
	if n.relayedBy == nil {
		n.relayedBy = map[string]string{}
	}
	n.relayedBy[key] = c.l.peer.Name
	n.mu.Unlock()
	n.opts.Store.SetLink(m.Child, st, fmt.Sprintf("relayed by %s %s: %s", how, c.l.peer.Name, st))
	switch {
	case st == health.LinkDown:
		// The parent lost the child itself (§7.11: nobody adopts it):
		// what it said before is not kept for any grace.
		n.opts.Store.FromPeer(m.Child, true, nil)
	case m.Update != nil && st == health.LinkUp:
		n.opts.Store.FromPeer(m.Child, m.Full, n.peerStates(m.Update.Services, time.Now()))
	}
}

// live reports whether the link to a site is UP here.
func (n *Node) live(site string) bool {
	n.mu.Lock()
	l := n.links[strings.ToLower(site)]
	n.mu.Unlock()
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.Exchanging()
}

// parentLost: the link to parent p is DOWN; the children this site last
// learnt through p are DOWN with it (the store keeps their last state for
// the adoption grace, in which a backup parent may adopt and relay them).
func (n *Node) parentLost(p, why string) {
	n.mu.Lock()
	var children []string
	for child, by := range n.relayedBy {
		if strings.EqualFold(by, p) && n.links[child] == nil {
			children = append(children, child)
			delete(n.relayedBy, child)
		}
	}
	n.mu.Unlock()
	for _, ch := range children {
		n.opts.Store.SetLink(ch, health.LinkDown, fmt.Sprintf("its parent %s is DOWN (%s)", p, why))
	}
}
