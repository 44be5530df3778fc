package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// pipe is a Conn pair over one buffer: what a writes, b reads.
func pipe() (a, b *Conn, buf *bytes.Buffer) {
	buf = &bytes.Buffer{}
	return NewConn(buf), NewConn(buf), buf
}

func TestFrameRoundTrip(t *testing.T) {
	a, b, _ := pipe()
	msgs := []struct {
		typ Type
		m   proto.Message
	}{
		{TypeHello, &Hello{Major: Major, Minor: Minor, Site: "dc1", Role: Role_PARENT, Incarnation: 42, Nonce: bytes.Repeat([]byte{7}, 32)}},
		{TypeHeartbeat, &Heartbeat{SentNs: 123, LagUs: 5}},
		{TypeSiteFull, &SiteUpdate{Epoch: 3, Services: []*Service{{Name: "svc1", State: State_UP, Connections: 9, Has: 1}}}},
		{TypeForceUpdate, nil},
		{TypeGoodbye, &Goodbye{Reason: GoodbyeReason_SHUTDOWN}},
	}
	for _, m := range msgs {
		if err := a.Write(m.typ, 0, m.m); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range msgs {
		f, err := b.Read()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Type != m.typ || f.Seq != uint64(i+1) {
			t.Errorf("frame %d: type %s seq %d, want %s seq %d", i, f.Type, f.Seq, m.typ, i+1)
		}
		if m.m == nil {
			if len(f.Payload) != 0 {
				t.Errorf("empty message: payload %x", f.Payload)
			}
			continue
		}
		got := m.m.ProtoReflect().New().Interface()
		if err := Decode(f, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, m.m) {
			t.Errorf("frame %d: got %v, want %v", i, got, m.m)
		}
	}
	if _, err := b.Read(); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
}

// raw is a frame's bytes with any length, type and sequence number.
func raw(n uint32, typ Type, seq uint64, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	b = append(b, byte(typ), 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, payload...)
}

// limitReader is a read-only stream that counts what was read (writes
// are dropped).
type limitReader struct {
	r   io.Reader
	got int
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.got += n
	return n, err
}
func (l *limitReader) Write(p []byte) (int, error) { return len(p), nil }

func TestFrameBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{name: "4 GiB length", in: raw(0xffffffff, TypeHeartbeat, 1, nil), want: ErrTooBig},
		{name: "1 MiB + 1", in: raw(MaxFrame+1, TypeHeartbeat, 1, nil), want: ErrTooBig},
		{name: "length under the header", in: raw(11, TypeHeartbeat, 1, nil), want: ErrShort},
		{name: "zero length", in: raw(0, TypeHeartbeat, 1, nil), want: ErrShort},
		{name: "truncated payload", in: raw(HeaderLen+10, TypeHeartbeat, 1, []byte{1, 2}), want: io.ErrUnexpectedEOF},
		{name: "truncated header", in: raw(HeaderLen, TypeHeartbeat, 1, nil)[:9], want: io.ErrUnexpectedEOF},
		{name: "sequence starts at 2", in: raw(HeaderLen, TypeHeartbeat, 2, nil), want: ErrSequence},
		{name: "sequence 0", in: raw(HeaderLen, TypeHeartbeat, 0, nil), want: ErrSequence},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := &limitReader{r: bytes.NewReader(tt.in)}
			c := NewConn(lr)
			_, err := c.Read()
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if cap(c.rbuf) > MaxFrame+MACLen {
				t.Errorf("allocated %d bytes", cap(c.rbuf))
			}
		})
	}
	// A replayed frame (same sequence number again) closes the link.
	a, b, buf := pipe()
	a.Write(TypeHeartbeat, 0, &Heartbeat{SentNs: 1})
	frame := append([]byte(nil), buf.Bytes()...)
	buf.Write(frame)
	if _, err := b.Read(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(); !errors.Is(err, ErrSequence) {
		t.Errorf("replayed frame: %v, want ErrSequence", err)
	}
	// A payload that is not the message: an error, not a panic.
	if err := Decode(Frame{Type: TypeHello, Payload: []byte{0xff, 0xff, 0xff}}, &Hello{}); err == nil {
		t.Error("garbage payload decoded")
	}
}

func TestFrameWriteTooBig(t *testing.T) {
	a, _, buf := pipe()
	err := a.Write(TypeSiteFull, 0, &SiteUpdate{Services: []*Service{{Name: string(bytes.Repeat([]byte("x"), MaxFrame))}}})
	if !errors.Is(err, ErrTooBig) || buf.Len() != 0 {
		t.Errorf("oversized snapshot: %v, %d bytes written; want ErrTooBig, nothing", err, buf.Len())
	}
}

