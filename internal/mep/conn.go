package mep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds a link (one peer site, across its connections) and a
// connection's loops.

type link struct {
	n      *Node
	peer   Peer
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	cur     *conn
	state   health.Link
	since   time.Time
	why     string
	flaps   uint64
	wasDown bool   // went DOWN before: the next connection is damped
	wasUp   bool   // was UP at least once
	lastErr string // the last dial error logged
	// Totals of the connections that ended (the current one's are in its
	// wire.Conn).
	framesIn, framesOut, bytesIn, bytesOut uint64
	lastHeard                              time.Time
	incarnation                            uint64
	mismatch                               bool // the peer's configuration digest differs
	// child is what a child peer last reported (relay.go).
	child *childView
	// adopted: a child of another parent, adopted here (adopt.go).
	adopted bool
	// handedBack: an adopted child given back; its end is not a loss.
	handedBack bool
}

// newLink starts a link (n.mu held). Until its first connection its
// site's services are not answered on the exchange's word.
func (n *Node) newLink(p Peer) *link {
	l := n.newLinkQuiet(p)
	n.opts.Store.SetLink(p.Name, l.state, l.why)
	return l
}

// newLinkQuiet is newLink without telling the store (n.mu held).
func (n *Node) newLinkQuiet(p Peer) *link {
	ctx, cancel := context.WithCancel(n.ctx)
	l := &link{n: n, peer: p, ctx: ctx, cancel: cancel, state: health.LinkConnecting, since: time.Now(), why: "waiting for the first connection"}
	if p.Dial {
		n.wg.Add(1)
		go l.dialLoop()
	}
	return l
}

// stop ends the link: GOODBYE on its connection, no more dialling.
func (l *link) stop(reason wire.GoodbyeReason, text string) {
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	if c != nil {
		c.goodbye(reason, text) // before the loops see the link stop and close
	}
	l.cancel()
}

func (l *link) connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur != nil
}

func (l *link) wake() {
	l.mu.Lock()
	c := l.cur
	l.mu.Unlock()
	if c != nil {
		select {
		case c.wakeCh <- struct{}{}:
		default:
		}
	}
}

func (l *link) status() LinkStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := LinkStatus{Site: l.peer.Name, State: l.state, Since: l.since, Reason: l.why, Dialer: l.peer.Dial, Flaps: l.flaps,
		FramesIn: l.framesIn, FramesOut: l.framesOut, BytesIn: l.bytesIn, BytesOut: l.bytesOut, LastHeard: l.lastHeard, Incarnation: l.incarnation, ConfigMismatch: l.mismatch}
	if c := l.cur; c != nil {
		s.Remote, _ = netip.ParseAddrPort(c.nc.RemoteAddr().String())
		s.FramesIn += c.fc.FramesIn.Load()
		s.FramesOut += c.fc.FramesOut.Load()
		s.BytesIn += c.fc.BytesIn.Load()
		s.BytesOut += c.fc.BytesOut.Load()
		s.LastHeard = l.n.start.Add(time.Duration(c.lastHeard.Load()))
		s.RTT = time.Duration(c.rtt.Load())
	}
	return s
}

// setState records a state of connection c, if c is still the link's
// (l.mu held).
func (l *link) setState(c *conn, st health.Link, why string) {
	if l.cur != c || l.state == st || l.ctx.Err() != nil {
		return
	}
	if st == health.LinkDown {
		if l.state == health.LinkUp || l.state == health.LinkSuspect {
			l.flaps++
		}
		l.wasDown = true
		l.mismatch = false // known per connection
	}
	l.state, l.since, l.why = st, time.Now(), why
	l.wasUp = l.wasUp || st == health.LinkUp
	if l.adoptedLearning(st) || l.handedBack {
		return
	}
	l.n.opts.Store.SetLink(l.peer.Name, st, why)
	switch {
	case l.peer.Role == wire.Role_CHILD:
		go l.n.relayChanged(l.peer.Name) // takes n.mu: not under l.mu
	case st == health.LinkDown:
		go l.n.parentLost(l.peer.Name, why)
	}
}

