package mep

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gslbd/gslbd/internal/handover"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// This file holds Node: one site's end of every link (listeners, dialers,
// handshakes, and each connection's loop).

// Store is what the exchange reads and feeds (health.Store).
type Store interface {
	SetLink(site string, l health.Link, why string)
	FromPeer(site string, full bool, states []health.PeerState) int
	Local() []health.ServiceState
	Changes() <-chan struct{}
}

// Peer is a site this one exchanges with.
type Peer struct {
	Name string
	// Role is the peer's: PARENT (a peer site) or CHILD.
	Role wire.Role
	// Addr is where the peer listens (its TLS port, or its plain port
	// when Config.Plain).
	Addr netip.AddrPort
	// Dial: this site opens the link (docs/mep.md, "Who connects to
	// whom"); otherwise it waits for the peer.
	Dial bool
	// PSK is the peer's -sitePassword: the key of the plain port when
	// this site dials it.
	PSK []byte
	// Sessions: persistence sessions are exchanged with it (both ends'
	// -sessionExchange ENABLED, parents only).
	Sessions bool
	// NWMetrics: resolvers' RTTs are exchanged with it (both ends'
	// -nwMetricExchange ENABLED, parents only).
	NWMetrics bool
}

// Config is what a Node runs.
type Config struct {
	// Site is this site's name, Role its role.
	Site string
	Role wire.Role
	// Listen is the TLS port's address (invalid: none).
	Listen netip.AddrPort
	// PlainListen is the plain port's address (invalid: none); it needs
	// PSK, this site's -sitePassword.
	PlainListen netip.AddrPort
	PSK         []byte
	// Plain: dial the peers' plain port (HMAC, no encryption).
	Plain bool
	// Source is the address links are dialled from: the site IP, as the
	// appliance dials from its GSLB site IP (invalid, or not an address
	// of this host: the kernel chooses).
	Source netip.Addr
	Peers  []Peer
	// Digest returns the hash of the GSLB configuration this site serves
	// (nil: none), computed when a connection needs it, not on every
	// configuration change.
	Digest func() []byte
	// Relayed are the other parents' children, by lower-case name: the
	// parents whose CHILD_RELAY this site believes, in rank order (the
	// child's parent, then its -backupParentlist).
	Relayed map[string][]string
	// Adoptable are the children this site is a backup parent of: it
	// dials one when its parent and every backup ranked before this site
	// are DOWN here, and lets it go once its parent is back.
	Adoptable []Adoption
	// KeepAlive and Learning override the Timers' when set
	// (-MEPKeepAliveTimeout, -SvcStateLearningTime); a change applies to
	// the next connection.
	KeepAlive, Learning time.Duration
}

func (c Config) digest() []byte {
	if c.Digest == nil {
		return nil
	}
	return c.Digest()
}

// Adoption is a child this site may adopt.
type Adoption struct {
	Child  Peer     // the child, as this site dials it
	Parent string   // its parent
	Before []string // its backup parents ranked before this site
}

// timers are the Timers with cfg's overrides.
func (n *Node) timers() Timers {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.t
	if n.cfg.KeepAlive > 0 {
		t.KeepAlive = n.cfg.KeepAlive
	}
	if n.cfg.Learning > 0 {
		t.Learning = n.cfg.Learning
	}
	return t
}

// Options configure a Node.
type Options struct {
	Logger *slog.Logger
	Store  Store
	// Identity is this site's certificate and CA (nil: no TLS port, no
	// TLS dialling).
	Identity *Identity
	Timers   Timers
	// OnSessions receives the persistence sessions other parents share
	// (nil: they are dropped).
	OnSessions func([]Session)
	// OnLDNSNew receives the resolvers a parent peer asks this site to
	// measure (NW_LDNS_NEW), OnRTT the RTTs a parent peer measured
	// (NW_METRICS); nil: they are dropped.
	OnLDNSNew func(site string, ldns []netip.Prefix)
	OnRTT     func(site string, rtts []RTT)
}

// maxHandshakes bounds concurrent handshakes (docs/mep.md).
const maxHandshakes = 8

