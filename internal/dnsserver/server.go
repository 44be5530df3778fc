package dnsserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gslbd/gslbd/internal/cookie"
	"github.com/gslbd/gslbd/internal/rrl"
)

// Handler answers one query: it appends the response to dst[:0] and
// returns it, or returns nil to send nothing.
type Handler interface {
	ServeDNS(dst, query []byte, r Request) []byte
}

// Request is how a query arrived: what a handler may decide on besides
// the query's own bytes. One value, so that a new input is a field, not
// a parameter of every function on the answer path.
type Request struct {
	// Src is the client's (source) address, SrcPort its port.
	Src     netip.Addr
	SrcPort uint16
	// Local is the address the query arrived on: the listener's, or for a
	// wildcard UDP listener the datagram's destination (IP_PKTINFO);
	// invalid when unknown.
	Local netip.Addr
	// TCP: the query came over TCP (no size limit on the answer).
	TCP bool
	// Now is when the query was read.
	Now time.Time
	// Reserve is how many bytes a UDP response must leave free under the
	// client's size: the server adds them to the response's OPT record
	// afterwards (the DNS cookie).
	Reserve int
}

// Options tune a Server. The zero value gives the defaults below.
type Options struct {
	// UDPWorkers is the number of goroutines reading each UDP socket
	// (default GOMAXPROCS). More workers hide scheduling latency; each
	// holds a 64 KiB buffer.
	UDPWorkers int
	// TCPMaxConns caps concurrent TCP connections (default 4096; one that
	// has sent nothing costs its goroutine, about 8 KiB). A new
	// connection beyond it closes the idlest one instead of being refused
	// (RFC 7766 §6.2.3: under pressure the server closes idle
	// connections), so that clients holding connections open without
	// asking keep no one else out. The cap should exceed the connections
	// such clients can hold: beyond it each one closed reconnects at once
	// and waits in the kernel's accept queue, first in first out, before
	// every newcomer.
	TCPMaxConns int
	// TCPMaxPerSource caps one client address's concurrent connections
	// (default 100; negative: no cap); more are closed at once.
	TCPMaxPerSource int
	// TCPIdleTimeout closes a connection that sends no query for this long
	// (default 10s, as Knot; RFC 7766 §6.2.3 asks for seconds, not
	// minutes). Above half of TCPMaxConns it shrinks, as Unbound's does,
	// linearly down to a tenth of it (at least 200 ms) at the cap.
	TCPIdleTimeout time.Duration
	// TCPIOTimeout bounds reading the rest of a message once its first
	// byte came, and writing a response (default 2s: slowloris defence).
	TCPIOTimeout time.Duration
	// UDPBuffer is the receive and send buffer of each UDP socket
	// (default 4 MiB; negative: the system's, net.core.rmem_default).
	// The system's 208 KiB holds about 200 queries: a pause of 20 ms at
	// 10,000 QPS (a garbage collection, a scrape of a large metrics page
	// with one CPU) would overflow it and lose queries.
	UDPBuffer int
	// PlainUDP makes UDP workers use one ReadFrom/WriteTo per packet
	// instead of batched recvmmsg/sendmmsg on Linux (udp_linux.go says why
	// batching is the default).
	PlainUDP bool
	// Logger for listener errors (nil: discard).
	Logger *slog.Logger
	// Cookies, if set, makes and checks DNS cookies (RFC 7873, RFC 9018):
	// a response to a query with a client cookie carries a server cookie,
	// and a query with a valid server cookie is never rate limited.
	Cookies *cookie.Jar
	// Tap, if set, is given every query and its response (nil when none
	// was sent) once answered: the query log (dnstap). It must not wait
	// nor keep the slices.
	Tap Tap
}

// Tap receives what was answered (Options.Tap).
type Tap interface {
	Log(q, resp []byte, r Request)
}

// querySlot is the longest UDP query accepted; longer ones are dropped
// (no real query comes near it: one question and an OPT record).
const querySlot = 4096