// dialLoop connects to the peer and reconnects with backoff.
func (l *link) dialLoop() {
	n := l.n
	defer n.wg.Done()
	if !sleepCtx(l.ctx, time.Duration(jitter()*float64(n.t.Heartbeat))) {
		return
	}
	for attempt := 0; l.ctx.Err() == nil; {
		if !n.acquire() {
			return
		}
		c, err := n.dial(l)
		n.release()
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			l.mu.Lock()
			if msg := err.Error(); msg != l.lastErr {
				l.lastErr = msg
				n.log.Warn("cannot connect to site", "site", l.peer.Name, "addr", l.peer.Addr.String(), "err", err)
			}
			l.mu.Unlock()
			if !sleepCtx(l.ctx, backoff(attempt, jitter(), n.t)) {
				return
			}
			attempt++
			continue
		}
		attempt = 0
		l.mu.Lock()
		l.lastErr = ""
		l.mu.Unlock()
		l.serve(c)
		if !sleepCtx(l.ctx, backoff(0, jitter(), n.t)) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// serve runs a connection until it ends; a newer connection of the same
// link replaces it.
func (l *link) serve(c *conn) {
	n := l.n
	now := time.Now()
	// The digest before l.mu: the lock order is n.mu, then l.mu.
	n.mu.Lock()
	cfg := n.cfg
	n.mu.Unlock()
	own := cfg.digest()
	l.mu.Lock()
	if l.ctx.Err() != nil {
		l.mu.Unlock()
		c.nc.Close()
		return
	}
	old := l.cur
	l.cur = c
	c.view = linkView{state: health.LinkConnecting, connectedAt: now, lastHeard: now, flapped: l.wasDown,
		keepAlive: agreedKeepAlive(c.t.KeepAlive, min(time.Duration(c.hello.KeepaliveMs)*time.Millisecond, time.Minute))}
	c.lastHeard.Store(int64(now.Sub(n.start)))
	how := "accepted"
	if c.dialed {
		how = "dialled"
	}
	l.incarnation = c.hello.Incarnation
	mismatch := len(own) > 0 && len(c.hello.ConfigDigest) > 0 && !bytes.Equal(own, c.hello.ConfigDigest)
	if mismatch && !l.mismatch {
		n.log.Warn("the site's GSLB configuration differs from this site's: the exchange goes on; services it reports that are not configured here are dropped",
			"site", l.peer.Name, "digest", fmt.Sprintf("%x", own[:min(8, len(own))]), "peer_digest", fmt.Sprintf("%x", c.hello.ConfigDigest[:min(8, len(c.hello.ConfigDigest))]))
	}
	l.mismatch = mismatch
	l.setState(c, health.LinkLearning, fmt.Sprintf("connected (%s, %s, incarnation %016x)", how, c.nc.RemoteAddr(), c.hello.Incarnation))
	c.view.state = health.LinkLearning
	l.mu.Unlock()
	if old != nil {
		old.goodbye(wire.GoodbyeReason_DUPLICATE_LINK, "a newer connection replaces this one")
	}
	n.log.Info("site connected", "site", l.peer.Name, "how", how, "remote", c.nc.RemoteAddr().String(), "keepalive", c.view.keepAlive.String())
	go c.readLoop()
	c.runLoop()
	<-c.done
	l.mu.Lock()
	l.framesIn += c.fc.FramesIn.Load()
	l.framesOut += c.fc.FramesOut.Load()
	l.bytesIn += c.fc.BytesIn.Load()
	l.bytesOut += c.fc.BytesOut.Load()
	if l.cur == c {
		l.lastHeard = n.start.Add(time.Duration(c.lastHeard.Load()))
		l.setState(c, health.LinkDown, c.reason)
		l.cur = nil
	}
	l.mu.Unlock()
	n.log.Info("site connection closed", "site", l.peer.Name, "reason", c.reason)
}

type conn struct {
	l      *link
	nc     net.Conn
	fc     *wire.Conn
	dialed bool
	hello  *wire.Hello // the peer's

	wmu       sync.Mutex
	lastHeard atomic.Int64 // since Node.start
	lastSent  atomic.Int64
	peerSent  atomic.Int64 // the peer's last heartbeat time (echoed)
	peerAt    atomic.Int64 // when it arrived (since Node.start)
	rtt       atomic.Int64 // the last round trip measured (ns)
	// relay: the children to relay on this (parent) connection.
	relayMu  sync.Mutex
	relay    map[string]bool
	gotFull  atomic.Bool
	wantFull atomic.Bool
	wakeCh   chan struct{}
	done     chan struct{}
	once     sync.Once
	reason   string // why it closed, set before done is closed

	// t are the timers of this connection (set before it is shared).
	t Timers
	// The run loop's.
	view      linkView
	sent      map[string]sentKey
	sentNames string
	epoch     uint64
	lastFull  time.Time
}

func newConn(l *link, nc net.Conn, fc *wire.Conn, dialed bool, h *wire.Hello) *conn {
	return &conn{l: l, nc: nc, fc: fc, dialed: dialed, hello: h, t: l.n.timers(), wakeCh: make(chan struct{}, 1), done: make(chan struct{})}
}

// sentKey is what a peer was last told of one service.
type sentKey struct {
	state, effective                          wire.State
	has                                       uint32
	connections, rt, bandwidth, packets, load uint64
	overloaded                                bool
}

func keyOf(s *wire.Service) sentKey {
	return sentKey{s.State, s.Effective, s.Has, s.Connections, s.ResponseTimeUs, s.BandwidthKbps, s.Packets, s.Load, s.Overloaded}
}

func (c *conn) since() int64 { return int64(time.Since(c.l.n.start)) }

// send writes one frame; a write that does not finish within the
// keep-alive timeout fails (and closes the connection).
func (c *conn) send(t wire.Type, m proto.Message) error { return c.sendFlags(t, 0, m) }

func (c *conn) heartbeat() *wire.Heartbeat {
	now := c.since()
	h := &wire.Heartbeat{SentNs: now, LagUs: uint32(c.l.n.lag.Load() / int64(time.Microsecond))}
	if echo := c.peerSent.Load(); echo != 0 {
		h.EchoNs, h.EchoHeldNs = echo, now-c.peerAt.Load()
	}
	return h
}

// close ends the connection once, with why.
func (c *conn) close(why string) {
	c.once.Do(func() {
		c.reason = why
		close(c.done)
		c.nc.Close()
	})
}

// goodbye tells the peer why the connection ends and closes it.
func (c *conn) goodbye(reason wire.GoodbyeReason, text string) {
	c.send(wire.TypeGoodbye, &wire.Goodbye{Reason: reason, Text: text})
	c.close(fmt.Sprintf("this site said GOODBYE: %s (%s)", reason, text))
}

func (c *conn) readLoop() {
	n := c.l.n
	var pending []*wire.Service
	for {
		f, err := c.fc.Read()
		if err != nil {
			c.close(readError(err))
			return
		}
		c.lastHeard.Store(c.since())
		switch f.Type {
		case wire.TypeHeartbeat:
			var h wire.Heartbeat
			if err := wire.Decode(f, &h); err != nil {
				c.close(err.Error())
				return
			}
			now := c.since()
			c.peerSent.Store(h.SentNs)
			c.peerAt.Store(now)
			if h.EchoNs > 0 && h.EchoNs <= now {
				// Our own clock's value came back: the round trip, less
				// the time the peer held it.
				if rtt := now - h.EchoNs - max(h.EchoHeldNs, 0); rtt >= 0 {
					c.rtt.Store(rtt)
				}
			}
		case wire.TypeSiteFull, wire.TypeSiteDelta:
			var u wire.SiteUpdate
			if err := wire.Decode(f, &u); err != nil {
				c.close(err.Error())
				return
			}
			full := f.Type == wire.TypeSiteFull
			if full && f.Flags&wire.FlagMore != 0 {
				if len(pending)+len(u.Services) > 1<<20 {
					c.close("SITE_FULL of more than a million services")
					return
				}
				pending = append(pending, u.Services...)
				continue
			}
			svcs := u.Services
			if full && pending != nil {
				svcs, pending = append(pending, svcs...), nil
			}
			if dropped := n.opts.Store.FromPeer(c.l.peer.Name, full, n.peerStates(svcs, time.Now())); dropped > 0 {
				n.log.Debug("site reported services this configuration does not give it", "site", c.l.peer.Name, "dropped", dropped)
			}
			if full {
				c.gotFull.Store(true)
			}
			c.l.childReported(full, svcs)
		case wire.TypeChildRelay:
			var m wire.ChildRelay
			if err := wire.Decode(f, &m); err != nil {
				c.close(err.Error())
				return
			}
			if c.l.peer.Role == wire.Role_PARENT {
				c.childRelayed(&m)
			}
		case wire.TypePersistSessions:
			var m wire.PersistSessions
			if err := wire.Decode(f, &m); err != nil {
				c.close(err.Error())
				return
			}
			if c.l.peer.Role == wire.Role_PARENT {
				c.sessionsReceived(&m)
			}
		case wire.TypeNWLDNSNew, wire.TypeNWMetrics:
			if err := c.nwReceived(f); err != nil {
				c.close(err.Error())
				return
			}
		case wire.TypeForceUpdate:
			c.wantFull.Store(true)
		case wire.TypeGoodbye:
			var g wire.Goodbye
			wire.Decode(f, &g)
			c.close(fmt.Sprintf("the site said GOODBYE: %s (%s)", g.Reason, g.Text))
			return
		case wire.TypeError:
			var e wire.Error
			wire.Decode(f, &e)
			c.close(fmt.Sprintf("the site sent ERROR %s: %s", e.Code, e.Text))
			return
		case wire.TypeHello, wire.TypeHelloAck:
			c.close(fmt.Sprintf("%s after the handshake", f.Type))
			return
		default:
			// Known types this version does not act on yet, and unknown
			// ones a newer minor marked ignorable, are skipped.
			if !f.Type.Known() && f.Flags&wire.FlagIgnorable == 0 {
				c.send(wire.TypeError, &wire.Error{Code: wire.ErrorCode_PROTOCOL, Text: fmt.Sprintf("unknown frame type %d", f.Type)})
				c.close(fmt.Sprintf("unknown frame type %d", f.Type))
				return
			}
		}
	}
}

func readError(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed by the site"
	case errors.Is(err, net.ErrClosed):
		return "the connection was closed"
	}
	return "read: " + err.Error()
}

