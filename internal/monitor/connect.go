package monitor

import (
	"context"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// connectReset opens a TCP connection to dst and resets it: the plain TCP
// monitor's probe. It is the hot path of large deployments (10,000
// services every second), so it costs five system calls and no poller
// registration when the peer answers at once (loopback, nearby hosts):
// socket, connect, getsockopt, setsockopt, close, against about
// fifteen for net.Dialer (keep-alive and no-delay options, local and peer
// addresses, epoll). A connection still pending after the connect call
// waits in the runtime's poller until ctx's deadline.
func connectReset(ctx context.Context, dst netip.AddrPort) error {
	fd, err, pending := startConnect(dst)
	if pending {
		return waitConnect(ctx, fd)
	}
	return err
}

// startConnect begins a connection without blocking. Unless pending, the
// outcome is known and the socket is closed; a pending fd is the caller's
// to hand to waitConnect.
//
// The calls are raw system calls: none of them blocks (the socket is
// non-blocking, a zero-linger close does not wait), so the runtime's
// bookkeeping around a system call that might block is skipped.
func startConnect(dst netip.AddrPort) (fd int, err error, pending bool) {
	family := unix.AF_INET
	if !dst.Addr().Is4() {
		family = unix.AF_INET6
	}
	r, _, e := syscall.RawSyscall(unix.SYS_SOCKET, uintptr(family), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return -1, os.NewSyscallError("socket", e), false
	}
	fd = int(r)
	switch e := rawConnect(fd, dst); e {
	case 0:
	case unix.EINPROGRESS:
		// One getsockopt tells the usual case, a peer that answered
		// during the connect call; anything else goes the long way.
		if tcpState(fd) == tcpEstablished {
			err = nil
		} else if ready(fd) {
			err = soError(fd)
		} else {
			return fd, nil, true
		}
	default:
		err = os.NewSyscallError("connect", e)
	}
	reset(fd)
	return -1, err, false
}

// rawConnect starts connect(2) on a non-blocking socket.
func rawConnect(fd int, dst netip.AddrPort) syscall.Errno {
	port := dst.Port()
	if dst.Addr().Is4() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: dst.Addr().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		_, _, e := syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
		return e
	}
	sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: dst.Addr().As16()}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	_, _, e := syscall.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	return e
}

// tcpState is the first field of TCP_INFO, the socket's TCP state (the
// kernel copies only as much of the structure as asked for).
func tcpState(fd int) uint8 {
	var b [8]byte
	n := uint32(len(b))
	_, _, e := syscall.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 || n < 1 {
		return 0
	}
	return b[0]
}

// tcpEstablished is TCP_ESTABLISHED in tcp_info's state (linux/tcp_states.h).
const tcpEstablished = 1

// ready reports whether a connecting socket has finished, well or badly.
func ready(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(p, 0)
	return err == nil && n == 1
}

// soError is the outcome of a finished non-blocking connect.
func soError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if v != 0 {
		return os.NewSyscallError("connect", unix.Errno(v))
	}
	return nil
}

// reset closes fd with a zero linger: an RST, no TIME_WAIT.
func reset(fd int) {
	l := unix.Linger{Onoff: 1, Linger: 0}
	syscall.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	syscall.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// waitConnect waits in the runtime poller for a pending connect, until
// ctx ends. It owns fd.
func waitConnect(ctx context.Context, fd int) error {
	f := os.NewFile(uintptr(fd), "monitor") // non-blocking: registered with the poller
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var result error
	werr := rc.Write(func(fd uintptr) bool {
		if !ready(int(fd)) {
			return false
		}
		result = soError(int(fd))
		return true
	})
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	})
	if werr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return werr
	}
	return result
}