// fullChunk is how many services one SITE_FULL frame carries at most;
// more go in further frames flagged MORE.
const fullChunk = 4096

// Node is one site's end of the metric exchange. Update starts, changes
// and stops links; Close says GOODBYE on each.
type Node struct {
	opts        Options
	log         *slog.Logger
	t           Timers
	incarnation uint64
	start       time.Time
	sem         chan struct{}
	lag         atomic.Int64             // this process's recent timer lag (ns)
	id          atomic.Pointer[Identity] // the TLS identity (SetIdentity replaces it)
	pending     atomic.Int64             // accepted connections before their handshake ended
	refusals    atomic.Int64             // refused connections not logged yet
	refusedAt   atomic.Int64             // when a refusal was last logged (unix ns)
	local       atomic.Pointer[localSnap]
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	mu    sync.Mutex
	cfg   Config
	links map[string]*link // lower-case site name
	// relayedBy: the parent whose relay of each child (lower-case) was
	// last believed.
	relayedBy map[string]string
	// sessions wait for the next PERSIST_SESSIONS batch, rtts for the
	// next NW_METRICS one.
	sessions  []Session
	rtts      []RTT
	listeners map[listenKey]net.Listener
	closed    bool
}

type listenKey struct {
	addr  netip.AddrPort
	plain bool
}

// localSnap is this site's services as sent to peers.
type localSnap struct {
	services []*wire.Service
	names    string // the sorted names, joined: a change means a full snapshot
}

// New returns a Node that runs nothing until Update.
func New(opts Options) *Node {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var inc [8]byte
	rand.Read(inc[:])
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{opts: opts, log: log.With("component", "mep"), t: opts.Timers.withDefaults(),
		incarnation: binary.BigEndian.Uint64(inc[:]), start: time.Now(), sem: make(chan struct{}, maxHandshakes),
		ctx: ctx, cancel: cancel, links: map[string]*link{}, listeners: map[listenKey]net.Listener{}}
	n.local.Store(&localSnap{})
	if opts.Identity != nil {
		n.id.Store(opts.Identity)
	}
	n.wg.Add(2)
	go n.watchLocal()
	go n.measureLag()
	return n
}

// Update switches to cfg: listeners open and close, links to new peers
// start, links to removed peers end with GOODBYE(config removed), a peer
// whose address, role or direction changed is reconnected.
func (n *Node) Update(cfg Config) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("mep: closed")
	}
	want := map[listenKey]bool{}
	if cfg.Listen.IsValid() && n.id.Load() != nil {
		want[listenKey{cfg.Listen, false}] = true
	}
	if cfg.PlainListen.IsValid() && len(cfg.PSK) > 0 {
		want[listenKey{cfg.PlainListen, true}] = true
	}
	var errs []error
	for k := range want {
		if n.listeners[k] != nil {
			continue
		}
		ln, err := handover.ListenTCP(k.addr.String()) // SO_REUSEPORT: a successor listens beside this process
		if err != nil {
			errs = append(errs, fmt.Errorf("mep: listen on %s: %w", k.addr, err))
			continue
		}
		n.listeners[k] = ln
		n.log.Info("listening", "addr", ln.Addr().String(), "port", map[bool]string{false: "TLS", true: "plain (HMAC)"}[k.plain])
		n.wg.Add(1)
		go n.acceptLoop(ln, k.plain)
	}
	for k, ln := range n.listeners {
		if !want[k] {
			ln.Close()
			delete(n.listeners, k)
		}
	}
	old := n.cfg.Relayed
	n.cfg = cfg
	// The first snapshot a new link sends is current (watchLocal may not
	// have run since the store changed).
	n.local.Store(n.buildLocal())
	seen := map[string]bool{}
	for _, p := range cfg.Peers {
		key := strings.ToLower(p.Name)
		seen[key] = true
		l := n.links[key]
		if l != nil && l.peer.Addr == p.Addr && l.peer.Dial == p.Dial && l.peer.Role == p.Role && string(l.peer.PSK) == string(p.PSK) && l.peer.Sessions == p.Sessions && l.peer.NWMetrics == p.NWMetrics {
			continue
		}
		if l != nil {
			l.stop(wire.GoodbyeReason_CONFIG_REMOVED, "the site's address or role changed")
		}
		l = n.newLink(p)
		n.links[key] = l
	}
	for _, a := range cfg.Adoptable {
		if l := n.links[strings.ToLower(a.Child.Name)]; l != nil && l.adopted {
			seen[strings.ToLower(a.Child.Name)] = true
		}
	}
	for key, l := range n.links {
		if !seen[key] {
			l.stop(wire.GoodbyeReason_CONFIG_REMOVED, "the site was removed from the configuration")
			delete(n.links, key)
		}
	}
	for child, parents := range cfg.Relayed {
		if _, known := old[child]; !known {
			n.opts.Store.SetLink(child, health.LinkConnecting, "waiting for its parent "+parents[0]+" to relay it")
		}
	}
	return errors.Join(errs...)
}

