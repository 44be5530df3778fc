package mep

import (
	"net/netip"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds persistence sharing (docs/mep.md, "Persistence"): the
// source-IP persistence sessions a parent creates go to the other parents
// every few seconds (PERSIST_SESSIONS), so that a client keeps its site
// whichever parent's ADNS it asks.

// Session is one source-IP persistence session.
type Session struct {
	ID      int        // the vserver's -persistenceId
	Client  netip.Addr // masked
	Service string
	// Created is when the service was chosen for the client (the newer
	// choice wins); Expires when the session ends unless used again.
	Created, Expires time.Time
}

// maxPendingSessions bounds the sessions waiting for the next batch; more
// are dropped (the next answer to that client creates them again).
const maxPendingSessions = 100000

// ShareSessions queues sessions this site created for the other parents.
func (n *Node) ShareSessions(ss []Session) {
	n.mu.Lock()
	defer n.mu.Unlock()
	room := maxPendingSessions - len(n.sessions)
	if room <= 0 {
		return
	}
	n.sessions = append(n.sessions, ss[:min(len(ss), room)]...)
}

// flushSessions sends the queued sessions to every connected parent peer
// with -sessionExchange (called every Timers.Sessions).
func (n *Node) flushSessions() {
	n.mu.Lock()
	ss := n.sessions
	n.sessions = nil
	var to []*link
	for _, l := range n.links {
		if l.peer.Role == wire.Role_PARENT && l.peer.Sessions {
			to = append(to, l)
		}
	}
	self := n.cfg.Site
	n.mu.Unlock()
	if len(ss) == 0 || len(to) == 0 {
		return
	}
	const perFrame = 8192
	for len(ss) > 0 {
		chunk := ss[:min(len(ss), perFrame)]
		ss = ss[len(chunk):]
		m := &wire.PersistSessions{Sessions: make([]*wire.PersistSession, 0, len(chunk))}
		for _, s := range chunk {
			m.Sessions = append(m.Sessions, &wire.PersistSession{PersistenceId: uint32(s.ID), Client: s.Client.AsSlice(),
				ClientBits: uint32(s.Client.BitLen()), Service: s.Service, CreatedUnixMs: unixMilli(s.Created), ExpiresUnixMs: s.Expires.UnixMilli(), Site: self})
		}
		for _, l := range to {
			l.mu.Lock()
			c := l.cur
			l.mu.Unlock()
			if c != nil {
				c.send(wire.TypePersistSessions, m) // a failed write closes the connection
			}
		}
	}
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// sessionsReceived takes a parent peer's sessions.
func (c *conn) sessionsReceived(m *wire.PersistSessions) {
	n := c.l.n
	if n.opts.OnSessions == nil || !c.l.peer.Sessions {
		return
	}
	out := make([]Session, 0, len(m.Sessions))
	for _, s := range m.Sessions {
		ip, ok := netip.AddrFromSlice(s.Client)
		if !ok || s.Removed || s.Service == "" || !strings.EqualFold(s.Site, c.l.peer.Name) && s.Site != "" {
			continue
		}
		ss := Session{ID: int(s.PersistenceId), Client: ip.Unmap(), Service: s.Service, Expires: time.UnixMilli(s.ExpiresUnixMs)}
		if s.CreatedUnixMs != 0 {
			ss.Created = time.UnixMilli(s.CreatedUnixMs)
		}
		out = append(out, ss)
	}
	if len(out) > 0 {
		n.opts.OnSessions(out)
	}
}