// Server serves DNS on any number of sockets with one Handler.
type Server struct {
	h     Handler
	opts  Options
	log   *slog.Logger
	Stats Stats

	// rrl limits UDP responses (nil: off); SetRRL replaces it.
	rrl atomic.Pointer[rrl.Limiter]

	// open is len(conns), read without the lock for each TCP query's
	// idle timeout.
	open atomic.Int64
	// draining: Drain was called; workers stop at their next read.
	draining atomic.Bool

	mu      sync.Mutex
	closers []io.Closer
	conns   map[net.Conn]*tcpConn
	perSrc  map[netip.Addr]int
	wg      sync.WaitGroup
	closed  bool
}

// tcpConn is a served TCP connection: its client and when it last sent
// a query (or was accepted), in Unix nanoseconds.
type tcpConn struct {
	c    net.Conn
	src  netip.Addr
	port uint16
	// idle: waiting for the first byte of a query (Drain wakes it).
	idle atomic.Bool
	last atomic.Int64
}

// New returns a server for h.
func New(h Handler, opts Options) *Server {
	if opts.UDPWorkers <= 0 {
		opts.UDPWorkers = runtime.GOMAXPROCS(0)
	}
	if opts.TCPMaxConns <= 0 {
		opts.TCPMaxConns = 4096
	}
	if opts.TCPMaxPerSource == 0 {
		opts.TCPMaxPerSource = 100
	}
	if opts.TCPIdleTimeout <= 0 {
		opts.TCPIdleTimeout = 10 * time.Second
	}
	if opts.TCPIOTimeout <= 0 {
		opts.TCPIOTimeout = 2 * time.Second
	}
	if opts.UDPBuffer == 0 {
		opts.UDPBuffer = 4 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{h: h, opts: opts, log: log.With("component", "dnsserver"),
		conns: map[net.Conn]*tcpConn{}, perSrc: map[netip.Addr]int{}}
}

// SetRRL makes l limit the UDP responses from now on (nil: none).
// TCP is never limited: a client that gets a truncated answer asks there.
func (s *Server) SetRRL(l *rrl.Limiter) { s.rrl.Store(l) }

// truncated turns a response into its slip: the header and the question,
// TC set, no records (the client asks again over TCP).
func truncated(resp []byte) []byte {
	end := 12
	for end < len(resp) && resp[end] != 0 {
		if resp[end]&0xc0 != 0 {
			return nil // no plain question: nothing to slip
		}
		end += 1 + int(resp[end])
	}
	end += 5 // the root label, type and class
	if end > len(resp) {
		return nil
	}
	resp = resp[:end]
	resp[2] |= 0x02
	for i := 6; i < 12; i++ {
		resp[i] = 0
	}
	return resp
}

// ListenUDP opens a UDP socket and serves it until Close.
func (s *Server) ListenUDP(addr string) (*net.UDPConn, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	s.ServeUDP(c)
	return c, nil
}

// ServeUDP serves an existing UDP socket (the caller may have made it)
// until CloseUDP or Close.
func (s *Server) ServeUDP(c *net.UDPConn) {
	if s.opts.UDPBuffer > 0 {
		setBuffers(c, s.opts.UDPBuffer)
	}
	if !s.opts.PlainUDP && s.serveUDPBatched(c) {
		return
	}
	s.startUDP(c, func() { s.udpWorker(c) })
}

// startUDP registers c for Close and runs UDPWorkers copies of worker.
func (s *Server) startUDP(c io.Closer, worker func()) {
	s.mu.Lock()
	s.closers = append(s.closers, c)
	s.mu.Unlock()
	for range s.opts.UDPWorkers {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			worker()
		}()
	}
}

// boundAddr is a socket's own address when it is a single one (invalid
// for a wildcard socket: each datagram then says where it went).
func boundAddr(a net.Addr) netip.Addr {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil || ap.Addr().IsUnspecified() {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// udpWorker is the portable loop. Request.Local is the socket's address,
// unknown on a wildcard socket (the batched Linux worker reads it per
// datagram).
func (s *Server) udpWorker(c *net.UDPConn) {
	local := boundAddr(c.LocalAddr())
	buf := make([]byte, 65535)
	out := make([]byte, 0, 65535)
	var cnt Counts
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.draining.Load() {
				return
			}
			continue // transient (ICMP-induced errors on some systems)
		}
		if n > querySlot {
			cnt.Count(nil, nil)
			cnt.Flush(&s.Stats, UDP)
			continue
		}
		req := Request{Src: from.Addr().Unmap(), SrcPort: from.Port(), Local: local, Now: time.Now()}
		resp := s.answer(out, buf[:n], req, s.rrl.Load(), &cnt)
		cnt.Count(buf[:n], resp)
		if s.opts.Tap != nil {
			s.opts.Tap.Log(buf[:n], resp, req)
		}
		cnt.Flush(&s.Stats, UDP)
		if resp == nil {
			continue
		}
		_, _ = c.WriteToUDPAddrPort(resp, from)
	}
}

