package dnsserver

import (
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"golang.org/x/sys/unix"
)

// TestBatchedWorkersServe: on Linux the default UDP mode really is the
// batch worker (recvmmsg/sendmmsg), not the plain loop.
func TestBatchedWorkersServe(t *testing.T) {
	_, u, _ := serve(t, Options{UDPWorkers: 1})
	if r := dnstest.RawUDP(t, u, query(1), 3*time.Second); r == nil {
		t.Fatal("no answer")
	}
	// The worker answered, so it is in its loop.
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if !strings.Contains(stacks, "(*batchWorker).run") || strings.Contains(stacks, "(*Server).udpWorker") {
		t.Fatalf("no batch worker serves the socket:\n%s", stacks)
	}
}

// TestBatchedQueueDrained: datagrams queued before the worker starts are
// all read, batch after batch, even when whole batches get no answer
// (responses, dropped): then nothing the worker sends, and no new datagram,
// would wake it. It may wait for the poller only once a short batch showed
// the queue empty.
func TestBatchedQueueDrained(t *testing.T) {
	const queries = 5
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := pc.(*net.UDPConn)
	c, err := net.Dial("udp", u.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := query(0)
	resp[2] |= 0x80 // a response: no answer
	for range 2 * batchSize {
		c.Write(resp)
	}
	for id := 1; id <= queries; id++ {
		c.Write(query(uint16(id)))
	}
	// Let the poller see the socket readable once, before the server
	// starts: the worker gets no readiness it did not cause.
	rc, err := u.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	// Bounded: a poller that never reports the queued datagrams (seen
	// once in a -race run on a loaded box) must not hang the suite; the
	// test then runs without that precondition.
	u.SetReadDeadline(time.Now().Add(2 * time.Second))
	waited := false
	rc.Read(func(uintptr) bool {
		if waited {
			return true
		}
		waited = true
		return false
	})
	u.SetReadDeadline(time.Time{})
	s := New(echoHandler{}, Options{UDPWorkers: 1})
	s.ServeUDP(u)
	defer s.Close()
	seen := map[uint16]bool{}
	b := make([]byte, 512)
	for len(seen) < queries {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, err := c.Read(b)
		if err != nil {
			t.Fatalf("%d of %d queries behind %d responses answered: %v", len(seen), queries, 2*batchSize, err)
		}
		seen[binary.BigEndian.Uint16(b[:k])] = true
	}
	// Only the responses count as dropped, not the answers sent.
	if d := s.Stats.Dropped(); d != 2*batchSize {
		t.Fatalf("%d counted as dropped, want %d", d, 2*batchSize)
	}
}

// TestUDPBuffers: a served UDP socket's receive buffer is the 4 MiB
// default (the kernel reports twice what was set), not the system's
// 208 KiB; a negative UDPBuffer leaves the system's.
func TestUDPBuffers(t *testing.T) {
	rcvbuf := func(opts Options) int {
		srv := New(echoHandler{}, opts)
		c, err := srv.ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		rc, _ := c.SyscallConn()
		var n int
		rc.Control(func(fd uintptr) { n, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) })
		return n
	}
	sys := rcvbuf(Options{UDPBuffer: -1})
	got := rcvbuf(Options{})
	t.Logf("receive buffer: %d bytes by default, %d the system's", got, sys)
	if os.Geteuid() == 0 && got < 4<<20 {
		t.Errorf("receive buffer %d, want at least 4 MiB (root may exceed rmem_max)", got)
	}
	if got <= sys && sys < 4<<20 {
		t.Errorf("receive buffer %d is not above the system's %d", got, sys)
	}
}
