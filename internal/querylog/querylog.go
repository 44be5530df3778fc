// Package querylog sends the queries gslbd answers and its responses as
// dnstap messages (AUTH_QUERY and AUTH_RESPONSE, dnstap.info) over a
// bidirectional Frame Streams connection to a collector on a Unix or TCP
// socket: dnstap's own tools (`dnstap-ldns`, `fstrm_capture`), a
// dnscollector, a golang-dnstap reader.
//
// The answer path only copies the two messages into a cell of a fixed,
// lock-free ring (ring.go) and publishes it, never waiting: when the ring
// is full (the collector is slow, gone, or not yet connected) the query
// is not logged, and counted as dropped. One goroutine wakes every 20
// ms, encodes what has queued (dnstap's protobuf messages, written with
// protowire) as Frame Streams data frames and writes them with one
// write: the answer path never wakes it, and a batch costs one system
// call. The Frame Streams handshake and shutdown are
// github.com/farsightsec/golang-framestream's. A lost connection is
// dialled again, backing off from 100 ms to 5 s.
package querylog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	framestream "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gslbd/gslbd/internal/dnsserver"
)

// Options configure a Tap.
type Options struct {
	// Addr is the collector: "unix:/path", "tcp:host:port", or a path
	// (unix).
	Addr string
	// Identity and Version are the dnstap identity and version fields
	// ("": none).
	Identity, Version string
	// Slots is how many queries may wait to be written (default 4096,
	// rounded up to a power of two).
	Slots int
	// Timeout bounds the handshake and each write to the collector
	// (default 5 s): a collector that stops reading is dropped and
	// dialled again.
	Timeout time.Duration
	// Logger notes connections and their losses (nil: discard).
	Logger *slog.Logger
}

// slot is one query and its response, copied off the answer path.
type slot struct {
	q, resp      []byte
	src, local   netip.Addr
	srcPort      uint16
	tcp, hasResp bool
	now          time.Time
}

// Tap logs queries and responses. Log is safe for concurrent use.
type Tap struct {
	network, addr string
	opts          Options
	log           *slog.Logger
	ring          *ring
	stop          chan struct{}
	done          chan struct{}

	mu   sync.Mutex
	conn net.Conn

	// Frames counts the frames written; Dropped the frames not written
	// (no free slot, or lost with a connection); Connected is 1 while a
	// collector is connected.
	Frames, Dropped atomic.Uint64
	Connected       atomic.Bool
}

// ParseAddr splits a collector address into its network and address.
func ParseAddr(s string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(s, "unix:"):
		network, addr = "unix", strings.TrimPrefix(s, "unix:")
	case strings.HasPrefix(s, "tcp:"):
		network, addr = "tcp", strings.TrimPrefix(s, "tcp:")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("dnstap collector %q: %v (want tcp:host:port)", s, err)
		}
	case strings.Contains(s, ":") && !strings.Contains(s, "/"):
		return "", "", fmt.Errorf("dnstap collector %q: say unix:/path or tcp:host:port", s)
	default:
		network, addr = "unix", s
	}
	if addr == "" {
		return "", "", fmt.Errorf("dnstap collector %q: no address", s)
	}
	return network, addr, nil
}

