package handover

import (
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// trusted reports whether the peer runs as this process's user or root
// (SO_PEERCRED).
func trusted(c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	_ = rc.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		ok = err == nil && (cred.Uid == 0 || int(cred.Uid) == os.Geteuid())
	})
	return ok
}
