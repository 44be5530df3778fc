package dnsserver

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoHandler answers every query with its own bytes, QR set: enough to
// test transport behaviour without the engine.
type echoHandler struct{}

func (echoHandler) ServeDNS(dst, q []byte, _ Request) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 {
		return nil
	}
	r := append(dst[:0], q...)
	r[2] |= 0x80
	return r
}

func query(id uint16) []byte {
	q := []byte{byte(id >> 8), byte(id), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	return q
}

func framed(q []byte) []byte {
	return append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
}

func readMsg(t *testing.T, c net.Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		t.Fatalf("read length: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read message: %v", err)
	}
	return b
}

func serve(t *testing.T, opts Options) (*Server, string, string) {
	t.Helper()
	return serveWith(t, echoHandler{}, opts)
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF
}

// TestUDP runs in both UDP modes: batched (recvmmsg/sendmmsg, the Linux
// default) and plain.
func TestUDP(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(map[bool]string{false: "batched", true: "plain"}[plain], func(t *testing.T) {
			s, u, _ := serve(t, Options{PlainUDP: plain})
			c, _ := net.Dial("udp", u)
			defer c.Close()
			c.Write(query(7))
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			b := make([]byte, 512)
			n, err := c.Read(b)
			if err != nil || n != 19 || b[0] != 0 || b[1] != 7 || b[2]&0x80 == 0 {
				t.Fatalf("got %x, %v", b[:n], err)
			}
			// A burst larger than one batch: every query answered once.
			const burst = 200
			for id := range burst {
				c.Write(query(uint16(1000 + id)))
			}
			seen := map[uint16]bool{}
			for len(seen) < burst {
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				n, err := c.Read(b)
				if err != nil {
					t.Fatalf("after %d of %d answers: %v (dropped %d)", len(seen), burst, err, s.Stats.Dropped())
				}
				id := binary.BigEndian.Uint16(b[:n])
				if seen[id] || id < 1000 || id >= 1000+burst {
					t.Fatalf("unexpected or repeated answer %d", id)
				}
				seen[id] = true
			}
			// A query longer than 4096 bytes is dropped; the server goes on.
			big := append(query(9), make([]byte, 5000)...)
			c.Write(big)
			c.Write(query(10))
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, err = c.Read(b)
			if err != nil || binary.BigEndian.Uint16(b[:n]) != 10 {
				t.Fatalf("after an oversized query: got %x, %v; want the answer to query 10", b[:n], err)
			}
		})
	}
}

func TestTCPPipelining(t *testing.T) {
	_, _, a := serve(t, Options{})
	c, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Three queries in one write (RFC 7766 §6.2.1.1), answered in order.
	var all []byte
	for id := uint16(1); id <= 3; id++ {
		all = append(all, framed(query(id))...)
	}
	c.Write(all)
	for id := uint16(1); id <= 3; id++ {
		r := readMsg(t, c)
		if got := binary.BigEndian.Uint16(r); got != id {
			t.Fatalf("response %d: got ID %d", id, got)
		}
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	_, _, a := serve(t, Options{TCPIdleTimeout: 200 * time.Millisecond})
	c, _ := net.Dial("tcp", a)
	defer c.Close()
	c.Write(framed(query(1)))
	readMsg(t, c)
	start := time.Now()
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("idle connection not closed")
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
}

func TestTCPSlowSenderClosed(t *testing.T) {
	_, _, a := serve(t, Options{TCPIOTimeout: 200 * time.Millisecond})
	c, _ := net.Dial("tcp", a)
	defer c.Close()
	c.Write([]byte{0, 19, 0, 1}) // length, then only part of the message
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("a sender stalled mid-message was not closed")
	}
}

func TestTCPZeroLengthCloses(t *testing.T) {
	_, _, a := serve(t, Options{})
	c, _ := net.Dial("tcp", a)
	defer c.Close()
	c.Write([]byte{0, 0})
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("zero-length message did not close the connection")
	}
}