// runLoop sends (full snapshot first, then changes, heartbeats, a full
// snapshot every Full) and watches the link's deadlines.
func (c *conn) runLoop() {
	n := c.l.n
	t := c.t
	fail := func(err error) { c.close("write: " + err.Error()) }
	if err := c.sendFull(); err != nil {
		fail(err)
		return
	}
	n.relayAll(c)
	if err := c.sendRelays(); err != nil {
		fail(err)
		return
	}
	tick := time.NewTicker(t.Check)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.l.ctx.Done():
			c.close("the link was stopped")
			return
		case <-c.wakeCh:
			if err := c.sendDelta(); err != nil {
				fail(err)
				return
			}
			if err := c.sendRelays(); err != nil {
				fail(err)
				return
			}
		case now := <-tick.C:
			c.view.lastHeard = n.start.Add(time.Duration(c.lastHeard.Load()))
			c.view.gotFull = c.gotFull.Load()
			st, why := nextState(c.view, now, time.Duration(n.lag.Load()), t)
			if st == health.LinkDown {
				c.close(why)
				return
			}
			if st != c.view.state {
				c.view.state = st
				c.l.mu.Lock()
				c.l.setState(c, st, why)
				c.l.mu.Unlock()
				if st == health.LinkUp || st == health.LinkSuspect {
					n.log.Debug("site link", "site", c.l.peer.Name, "state", st.String(), "reason", why)
				}
			}
			var err error
			if c.wantFull.Swap(false) || now.Sub(c.lastFull) >= t.Full {
				err = c.sendFull()
			} else if time.Duration(c.since()-c.lastSent.Load()) >= t.Heartbeat {
				err = c.send(wire.TypeHeartbeat, c.heartbeat())
			}
			if err != nil {
				fail(err)
				return
			}
		}
	}
}