// Addrs returns the listeners' addresses (tests use port 0).
func (n *Node) Addrs() (tlsAddr, plainAddr netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, ln := range n.listeners {
		a, _ := netip.ParseAddrPort(ln.Addr().String())
		if k.plain {
			plainAddr = a
		} else {
			tlsAddr = a
		}
	}
	return tlsAddr, plainAddr
}

// LinkStatus is one link as `show gslb site` shows it.
type LinkStatus struct {
	Site   string
	State  health.Link
	Since  time.Time
	Reason string
	// Dialer: this site opens the link.
	Dialer bool
	// Remote is the connected peer's address (invalid: not connected).
	Remote netip.AddrPort
	// Flaps counts how often the link went DOWN after being UP.
	Flaps uint64
	// LastHeard is when the last frame arrived; RTT the last round trip
	// measured by heartbeats; Incarnation the peer process's (a new one:
	// it restarted).
	LastHeard   time.Time
	RTT         time.Duration
	Incarnation uint64
	// Frames and bytes on the link, over all its connections.
	FramesIn, FramesOut, BytesIn, BytesOut uint64
	// ConfigMismatch: the connected peer's HELLO carried a configuration
	// digest other than this site's (docs/mep.md, "Frames").
	ConfigMismatch bool
}

// SetIdentity replaces the site's certificate and CA bundle (a reload):
// new connections use them; links already up keep their session.
func (n *Node) SetIdentity(id *Identity) {
	if id != nil {
		n.id.Store(id)
	}
}

// Lag is this process's recent timer lag (the local-health guard).
func (n *Node) Lag() time.Duration { return time.Duration(n.lag.Load()) }

// Links returns every link's status, by site name.
func (n *Node) Links() []LinkStatus {
	n.mu.Lock()
	links := make([]*link, 0, len(n.links))
	for _, l := range n.links {
		links = append(links, l)
	}
	n.mu.Unlock()
	out := make([]LinkStatus, 0, len(links))
	for _, l := range links {
		out = append(out, l.status())
	}
	slices.SortFunc(out, func(a, b LinkStatus) int { return strings.Compare(a.Site, b.Site) })
	return out
}

// Close ends every link with GOODBYE(shutdown) and stops the listeners.
func (n *Node) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	for _, ln := range n.listeners {
		ln.Close()
	}
	for _, l := range n.links {
		l.stop(wire.GoodbyeReason_SHUTDOWN, "the process stops")
	}
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
}

// measureLag measures how late this process's own timer runs (the local
// health of docs/mep.md): the largest lateness of the last two seconds.
func (n *Node) measureLag() {
	defer n.wg.Done()
	tick := n.t.Check
	var window [20]time.Duration
	i := 0
	last := time.Now()
	lastFlush := last
	tm := time.NewTimer(tick)
	defer tm.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case now := <-tm.C:
			n.adoptTick(now)
			if now.Sub(lastFlush) >= n.t.Sessions {
				n.flushSessions()
				n.flushRTTs()
				lastFlush = now
			}
			window[i%len(window)] = max(now.Sub(last)-tick, 0)
			i++
			n.lag.Store(int64(slices.Max(window[:])))
			last = now
			tm.Reset(tick)
		}
	}
}