// TestUnknownFieldsSkipped: a newer minor version's fields do not stop
// an older reader.
func TestUnknownFieldsSkipped(t *testing.T) {
	b, _ := proto.Marshal(&Heartbeat{SentNs: 77})
	b = protowire.AppendTag(b, 999, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("from v1.9"))
	var h Heartbeat
	if err := Decode(Frame{Type: TypeHeartbeat, Payload: b}, &h); err != nil || h.SentNs != 77 {
		t.Errorf("got %v, %v; want SentNs 77", &h, err)
	}
}

func TestFrameHMAC(t *testing.T) {
	hello, ack := []byte("hello payload"), []byte("ack payload")
	d2a, a2d, err := Keys([]byte("site password"), hello, ack)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(d2a, a2d) {
		t.Fatal("both directions have the same key")
	}
	buf := &bytes.Buffer{}
	dialer, acceptor := NewConn(buf), NewConn(buf)
	dialer.SetKeys(d2a, a2d)
	acceptor.SetKeys(a2d, d2a)
	dialer.Write(TypeHeartbeat, 0, &Heartbeat{SentNs: 5})
	if f, err := acceptor.Read(); err != nil || f.Type != TypeHeartbeat {
		t.Fatalf("signed frame: %v, %v", f, err)
	}

	// Every bit of a signed frame counts, the length and sequence number
	// included.
	dialer.Write(TypeHeartbeat, 0, &Heartbeat{SentNs: 6})
	good := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x01
		r := NewConn(bytes.NewBuffer(bad))
		r.SetKeys(a2d, d2a)
		r.rseq = 1
		if _, err := r.Read(); err == nil {
			t.Fatalf("bit flipped in byte %d: accepted", i)
		}
	}
	// A frame reflected back to its sender does not verify.
	r := NewConn(bytes.NewBuffer(good))
	r.SetKeys(d2a, a2d) // the dialer reading its own frame
	r.rseq = 1
	if _, err := r.Read(); !errors.Is(err, ErrMAC) {
		t.Errorf("reflected frame: %v, want ErrMAC", err)
	}
	// A different transcript or password gives other keys.
	for _, k := range [][3][]byte{{[]byte("site password"), []byte("hello payloaX"), ack}, {[]byte("site passworX"), hello, ack}} {
		x, _, _ := Keys(k[0], k[1], k[2])
		if bytes.Equal(x, d2a) {
			t.Errorf("keys do not depend on %q", k)
		}
	}
	// A truncated trailer.
	r = NewConn(bytes.NewBuffer(good[:len(good)-1]))
	r.SetKeys(a2d, d2a)
	r.rseq = 1
	if _, err := r.Read(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated HMAC: %v", err)
	}
}

// FuzzFrame feeds random bytes to the frame reader and every payload
// decoder, without and with the HMAC trailer: errors, never a panic or a
// read beyond the cap.
func FuzzFrame(f *testing.F) {
	a, _, buf := pipe()
	a.Write(TypeHello, 0, &Hello{Major: 1, Site: "dc1", Nonce: make([]byte, 32)})
	a.Write(TypeSiteFull, 0, &SiteUpdate{Services: []*Service{{Name: "svc", State: State_UP}}})
	f.Add(buf.Bytes(), false)
	f.Add(raw(0xffffffff, TypeHeartbeat, 1, nil), true)
	f.Add(raw(HeaderLen+3, TypeChildRelay, 1, []byte{0x2a, 0x01, 0x00}), false)
	d2a, a2d, _ := Keys([]byte("k"), nil, nil)
	f.Fuzz(func(t *testing.T, in []byte, signed bool) {
		c := NewConn(&limitReader{r: bytes.NewReader(in)})
		if signed {
			c.SetKeys(a2d, d2a)
		}
		for range 8 {
			fr, err := c.Read()
			if err != nil {
				return
			}
			if len(fr.Payload) > MaxFrame {
				t.Fatalf("payload of %d bytes", len(fr.Payload))
			}
			for _, m := range []proto.Message{&Hello{}, &Error{}, &Heartbeat{}, &SiteUpdate{}, &ChildRelay{}, &Adopt{}, &Goodbye{}, &PersistSessions{}} {
				_ = Decode(fr, m)
			}
		}
	})
}
