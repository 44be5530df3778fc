package handover

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestHandOver: the offering side sends a UDP socket; the taker gets a
// descriptor of the same socket (a datagram sent to it is read through
// the descriptor taken), says READY and gets DONE.
func TestHandOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	if p, socks, err := Take(path); p != nil || socks != nil || err != nil {
		t.Fatalf("Take with nobody there: %v %v %v", p, socks, err)
	}
	o, err := Offer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := Offer(path); err == nil || !strings.Contains(err.Error(), "another gslbd") {
		t.Errorf("a second Offer at the same path: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	f, err := pc.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ready := make(chan bool, 1)
	go func() {
		s := <-o.C
		if err := s.Send([]Socket{{Key: "udp " + pc.LocalAddr().String(), File: f}}); err != nil {
			t.Error(err)
		}
		ok := s.WaitReady(10 * time.Second)
		ready <- ok
		if ok {
			s.Done()
		}
	}()
	p, socks, err := Take(path)
	if err != nil || p == nil || len(socks) != 1 || socks[0].Key != "udp "+pc.LocalAddr().String() {
		t.Fatalf("Take: %v %v %v", p, socks, err)
	}
	// Sending left the socket non-blocking: the old process's own
	// readers and accept loops still wait in the poller.
	rc, _ := pc.(*net.UDPConn).SyscallConn()
	rc.Control(func(fd uintptr) {
		if fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Errorf("the sent socket is blocking now (flags %#x, %v)", fl, err)
		}
	})
	got, err := net.FilePacketConn(socks[0].File)
	socks[0].File.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.LocalAddr().String() != pc.LocalAddr().String() {
		t.Errorf("taken socket at %s, want %s", got.LocalAddr(), pc.LocalAddr())
	}
	c, _ := net.Dial("udp", pc.LocalAddr().String())
	defer c.Close()
	pc.Close() // the old process lets go: the socket lives on in the taken descriptor
	c.Write([]byte("query"))
	got.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	if n, _, err := got.ReadFrom(buf); err != nil || string(buf[:n]) != "query" {
		t.Errorf("read through the taken socket: %q %v", buf[:n], err)
	}
	if err := p.Ready(10 * time.Second); err != nil {
		t.Error(err)
	}
	if !<-ready {
		t.Error("the offering side did not see READY")
	}
}

// TestAbort: a taker that hangs up before READY leaves the offering
// side serving (WaitReady false), and the next taker is served.
func TestAbort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.sock")
	o, err := Offer(path)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	results := make(chan bool, 2)
	go func() {
		for range 2 {
			s := <-o.C
			s.Send(nil)
			ok := s.WaitReady(10 * time.Second)
			results <- ok
			if ok {
				s.Done()
			} else {
				s.Close()
			}
		}
	}()
	p, _, err := Take(path)
	if err != nil || p == nil {
		t.Fatal(err)
	}
	p.Abort()
	if <-results {
		t.Error("READY seen from a taker that aborted")
	}
	p, _, err = Take(path)
	if err != nil || p == nil {
		t.Fatal(err)
	}
	if err := p.Ready(10 * time.Second); err != nil || !<-results {
		t.Errorf("the second taker: %v", err)
	}
}