// watchLocal rebuilds the local snapshot when the store says a local
// service changed, and wakes every connection to send it: state changes
// at once, metric changes at most once per update interval.
func (n *Node) watchLocal() {
	defer n.wg.Done()
	var prev *localSnap
	var lastPub time.Time
	for {
		ch := n.opts.Store.Changes()
		snap := n.buildLocal()
		if prev != nil && !statesDiffer(prev, snap) {
			if wait := time.Until(lastPub.Add(n.t.Update)); wait > 0 {
				select {
				case <-n.ctx.Done():
					return
				case <-time.After(wait):
				}
				ch = n.opts.Store.Changes()
				snap = n.buildLocal()
			}
		}
		n.local.Store(snap)
		prev, lastPub = snap, time.Now()
		n.wakeAll()
		select {
		case <-n.ctx.Done():
			return
		case <-ch:
		}
	}
}

func (n *Node) wakeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.links {
		l.wake()
	}
}

func statesDiffer(a, b *localSnap) bool {
	if a.names != b.names {
		return true
	}
	for i := range a.services {
		if a.services[i].State != b.services[i].State || a.services[i].Effective != b.services[i].Effective {
			return true
		}
	}
	return false
}

func (n *Node) buildLocal() *localSnap {
	loc := n.opts.Store.Local()
	snap := &localSnap{services: make([]*wire.Service, 0, len(loc))}
	var names strings.Builder
	for _, ss := range loc {
		st := ss.Result.State
		if st == health.Unknown && !ss.Monitored {
			st = health.Up // answered as UP here: the peers answer it too
		}
		ws := &wire.Service{Name: ss.Name, State: toWire(st), Effective: toWire(ss.Result.Effective)}
		if m := ss.Metrics; m != nil {
			ws.Has = uint32(m.Has)
			ws.Connections, ws.ResponseTimeUs, ws.BandwidthKbps = m.Connections, uint64(m.ResponseTime/time.Microsecond), m.Bandwidth
			ws.Packets, ws.Load, ws.Overloaded = m.Packets, m.Load, m.Overloaded
		}
		snap.services = append(snap.services, ws)
		names.WriteString(ss.Name)
		names.WriteByte(0)
	}
	snap.names = names.String()
	return snap
}

func toWire(s health.State) wire.State {
	switch s {
	case health.Up:
		return wire.State_UP
	case health.Down:
		return wire.State_DOWN
	case health.OutOfService:
		return wire.State_OUT_OF_SERVICE
	}
	return wire.State_STATE_UNKNOWN
}

func fromWire(s wire.State) health.State {
	switch s {
	case wire.State_UP:
		return health.Up
	case wire.State_DOWN:
		return health.Down
	case wire.State_OUT_OF_SERVICE:
		return health.OutOfService
	}
	return health.Unknown
}

// peerStates converts what a peer sent (metrics stamped now, valid for
// three update intervals).
func (n *Node) peerStates(svcs []*wire.Service, now time.Time) []health.PeerState {
	out := make([]health.PeerState, 0, len(svcs))
	for _, ws := range svcs {
		ps := health.PeerState{Service: ws.Name, State: fromWire(ws.State), Effective: fromWire(ws.Effective)}
		if ws.Has != 0 {
			ps.Metrics = &health.Metrics{At: now, Has: uint8(ws.Has), Connections: ws.Connections,
				ResponseTime: time.Duration(ws.ResponseTimeUs) * time.Microsecond, Bandwidth: ws.BandwidthKbps,
				Packets: ws.Packets, Load: ws.Load, Overloaded: ws.Overloaded, MaxAge: 3 * n.t.Update}
		}
		out = append(out, ps)
	}
	return out
}

// hello is this site's HELLO (or HELLO_ACK) to peer.
func (n *Node) hello(peer string) (*wire.Hello, error) {
	n.mu.Lock()
	cfg := n.cfg
	n.mu.Unlock()
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	t := n.timers()
	return &wire.Hello{Major: wire.Major, Minor: wire.Minor, Site: cfg.Site, Role: cfg.Role, Incarnation: n.incarnation,
		ConfigDigest: cfg.digest(), HeartbeatMs: uint32(t.Heartbeat / time.Millisecond),
		KeepaliveMs: uint32(t.KeepAlive / time.Millisecond), Nonce: nonce, Peer: peer}, nil
}