// New starts a tap towards opts.Addr; it connects in the background.
func New(opts Options) (*Tap, error) {
	network, addr, err := ParseAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	if opts.Slots <= 0 {
		opts.Slots = 4096
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tap{network: network, addr: addr, opts: opts, log: log.With("component", "dnstap", "collector", opts.Addr),
		ring: newRing(opts.Slots), stop: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t, nil
}

// Log copies a query and its response (nil: none was sent) for the
// collector, or drops them when no slot is free. It never waits and,
// once the slots have grown to the messages' sizes, never allocates.
func (t *Tap) Log(q, resp []byte, r dnsserver.Request) {
	c := t.ring.claim()
	if c == nil {
		t.Dropped.Add(1)
		if resp != nil {
			t.Dropped.Add(1)
		}
		return
	}
	s := &c.slot
	s.q = append(s.q[:0], q...)
	s.resp = append(s.resp[:0], resp...)
	s.hasResp = resp != nil
	s.src, s.srcPort, s.local, s.tcp, s.now = r.Src, r.SrcPort, r.Local, r.TCP, r.Now
	t.ring.publish(c)
}

// Close stops the tap: what is queued and written is flushed to a
// connected collector, and the connection closed.
func (t *Tap) Close() {
	select {
	case <-t.stop:
		return
	default:
	}
	close(t.stop)
	// run writes what is queued and closes the stream; a collector that
	// does not read gets 2 s for it, then its connection is closed
	// under the writer.
	force := time.AfterFunc(closeGrace, func() {
		t.mu.Lock()
		if t.conn != nil {
			t.conn.Close()
		}
		t.mu.Unlock()
	})
	<-t.done
	force.Stop()
}

// closeGrace bounds Close's wait for a collector that does not read.
const closeGrace = 2 * time.Second

// frames is how many frames a slot makes.
func (s *slot) frames() uint64 {
	if s.hasResp {
		return 2
	}
	return 1
}

// run connects, writes and reconnects until Close; what is still queued
// then is dropped.
func (t *Tap) run() {
	defer close(t.done)
	defer func() {
		for c := t.ring.next(); c != nil; c = t.ring.next() {
			t.Dropped.Add(c.frames())
			t.ring.release(c)
		}
	}()
	e := newEncoder(t.opts.Identity, t.opts.Version)
	backoff := 100 * time.Millisecond
	for {
		w, conn, err := t.connect()
		if err != nil {
			if errors.Is(err, errStopped) {
				return
			}
			t.log.Warn("cannot reach the collector", "err", err, "retry_in", backoff)
			select {
			case <-t.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		t.Connected.Store(true)
		t.log.Info("collector connected")
		err = t.write(w, conn, e)
		t.Connected.Store(false)
		t.mu.Lock()
		t.conn = nil
		t.mu.Unlock()
		conn.Close()
		if err == nil {
			return
		}
		t.log.Warn("collector connection lost", "err", err)
	}
}

var errStopped = errors.New("stopped")

// connect dials the collector and makes the Frame Streams handshake.
func (t *Tap) connect() (*framestream.Writer, net.Conn, error) {
	select {
	case <-t.stop:
		return nil, nil, errStopped
	default:
	}
	conn, err := net.DialTimeout(t.network, t.addr, t.opts.Timeout)
	if err != nil {
		return nil, nil, err
	}
	t.mu.Lock()
	t.conn = conn
	t.mu.Unlock()
	w, err := framestream.NewWriter(conn, &framestream.WriterOptions{ContentTypes: [][]byte{dnstap.FSContentType},
		Bidirectional: true, Timeout: t.opts.Timeout})
	if err != nil {
		t.mu.Lock()
		t.conn = nil
		t.mu.Unlock()
		conn.Close()
		return nil, nil, fmt.Errorf("frame streams handshake: %w", err)
	}
	return w, conn, nil
}

// write sends queued slots until the connection fails (its error) or
// Close (nil, after writing what was queued and the STOP frame).
//
// The handshake and STOP go through golang-framestream's Writer; data
// frames (a 4-byte big-endian length and the message, Frame Streams'
// data frame) are appended to one batch and written with one write per
// wake-up: through the Writer's 4 KiB buffer a batch took a dozen
// writes, each waking the collector.
func (t *Tap) write(w *framestream.Writer, conn net.Conn, e *encoder) error {
	batch := make([]byte, 0, 64<<10)
	var pending uint64 // frames in batch
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_ = conn.SetWriteDeadline(time.Now().Add(t.opts.Timeout))
		_, err := conn.Write(batch)
		if err != nil {
			t.Dropped.Add(pending)
		} else {
			t.Frames.Add(pending)
		}
		batch, pending = batch[:0], 0
		return err
	}
	// The writer wakes every flushEvery and takes what has queued: the
	// answer path never wakes it (a parked receiver would cost a
	// scheduler wake-up per query).
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		stopping := false
		select {
		case <-tick.C:
		case <-t.stop:
			stopping = true
		}
		var err error
		for c := t.ring.next(); c != nil && err == nil; c = t.ring.next() {
			batch = e.frame(batch, &c.slot, false)
			pending++
			if c.hasResp {
				batch = e.frame(batch, &c.slot, true)
				pending++
			}
			t.ring.release(c)
			if len(batch) >= maxBatch {
				err = flush()
			}
		}
		if err == nil {
			err = flush()
		}
		switch {
		case stopping:
			if err == nil {
				_ = w.Close() // STOP, and the collector's FINISH
			}
			return nil
		case err != nil:
			return err
		}
	}
}

// maxBatch bounds one write (and the batch's memory).
const maxBatch = 256 << 10

// flushEvery is how often the writer takes the queued queries: a frame
// reaches the collector at most this late.
const flushEvery = 20 * time.Millisecond

// encoder turns slots into dnstap frames. It writes the protobuf wire
// format itself (protowire, the field numbers of dnstap.proto), into
// buffers it reuses: several times cheaper than marshalling
// golang-dnstap's generated messages through reflection, and
// TestEncodeMatchesGenerated checks it decodes to the same message.
type encoder struct {
	head, tail []byte // the Dnstap fields before and after the Message
	msg, out   []byte
	addr       []byte
}

func newEncoder(identity, version string) *encoder {
	e := &encoder{}
	if identity != "" {
		e.head = bytesField(e.head, fIdentity, []byte(identity))
	}
	if version != "" {
		e.head = bytesField(e.head, fVersion, []byte(version))
	}
	e.tail = varintField(nil, fType, typeMessage)
	return e
}

// dnstap.proto's numbers.
const (
	fIdentity, fVersion, fMessage, fType               = 1, 2, 14, 15
	mType, mFamily, mProtocol, mQAddr, mRAddr, mQPort  = 1, 2, 3, 4, 5, 6
	mQSec, mQNsec, mQMessage, mRSec, mRNsec, mRMessage = 8, 9, 10, 12, 13, 14
	typeMessage                                        = 1 // Dnstap.Type MESSAGE
	authQuery, authResponse                            = 1, 2
	familyINET, familyINET6, protoUDP, protoTCP        = 1, 2, 1, 2
)

// frame appends the data frame of s's query, or of its response, to
// dst: its length (4 bytes, big-endian) and the message. The sizes are
// computed first so that the DNS message, the only large field, is
// copied once, straight from the slot into the batch.
func (e *encoder) frame(dst []byte, s *slot, resp bool) []byte {
	h := e.msg[:0] // the Message's fields but the DNS message
	typ := uint64(authQuery)
	if resp {
		typ = authResponse
	}
	h = varintField(h, mType, typ)
	fam := uint64(familyINET)
	if s.src.Is6() {
		fam = familyINET6
	}
	proto := uint64(protoUDP)
	if s.tcp {
		proto = protoTCP
	}
	h = varintField(h, mFamily, fam)
	h = varintField(h, mProtocol, proto)
	if s.src.IsValid() {
		e.addr, _ = s.src.AppendBinary(e.addr[:0])
		h = bytesField(h, mQAddr, e.addr)
	}
	if s.local.IsValid() {
		e.addr, _ = s.local.AppendBinary(e.addr[:0])
		h = bytesField(h, mRAddr, e.addr)
	}
	if s.srcPort != 0 {
		h = varintField(h, mQPort, uint64(s.srcPort))
	}
	// The answer is computed within the microsecond the query was read
	// in: both carry the read time.
	sec, nsec := uint64(s.now.Unix()), uint32(s.now.Nanosecond())
	h = varintField(h, mQSec, sec)
	h = protowire.AppendTag(h, mQNsec, protowire.Fixed32Type)
	h = protowire.AppendFixed32(h, nsec)
	payload, field := s.q, protowire.Number(mQMessage)
	if resp {
		h = varintField(h, mRSec, sec)
		h = protowire.AppendTag(h, mRNsec, protowire.Fixed32Type)
		h = protowire.AppendFixed32(h, nsec)
		payload, field = s.resp, mRMessage
	}
	e.msg = h
	msgLen := len(h) + protowire.SizeTag(field) + protowire.SizeBytes(len(payload))
	frameLen := len(e.head) + protowire.SizeTag(fMessage) + protowire.SizeBytes(msgLen) + len(e.tail)
	dst = binary.BigEndian.AppendUint32(dst, uint32(frameLen))
	dst = append(dst, e.head...)
	dst = protowire.AppendTag(dst, fMessage, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(msgLen))
	dst = append(dst, h...)
	dst = bytesField(dst, field, payload)
	return append(dst, e.tail...)
}

// encode is the message of s's query, or of its response (its frame
// without the length).
func (e *encoder) encode(s *slot, resp bool) []byte {
	e.out = e.frame(e.out[:0], s, resp)
	return e.out[4:]
}

func varintField(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}