// ListenTCP opens a TCP listener and serves it until Close.
func (s *Server) ListenTCP(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ServeTCP(l)
	return l, nil
}

// ServeTCP serves an existing listener until it or the server is closed.
func (s *Server) ServeTCP(l net.Listener) {
	s.mu.Lock()
	s.closers = append(s.closers, l)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				time.Sleep(10 * time.Millisecond) // EMFILE and the like: back off
				continue
			}
			tc, ok := s.track(c)
			if !ok {
				continue
			}
			s.Stats.TCPConnections.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.untrack(tc)
				s.serveConn(tc)
			}()
		}
	}()
}

// track admits a new connection, or closes it (false): the server is
// closing, or its client has TCPMaxPerSource open already (refused).
// At TCPMaxConns the idlest connection is closed to make room.
func (s *Server) track(c net.Conn) (*tcpConn, bool) {
	tc := &tcpConn{c: c}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		tc.src, tc.port = ap.Addr().Unmap(), ap.Port()
	}
	tc.last.Store(time.Now().UnixNano())
	var evict *tcpConn
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		c.Close()
		return nil, false
	case s.opts.TCPMaxPerSource > 0 && s.perSrc[tc.src] >= s.opts.TCPMaxPerSource:
		s.mu.Unlock()
		s.Stats.TCPRefused.Add(1)
		c.Close()
		return nil, false
	case len(s.conns) >= s.opts.TCPMaxConns:
		evict = s.idlest()
		s.forget(evict)
	}
	s.conns[c] = tc
	s.perSrc[tc.src]++
	s.open.Store(int64(len(s.conns)))
	s.mu.Unlock()
	if evict != nil {
		s.Stats.TCPEvicted.Add(1)
		evict.c.Close() // its goroutine ends; untrack finds it gone
	}
	return tc, true
}

// idlest is the connection that sent nothing for the longest (s.mu
// held, at least one connection). A scan: it runs only at the cap.
func (s *Server) idlest() *tcpConn {
	var old *tcpConn
	for _, tc := range s.conns {
		if old == nil || tc.last.Load() < old.last.Load() {
			old = tc
		}
	}
	return old
}

// forget drops a connection from the books (s.mu held).
func (s *Server) forget(tc *tcpConn) {
	if s.conns[tc.c] != tc {
		return
	}
	delete(s.conns, tc.c)
	s.open.Store(int64(len(s.conns)))
	if s.perSrc[tc.src]--; s.perSrc[tc.src] <= 0 {
		delete(s.perSrc, tc.src)
	}
}

func (s *Server) untrack(tc *tcpConn) {
	s.mu.Lock()
	s.forget(tc)
	s.mu.Unlock()
	tc.c.Close()
}

// idleTimeout is how long a connection may wait for its next query now:
// TCPIdleTimeout while at most half the connections are in use, then
// shorter as they fill, down to a tenth of it (at least 200 ms) at the
// cap.
func (s *Server) idleTimeout() time.Duration {
	n := int(s.open.Load())
	full, half := s.opts.TCPMaxConns, s.opts.TCPMaxConns/2
	if n <= half {
		return s.opts.TCPIdleTimeout
	}
	low := max(s.opts.TCPIdleTimeout/10, 200*time.Millisecond)
	if low >= s.opts.TCPIdleTimeout {
		return s.opts.TCPIdleTimeout
	}
	f := float64(min(n, full)-half) / float64(full-half)
	return s.opts.TCPIdleTimeout - time.Duration(f*float64(s.opts.TCPIdleTimeout-low))
}