// handshakeTimeout bounds a handshake, TLS included.
func (n *Node) handshakeTimeout() time.Duration { return max(2*n.timers().KeepAlive, 3*time.Second) }

// acquire takes a handshake slot (false: the node stops).
func (n *Node) acquire() bool {
	select {
	case n.sem <- struct{}{}:
		return true
	case <-n.ctx.Done():
		return false
	}
}

func (n *Node) release() { <-n.sem }

// acceptLoop accepts connections on one port.
func (n *Node) acceptLoop(ln net.Listener, plain bool) {
	defer n.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			n.log.Warn("accept failed", "addr", ln.Addr().String(), "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if n.pending.Add(1) > maxPending {
			// A flood: refuse at once rather than queue (a real site
			// retries with backoff).
			n.pending.Add(-1)
			nc.Close()
			n.refused(nc, errors.New("too many connections in handshake"))
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			c, l, err := n.acceptPending(nc, plain)
			if err != nil {
				n.refused(nc, err)
				nc.Close()
				return
			}
			l.serve(c)
		}()
	}
}

// maxPending bounds the accepted connections that have not finished their
// handshake; more are closed at once.
const maxPending = 256

// acceptPending waits for a new connection's first byte without holding a
// handshake slot (a silent client costs a goroutine until the handshake
// timeout, not a slot), then runs the handshake in one.
func (n *Node) acceptPending(nc net.Conn, plain bool) (*conn, *link, error) {
	counted := true
	defer func() {
		if counted {
			n.pending.Add(-1)
		}
	}()
	nc.SetReadDeadline(time.Now().Add(n.handshakeTimeout()))
	first := make([]byte, 1)
	if _, err := io.ReadFull(nc, first); err != nil {
		return nil, nil, fmt.Errorf("nothing received: %w", err)
	}
	if !n.acquire() {
		return nil, nil, errors.New("stopping")
	}
	defer n.release()
	c, l, err := n.accept(&peeked{Conn: nc, first: first}, plain)
	n.pending.Add(-1)
	counted = false
	return c, l, err
}

// peeked is a connection whose first bytes were read already.
type peeked struct {
	net.Conn
	first []byte
}

func (p *peeked) Read(b []byte) (int, error) {
	if len(p.first) > 0 {
		k := copy(b, p.first)
		p.first = p.first[k:]
		return k, nil
	}
	return p.Conn.Read(b)
}

// refused logs a refused connection, at most once a second with the
// number left unsaid (a flood does not flood the log).
func (n *Node) refused(nc net.Conn, err error) {
	n.refusals.Add(1)
	now := time.Now().UnixNano()
	last := n.refusedAt.Load()
	if now-last < int64(time.Second) || !n.refusedAt.CompareAndSwap(last, now) {
		return
	}
	n.log.Warn("link refused", "remote", nc.RemoteAddr().String(), "err", err, "refused_since_last_log", n.refusals.Swap(0))
}

// handshakeError is a refusal sent to the peer as ERROR before closing.
type handshakeError struct {
	code wire.ErrorCode
	text string
}

func (e *handshakeError) Error() string { return fmt.Sprintf("%s: %s", e.code, e.text) }

func refuse(code wire.ErrorCode, format string, args ...any) error {
	return &handshakeError{code, fmt.Sprintf(format, args...)}
}

