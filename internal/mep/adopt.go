package mep

import (
	"slices"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds adoption (docs/mep.md, "Parents and children"): a
// backup parent dials a child whose parent is lost here, relays it to the
// other parents, and lets it go once the parent is back.

// notLiveFor is how long the link to a site has not been UP here (0: it
// is UP; a site with no link: forever), and whether it was ever UP.
func (n *Node) notLiveFor(site string, now time.Time) (time.Duration, bool) {
	n.mu.Lock()
	l := n.links[strings.ToLower(site)]
	n.mu.Unlock()
	if l == nil {
		return time.Duration(1<<63 - 1), false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.Exchanging() {
		return 0, true
	}
	return now.Sub(l.since), l.wasUp
}

// neverUpWait is adoptAfter's factor for a parent never seen UP.
const neverUpWait = 15

// adoptAfter is how long a child's parent must not have been UP here
// before this backup parent adopts the child: the keep-alive once the
// parent was UP and was lost; fifteen keep-alives (30 s by default) for a
// parent never seen UP since this site started or the link was
// configured. A mesh still coming up, or starved, must not adopt every
// child whose parent it has not reached yet: the extra handshakes kept a
// 1,056-site start-up on a loaded machine from ever converging (it does
// in 14 s with this wait, bench/mep).
func adoptAfter(t Timers, wasUp bool) time.Duration {
	if wasUp {
		return t.KeepAlive
	}
	return neverUpWait * t.KeepAlive
}

// liveFor is how long the link to a site has been UP here (0: it is not).
func (n *Node) liveFor(site string, now time.Time) time.Duration {
	n.mu.Lock()
	l := n.links[strings.ToLower(site)]
	n.mu.Unlock()
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.state.Exchanging() {
		return 0
	}
	return now.Sub(l.since)
}

// adoptTick adopts the children whose parent, and every backup parent
// ranked before this site, have not been UP here for a keep-alive, and
// lets an adopted child go once its parent has been UP for two keep-alives
// (time to learn it again) or a backup ranked before this site is UP.
func (n *Node) adoptTick(now time.Time) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	ads := n.cfg.Adoptable
	n.mu.Unlock()
	t := n.timers()
	// A starved process does not adopt: the parent it sees as silent may
	// be well (the local-lag guard), and the handshakes would starve it
	// more. It adopts once its timers run on time again.
	starved := n.Lag() > max(t.Heartbeat/2, 100*time.Millisecond)
	for _, a := range ads {
		key := strings.ToLower(a.Child.Name)
		n.mu.Lock()
		l := n.links[key]
		n.mu.Unlock()
		earlier := slices.ContainsFunc(a.Before, func(b string) bool { return n.liveFor(b, now) > 0 })
		lost := func(site string) bool {
			d, wasUp := n.notLiveFor(site, now)
			return d >= adoptAfter(t, wasUp)
		}
		switch {
		case l == nil && !earlier && !starved && lost(a.Parent):
			n.mu.Lock()
			if n.links[key] == nil && !n.closed {
				l = n.newAdoptedLink(a.Child)
				n.links[key] = l
				n.log.Info("adopting child site: its parent is not UP here", "child", a.Child.Name, "parent", a.Parent)
			}
			n.mu.Unlock()
		case l != nil && l.adopted && (earlier || n.liveFor(a.Parent, now) >= 2*t.KeepAlive):
			// Handing back is not losing the child: what this link learnt
			// stays current, and the site it goes back to relays it from
			// now on (its relays are believed again once the link is gone).
			to := a.Parent
			if i := slices.IndexFunc(a.Before, func(b string) bool { return n.liveFor(b, now) > 0 }); i >= 0 && n.liveFor(a.Parent, now) < 2*t.KeepAlive {
				to = a.Before[i]
			}
			// Only a link that is exchanging knows the child's current
			// state; one still connecting or learning ends as a loss.
			l.mu.Lock()
			l.handedBack = l.state.Exchanging()
			kept := l.handedBack
			l.mu.Unlock()
			n.mu.Lock()
			if n.links[key] == l {
				delete(n.links, key)
			}
			if kept {
				if n.relayedBy == nil {
					n.relayedBy = map[string]string{}
				}
				n.relayedBy[key] = to
			}
			n.mu.Unlock()
			l.stop(wire.GoodbyeReason_DRAIN, "the child's parent is back")
			if kept {
				n.opts.Store.SetLink(a.Child.Name, health.LinkUp, "handed back: relayed by "+to)
				if !n.live(to) {
					// Lost meanwhile: the child goes with it, as any relayed child.
					n.parentLost(to, "lost while the child was handed back")
				}
			}
			n.log.Info("child site handed back to its parent", "child", a.Child.Name, "parent", a.Parent, "relayed_by", to)
		}
	}
}

// newAdoptedLink starts a link to an adopted child (n.mu held). The store
// keeps the child's last relayed state (the adoption grace) until this
// link has learnt it: LEARNING is not passed on.
func (n *Node) newAdoptedLink(p Peer) *link {
	l := n.newLinkQuiet(p)
	l.adopted = true
	return l
}

// adoptedLearning reports whether a state is one an adopted link keeps
// from the store.
func (l *link) adoptedLearning(st health.Link) bool {
	return l.adopted && (st == health.LinkLearning || st == health.LinkConnecting)
}
