package dnsserver

import (
	"bufio"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// pending reports whether a query's bytes are waiting on connection c
// (in r's buffer, or in the kernel's: a peek that does not wait).
func pending(c net.Conn, r *bufio.Reader) bool {
	if r != nil && r.Buffered() > 0 {
		return true
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, _ = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	})
	return n > 0
}