// accept runs the acceptor's handshake: TLS (the peer's certificate
// names its site), HELLO, the checks against the configuration,
// HELLO_ACK; on the plain port, the keys and the dialler's first signed
// frame.
func (n *Node) accept(nc net.Conn, plain bool) (*conn, *link, error) {
	nc.SetDeadline(time.Now().Add(n.handshakeTimeout()))
	rw := net.Conn(nc)
	certSite := ""
	if !plain {
		tc := tls.Server(nc, n.id.Load().serverTLS())
		if err := tc.HandshakeContext(n.ctx); err != nil {
			return nil, nil, fmt.Errorf("TLS handshake: %w", err)
		}
		var err error
		if certSite, err = peerSite(tc.ConnectionState()); err != nil {
			return nil, nil, err
		}
		rw = tc
	}
	fc := wire.NewConn(rw)
	f, err := fc.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading HELLO: %w", err)
	}
	if f.Type != wire.TypeHello {
		return nil, nil, fmt.Errorf("the first frame is %s, not HELLO", f.Type)
	}
	helloPayload := slices.Clone(f.Payload)
	var h wire.Hello
	if err := wire.Decode(f, &h); err != nil {
		return nil, nil, err
	}
	l, err := n.checkHello(&h, certSite, plain)
	if err != nil {
		var he *handshakeError
		if errors.As(err, &he) {
			fc.Write(wire.TypeError, 0, &wire.Error{Code: he.code, Text: he.text})
		}
		return nil, nil, fmt.Errorf("site %q: %w", h.Site, err)
	}
	ack, err := n.hello(l.peer.Name)
	if err != nil {
		return nil, nil, err
	}
	ackPayload, err := proto.Marshal(ack)
	if err != nil {
		return nil, nil, err
	}
	if err := fc.WritePayload(wire.TypeHelloAck, 0, ackPayload); err != nil {
		return nil, nil, err
	}
	c := newConn(l, nc, fc, false, &h)
	if plain {
		n.mu.Lock()
		psk := n.cfg.PSK
		n.mu.Unlock()
		d2a, a2d, err := wire.Keys(psk, helloPayload, ackPayload)
		if err != nil {
			return nil, nil, err
		}
		fc.SetKeys(a2d, d2a)
		// The dialler proves the key with its first frame.
		if _, err := fc.Read(); err != nil {
			return nil, nil, fmt.Errorf("site %q: the first signed frame: %w", h.Site, err)
		}
		if err := c.send(wire.TypeHeartbeat, c.heartbeat()); err != nil {
			return nil, nil, err
		}
	}
	nc.SetDeadline(time.Time{})
	return c, l, nil
}

// checkHello checks a dialler's HELLO against the configuration.
func (n *Node) checkHello(h *wire.Hello, certSite string, plain bool) (*link, error) {
	if h.Major != wire.Major {
		n.log.Error("peer speaks another major version of the exchange", "site", h.Site,
			"peer_version", fmt.Sprintf("%d.%d", h.Major, h.Minor), "our_version", fmt.Sprintf("%d.%d", wire.Major, wire.Minor))
		return nil, refuse(wire.ErrorCode_VERSION, "version %d.%d is not supported by %d.%d", h.Major, h.Minor, wire.Major, wire.Minor)
	}
	if !plain && !strings.EqualFold(h.Site, certSite) {
		return nil, refuse(wire.ErrorCode_AUTH, "HELLO names site %q but the certificate names %q", h.Site, certSite)
	}
	n.mu.Lock()
	l := n.links[strings.ToLower(h.Site)]
	self := n.cfg.Site
	n.mu.Unlock()
	switch {
	case l == nil:
		return nil, refuse(wire.ErrorCode_UNKNOWN_SITE, "site %q is not a site this one exchanges with", h.Site)
	case h.Role != l.peer.Role:
		return nil, refuse(wire.ErrorCode_ROLE, "site %q claims role %s but is configured as %s", h.Site, h.Role, l.peer.Role)
	case !strings.EqualFold(h.Peer, self):
		return nil, refuse(wire.ErrorCode_UNKNOWN_SITE, "this is site %q, not %q", self, h.Peer)
	case l.peer.Dial && l.connected():
		// This site dials that one and is connected: the link the rule
		// says should exist is kept.
		return nil, refuse(wire.ErrorCode_DUPLICATE, "site %q dials site %q and is connected", self, h.Site)
	}
	return l, nil
}

// localAddr reports whether a is an address of this host's interfaces
// (binding to another would succeed under net.ipv4.ip_nonlocal_bind and
// then never connect).
// HostAddr reports whether a is an address of this host (any of
// 127.0.0.0/8 when a loopback prefix is configured).
func HostAddr(a netip.Addr) bool { return localAddr(a) }