// TestTCPConnectionCap: at the cap a new connection closes the idlest
// one (the one whose last query is oldest) and is served; the others
// still work.
func TestTCPConnectionCap(t *testing.T) {
	s, _, a := serve(t, Options{TCPMaxConns: 2})
	var held []net.Conn
	for i := range 2 {
		c, _ := net.Dial("tcp", a)
		defer c.Close()
		c.Write(framed(query(uint16(i))))
		readMsg(t, c)
		held = append(held, c)
		time.Sleep(10 * time.Millisecond) // held[0]'s query is the older
	}
	held[1].Write(framed(query(7)))
	readMsg(t, held[1])
	extra, _ := net.Dial("tcp", a)
	defer extra.Close()
	extra.Write(framed(query(8)))
	if r := readMsg(t, extra); binary.BigEndian.Uint16(r) != 8 {
		t.Fatal("the connection over the cap was not served")
	}
	if !closedWithin(held[0], 5*time.Second) {
		t.Fatal("the idlest connection was not closed")
	}
	held[1].Write(framed(query(9)))
	if r := readMsg(t, held[1]); binary.BigEndian.Uint16(r) != 9 {
		t.Fatal("a busy connection was closed")
	}
	if s.Stats.TCPEvicted.Load() != 1 || s.Stats.TCPRefused.Load() != 0 {
		t.Fatalf("evicted %d, refused %d; want 1 and 0", s.Stats.TCPEvicted.Load(), s.Stats.TCPRefused.Load())
	}
}

// TestTCPPerSourceCap: a client with TCPMaxPerSource connections open
// has its next one closed at once; another client is served.
func TestTCPPerSourceCap(t *testing.T) {
	s, _, a := serve(t, Options{TCPMaxPerSource: 2})
	for i := range 2 {
		c, _ := net.Dial("tcp", a)
		defer c.Close()
		c.Write(framed(query(uint16(i))))
		readMsg(t, c)
	}
	extra, _ := net.Dial("tcp", a)
	defer extra.Close()
	if !closedWithin(extra, 5*time.Second) {
		t.Fatal("a third connection from one client was not closed")
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	other, err := d.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Write(framed(query(5)))
	readMsg(t, other)
	if s.Stats.TCPRefused.Load() != 1 {
		t.Fatalf("refused %d, want 1", s.Stats.TCPRefused.Load())
	}
}

// TestIdleTimeoutUnderPressure: the idle timeout is whole up to half the
// cap, a tenth of it at the cap, and in between on the line.
func TestIdleTimeoutUnderPressure(t *testing.T) {
	s := New(echoHandler{}, Options{TCPMaxConns: 10, TCPIdleTimeout: 10 * time.Second})
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 10 * time.Second}, {5, 10 * time.Second}, {6, 8200 * time.Millisecond}, {10, time.Second}} {
		var held []*tcpConn
		for range tc.n {
			c, _ := net.Pipe()
			tcc, ok := s.track(c)
			if !ok {
				t.Fatal("a connection was not admitted")
			}
			held = append(held, tcc)
		}
		if got := s.idleTimeout(); got != tc.want {
			t.Errorf("%d of 10 connections: idle timeout %v, want %v", tc.n, got, tc.want)
		}
		for _, tcc := range held {
			s.untrack(tcc)
		}
	}
}

func TestNoReplyIsNotSent(t *testing.T) {
	for _, plain := range []bool{false, true} {
		// One worker answers in order: questions asked after the response
		// are answered after any reply to it (dnstest.NoReplyUDP).
		_, u, _ := serve(t, Options{UDPWorkers: 1, PlainUDP: plain})
		resp := query(1)
		resp[2] |= 0x80 // a response: the handler returns nil
		dnstest.NoReplyUDP(t, u, resp)
	}
	_, _, a := serve(t, Options{})
	resp := query(1)
	resp[2] |= 0x80
	tc, _ := net.Dial("tcp", a)
	defer tc.Close()
	tc.Write(framed(resp))
	tc.Write(framed(query(2)))
	if r := readMsg(t, tc); binary.BigEndian.Uint16(r) != 2 {
		t.Fatal("TCP: the first reply was not for the second query")
	}
}
