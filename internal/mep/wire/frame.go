package wire

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
)

// Protocol version. A different major is refused; minors add fields and
// frame types marked FlagIgnorable.
const (
	Major = 1
	Minor = 0
)

// Frame layout (big-endian):
//
//	len uint32 | type uint8 | flags uint8 | reserved uint16 | seq uint64 | payload | [HMAC-SHA256]
//
// len counts what follows it up to the end of the payload (12 + payload
// bytes); the HMAC trailer, on the plain port only, covers len, header and
// payload.
const (
	// MaxFrame is the largest len accepted, checked before anything is
	// allocated: larger snapshots go in chunks (FlagMore).
	MaxFrame = 1 << 20
	// HeaderLen is the fixed part counted by len.
	HeaderLen = 12
	// MACLen is the HMAC trailer's size.
	MACLen = sha256.Size
)

// Type says which message a frame's payload holds.
type Type uint8

// Frame types (v1).
const (
	TypeHello Type = 1 + iota
	TypeHelloAck
	TypeError
	TypeHeartbeat
	TypeSiteFull
	TypeSiteDelta
	TypeForceUpdate
	TypeChildRelay
	TypeAdopt
	TypeNWLDNSNew
	TypeNWMetrics
	TypePersistSessions
	TypeGoodbye
)

var typeNames = [...]string{"", "HELLO", "HELLO_ACK", "ERROR", "HEARTBEAT", "SITE_FULL", "SITE_DELTA", "FORCE_UPDATE",
	"CHILD_RELAY", "ADOPT", "NW_LDNS_NEW", "NW_METRICS", "PERSIST_SESSIONS", "GOODBYE"}

func (t Type) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("TYPE_%d", t)
}

// Known reports whether this version knows the type.
func (t Type) Known() bool { return t >= TypeHello && t <= TypeGoodbye }

// Flags.
const (
	FlagIgnorable = 1 << 0 // a receiver that does not know the type skips the frame
	FlagMore      = 1 << 1 // another chunk of the same message follows
)

// Errors of the frame layer. Each closes the link.
var (
	ErrTooBig   = errors.New("mep frame: length over 1 MiB")
	ErrShort    = errors.New("mep frame: length shorter than the header")
	ErrSequence = errors.New("mep frame: sequence number out of order")
	ErrMAC      = errors.New("mep frame: HMAC does not match")
	ErrUnknown  = errors.New("mep frame: unknown frame type")
)

// Frame is one frame read. Payload is valid until the next Read.
type Frame struct {
	Type    Type
	Flags   uint8
	Seq     uint64
	Payload []byte
}

// Conn reads and writes frames on a stream. Reads and writes may run in
// two goroutines, but each of them in one at a time.
type Conn struct {
	r          *bufio.Reader
	w          io.Writer
	rseq, wseq uint64
	rmac, wmac hash.Hash // nil: no trailer (TLS)
	rbuf, wbuf []byte
	sum        [MACLen]byte
	// Frames and bytes read and written (HMAC trailers included), for
	// the link's statistics; safe to read from any goroutine.
	FramesIn, FramesOut, BytesIn, BytesOut atomic.Uint64
}

// NewConn frames rw.
func NewConn(rw io.ReadWriter) *Conn {
	return &Conn{r: bufio.NewReaderSize(rw, 16<<10), w: rw}
}

// SetKeys turns the HMAC trailer on: send signs what this side writes,
// recv checks what it reads (the plain port, after the handshake).
func (c *Conn) SetKeys(send, recv []byte) {
	c.wmac, c.rmac = hmac.New(sha256.New, send), hmac.New(sha256.New, recv)
}

// Write sends one frame with m as its payload.
func (c *Conn) Write(t Type, flags uint8, m proto.Message) error {
	return c.write(t, flags, m, nil)
}

// WritePayload sends one frame with an encoded payload (the handshake
// keeps the bytes it sent for the key derivation).
func (c *Conn) WritePayload(t Type, flags uint8, payload []byte) error {
	return c.write(t, flags, nil, payload)
}

func (c *Conn) write(t Type, flags uint8, m proto.Message, payload []byte) error {
	b := c.wbuf[:0]
	b = append(b, 0, 0, 0, 0, byte(t), flags, 0, 0)
	c.wseq++
	b = binary.BigEndian.AppendUint64(b, c.wseq)
	var err error
	if m != nil {
		b, err = proto.MarshalOptions{}.MarshalAppend(b, m)
		if err != nil {
			return fmt.Errorf("mep frame %s: %w", t, err)
		}
	}
	b = append(b, payload...)
	n := len(b) - 4
	if n > MaxFrame {
		return fmt.Errorf("mep frame %s: %d bytes: %w", t, n, ErrTooBig)
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	if c.wmac != nil {
		c.wmac.Reset()
		c.wmac.Write(b)
		b = c.wmac.Sum(b)
	}
	c.wbuf = b[:0]
	if cap(c.wbuf) > 64<<10 {
		c.wbuf = nil // do not keep a snapshot's buffer for heartbeats
	}
	_, err = c.w.Write(b)
	if err == nil {
		c.FramesOut.Add(1)
		c.BytesOut.Add(uint64(len(b)))
	}
	return err
}

// Read reads the next frame. The length is checked before its payload is
// allocated; the sequence number must follow the last one.
func (c *Conn) Read() (Frame, error) {
	var lb [4]byte
	if _, err := io.ReadFull(c.r, lb[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	switch {
	case n > MaxFrame:
		return Frame{}, fmt.Errorf("%w (%d bytes)", ErrTooBig, n)
	case n < HeaderLen:
		return Frame{}, fmt.Errorf("%w (%d bytes)", ErrShort, n)
	}
	total := int(n)
	if c.rmac != nil {
		total += MACLen
	}
	if cap(c.rbuf) < total {
		c.rbuf = make([]byte, total)
	}
	b := c.rbuf[:total]
	if _, err := io.ReadFull(c.r, b); err != nil {
		return Frame{}, unexpected(err)
	}
	if c.rmac != nil {
		c.rmac.Reset()
		c.rmac.Write(lb[:])
		c.rmac.Write(b[:n])
		if !hmac.Equal(c.rmac.Sum(c.sum[:0]), b[n:]) {
			return Frame{}, ErrMAC
		}
		b = b[:n]
	}
	f := Frame{Type: Type(b[0]), Flags: b[1], Seq: binary.BigEndian.Uint64(b[4:12]), Payload: b[HeaderLen:]}
	if f.Seq != c.rseq+1 {
		return Frame{}, fmt.Errorf("%w: %d after %d", ErrSequence, f.Seq, c.rseq)
	}
	c.rseq = f.Seq
	c.FramesIn.Add(1)
	c.BytesIn.Add(uint64(4 + total))
	if cap(c.rbuf) > 64<<10 {
		c.rbuf = nil
	}
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decode reads a frame's payload into m. Unknown fields are skipped.
func Decode(f Frame, m proto.Message) error {
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(f.Payload, m); err != nil {
		return fmt.Errorf("mep frame %s: %w", f.Type, err)
	}
	return nil
}