// drainGrace is how long a connection accepted just before Drain has to
// send its first query.
const drainGrace = 250 * time.Millisecond

// serveConn answers pipelined queries on one connection, in order.
func (s *Server) serveConn(tc *tcpConn) {
	c := tc.c
	// An accepted connection's own address is specific even on a
	// wildcard listener.
	local := boundAddr(c.LocalAddr())
	// The buffers come with the first byte: a connection that never
	// sends costs its goroutine and little else.
	var r *bufio.Reader
	var q, out []byte
	var lenBuf [2]byte
	var cnt Counts
	for drainLeft := 16; ; {
		drainRead := s.draining.Load()
		if drainRead {
			// Drain: between queries the connection closes and its
			// client asks the successor, unless a query is already
			// here (closing then would reset the connection and lose
			// it), or the connection is new (its first query is on its
			// way); a few are answered.
			switch {
			case drainLeft == 0:
				return
			case r == nil:
				_ = c.SetReadDeadline(time.Now().Add(drainGrace))
			case pending(c, r):
				_ = c.SetReadDeadline(time.Now().Add(s.opts.TCPIOTimeout))
			default:
				return
			}
			drainLeft--
		} else {
			_ = c.SetReadDeadline(time.Now().Add(s.idleTimeout()))
			tc.idle.Store(true)
			if s.draining.Load() {
				continue // Drain may have woken us before our deadline was set
			}
		}
		var err error
		if r == nil {
			if _, err = io.ReadFull(c, lenBuf[:1]); err == nil {
				r, q, out = bufio.NewReaderSize(c, 4096), make([]byte, 0, 512), make([]byte, 0, 4096)
			}
		} else {
			_, err = io.ReadFull(r, lenBuf[:1])
		}
		tc.idle.Store(false)
		if err != nil {
			if !drainRead && s.draining.Load() {
				continue // woken by Drain: a query may have come all the same
			}
			return
		}
		tc.last.Store(time.Now().UnixNano())
		_ = c.SetReadDeadline(time.Now().Add(s.opts.TCPIOTimeout))
		if _, err := io.ReadFull(r, lenBuf[1:]); err != nil {
			return
		}
		n := int(lenBuf[0])<<8 | int(lenBuf[1])
		if n == 0 {
			return
		}
		if cap(q) < n {
			q = make([]byte, n)
		}
		q = q[:n]
		if _, err := io.ReadFull(r, q); err != nil {
			return
		}
		req := Request{Src: tc.src, SrcPort: tc.port, Local: local, TCP: true, Now: time.Now()}
		resp := s.answer(out, q, req, nil, &cnt)
		cnt.Count(q, resp)
		if s.opts.Tap != nil {
			s.opts.Tap.Log(q, resp, req)
		}
		cnt.Flush(&s.Stats, TCP)
		if resp == nil {
			continue
		}
		if len(resp) > 65535 {
			return
		}
		if cap(resp) > cap(out) {
			out = resp[:0]
		}
		hdr := [2]byte{byte(len(resp) >> 8), byte(len(resp))}
		bufs := net.Buffers{hdr[:], resp}
		_ = c.SetWriteDeadline(time.Now().Add(s.opts.TCPIOTimeout))
		if _, err := bufs.WriteTo(c); err != nil {
			return
		}
	}
}

// Close stops every listener and connection and waits for the workers.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Drain stops reading and answers what was read, then closes: the
// sockets' other holder (a successor that took them over, package
// handover) answers from then on. UDP workers stop at their next read,
// TCP listeners stop accepting, and connections close once their
// current query is answered.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.mu.Lock()
	now := time.Now()
	for _, c := range s.closers {
		switch c := c.(type) {
		case *net.UDPConn:
			// Wakes the workers waiting for a datagram; the deadline
			// stays past, so their next read ends them too.
			_ = c.SetReadDeadline(now)
		default:
			c.Close() // a listener: the successor's descriptor keeps the socket
		}
	}
	for _, tc := range s.conns {
		if tc.idle.Load() {
			_ = tc.c.SetReadDeadline(now) // one busy with a query sees draining once it answered
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.Close()
}

// Shutdown is Close bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