// sendFull sends every local service, in chunks of fullChunk.
func (c *conn) sendFull() error {
	snap := c.l.n.local.Load()
	if c.l.peer.Role == wire.Role_CHILD {
		// A child holds its own services only: it is sent none (the
		// empty snapshot ends its learning).
		snap = &localSnap{}
	}
	c.epoch++
	c.sent = make(map[string]sentKey, len(snap.services))
	for _, s := range snap.services {
		c.sent[s.Name] = keyOf(s)
	}
	c.sentNames, c.lastFull = snap.names, time.Now()
	svcs := snap.services
	for {
		chunk := svcs[:min(len(svcs), fullChunk)]
		svcs = svcs[len(chunk):]
		var flags uint8
		if len(svcs) > 0 {
			flags = wire.FlagMore
		}
		if err := c.sendFlags(wire.TypeSiteFull, flags, &wire.SiteUpdate{Epoch: c.epoch, Services: chunk}); err != nil {
			return err
		}
		if len(svcs) == 0 {
			return nil
		}
	}
}

func (c *conn) sendFlags(t wire.Type, flags uint8, m proto.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.t.KeepAlive))
	if err := c.fc.Write(t, flags, m); err != nil {
		return err
	}
	c.lastSent.Store(c.since())
	return nil
}

// sendDelta sends the services changed since they were last sent (a full
// snapshot when the set of services changed).
func (c *conn) sendDelta() error {
	if c.l.peer.Role == wire.Role_CHILD {
		return nil
	}
	snap := c.l.n.local.Load()
	if snap.names != c.sentNames {
		return c.sendFull()
	}
	var changed []*wire.Service
	for _, s := range snap.services {
		if k := keyOf(s); c.sent[s.Name] != k {
			c.sent[s.Name] = k
			changed = append(changed, s)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	for len(changed) > 0 {
		chunk := changed[:min(len(changed), fullChunk)]
		changed = changed[len(chunk):]
		if err := c.send(wire.TypeSiteDelta, &wire.SiteUpdate{Epoch: c.epoch, Services: chunk}); err != nil {
			return err
		}
	}
	return nil
}