func localAddr(a netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		// A loopback prefix is local as a whole (127.0.0.0/8 on lo).
		if p, err := netip.ParsePrefix(x.String()); err == nil && (p.Addr().Unmap() == a || a.IsLoopback() && p.Masked().Contains(a)) {
			return true
		}
	}
	return false
}

// dial runs the dialler's handshake.
func (n *Node) dial(l *link) (*conn, error) {
	ctx, cancel := context.WithTimeout(l.ctx, n.handshakeTimeout())
	defer cancel()
	n.mu.Lock()
	plain, src := n.cfg.Plain, n.cfg.Source
	n.mu.Unlock()
	var d net.Dialer
	if src = src.Unmap(); src.IsValid() && src.Is4() == l.peer.Addr.Addr().Unmap().Is4() && localAddr(src) {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	nc, err := d.DialContext(ctx, "tcp", l.peer.Addr.String())
	if err != nil && d.LocalAddr != nil && errors.Is(err, syscall.EADDRNOTAVAIL) {
		// The site IP is not an address of this host (NAT, a public
		// IP): the kernel chooses; identity comes from the certificate.
		d.LocalAddr = nil
		nc, err = d.DialContext(ctx, "tcp", l.peer.Addr.String())
	}
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(n.handshakeTimeout()))
	rw := net.Conn(nc)
	if !plain {
		id := n.id.Load()
		if id == nil {
			nc.Close()
			return nil, errors.New("no site certificate for the TLS port")
		}
		tc := tls.Client(nc, id.clientTLS(l.peer.Name))
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		rw = tc
	}
	c, err := n.dialHello(l, nc, rw, plain)
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

func (n *Node) dialHello(l *link, nc net.Conn, rw net.Conn, plain bool) (*conn, error) {
	fc := wire.NewConn(rw)
	h, err := n.hello(l.peer.Name)
	if err != nil {
		return nil, err
	}
	helloPayload, err := proto.Marshal(h)
	if err != nil {
		return nil, err
	}
	if err := fc.WritePayload(wire.TypeHello, 0, helloPayload); err != nil {
		return nil, err
	}
	f, err := fc.Read()
	if err != nil {
		return nil, fmt.Errorf("reading HELLO_ACK: %w", err)
	}
	switch f.Type {
	case wire.TypeHelloAck:
	case wire.TypeError:
		var e wire.Error
		wire.Decode(f, &e)
		return nil, fmt.Errorf("refused: %s: %s", e.Code, e.Text)
	default:
		return nil, fmt.Errorf("the answer to HELLO is %s", f.Type)
	}
	ackPayload := slices.Clone(f.Payload)
	var ack wire.Hello
	if err := wire.Decode(f, &ack); err != nil {
		return nil, err
	}
	switch {
	case ack.Major != wire.Major:
		n.log.Error("peer speaks another major version of the exchange", "site", l.peer.Name,
			"peer_version", fmt.Sprintf("%d.%d", ack.Major, ack.Minor), "our_version", fmt.Sprintf("%d.%d", wire.Major, wire.Minor))
		return nil, fmt.Errorf("peer version %d.%d, ours %d.%d", ack.Major, ack.Minor, wire.Major, wire.Minor)
	case !strings.EqualFold(ack.Site, l.peer.Name):
		return nil, fmt.Errorf("HELLO_ACK from site %q, not %q", ack.Site, l.peer.Name)
	case ack.Role != l.peer.Role:
		return nil, fmt.Errorf("site %q answers as %s but is configured as %s", ack.Site, ack.Role, l.peer.Role)
	}
	c := newConn(l, nc, fc, true, &ack)
	if plain {
		d2a, a2d, err := wire.Keys(l.peer.PSK, helloPayload, ackPayload)
		if err != nil {
			return nil, err
		}
		fc.SetKeys(d2a, a2d)
		if err := c.send(wire.TypeHeartbeat, c.heartbeat()); err != nil {
			return nil, err
		}
		// The acceptor proves the key with its first frame.
		if _, err := fc.Read(); err != nil {
			return nil, fmt.Errorf("the first signed frame: %w", err)
		}
	}
	return c, nil
}

// jitter is a random value in [0, 1).
func jitter() float64 { return mrand.Float64() }
