package dnsserver

import (
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux UDP workers move packets in batches with recvmmsg and sendmmsg,
// issued as raw (non-blocking) syscalls from inside one long-lived
// RawConn.Read, so Go's netpoller still does the waiting.
//
// Why (measured on the 2-core test VM, BENCHMARKS.md): there every kernel
// entry is expensive, and the plain ReadFrom/WriteTo loop made about five
// syscalls per query at 10,000 QPS: recvfrom (plus an EAGAIN one),
// sendto, epoll_pwait, and futex/nanosleep from the runtime handing the P
// around whenever a syscall ran long. Knot DNS makes about 1.6 (recvmmsg,
// sendmmsg and epoll_wait per burst). Raw syscalls are never counted as
// blocking by the runtime (they do not block: the socket is non-blocking),
// and batches amortise the rest.

const (
	batchSize  = 32   // packets per recvmmsg/sendmmsg
	answerSlot = 4096 // room for each response (UDP answers are at most MaxUDPSize)
)

// mmsghdr is struct mmsghdr of <sys/socket.h> (64-bit layout).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// serveUDPBatched starts batch workers on c; false if this platform or
// socket cannot (the caller then uses the plain loop).
func (s *Server) serveUDPBatched(c *net.UDPConn) bool {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return false
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	local := boundAddr(c.LocalAddr())
	pktinfo := false
	if !local.IsValid() {
		// A wildcard socket: each datagram's destination comes as
		// IP_PKTINFO / IPV6_PKTINFO, and the answer leaves from it.
		_ = rc.Control(func(fd uintptr) {
			if unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1) == nil {
				pktinfo = true
			}
			if unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1) == nil {
				pktinfo = true
			}
		})
	}
	s.startUDP(c, func() {
		w := newBatchWorker(s)
		w.local, w.pktinfo = local, pktinfo
		w.run(rc)
	})
	return true
}

type batchWorker struct {
	s     *Server
	cnt   Counts // this worker's, flushed after each batch
	in    []byte // batchSize query slots
	out   []byte // batchSize answer slots
	rsa   [batchSize]unix.RawSockaddrAny
	riov  [batchSize]unix.Iovec
	siov  [batchSize]unix.Iovec
	rmsgs [batchSize]mmsghdr
	smsgs [batchSize]mmsghdr
	// local is the socket's address; on a wildcard socket (pktinfo)
	// each datagram's destination is read from roob and written as the
	// answer's source in soob.
	local   netip.Addr
	pktinfo bool
	roob    [batchSize][oobSize]byte
	soob    [batchSize][oobSize]byte
}

// setBuffers sizes a UDP socket's receive and send buffers: beyond
// net.core.rmem_max/wmem_max when the process may (SO_RCVBUFFORCE with
// CAP_NET_ADMIN), else as far as those allow.
func setBuffers(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, n)
		}
	})
}

// oobSize holds one IPv4 or IPv6 packet-info control message.
const oobSize = 64

func newBatchWorker(s *Server) *batchWorker {
	w := &batchWorker{s: s, in: make([]byte, batchSize*querySlot), out: make([]byte, batchSize*answerSlot)}
	for i := range batchSize {
		w.riov[i].Base = &w.in[i*querySlot]
		w.riov[i].SetLen(querySlot)
		h := &w.rmsgs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&w.rsa[i]))
		h.Iov = &w.riov[i]
		h.SetIovlen(1)
	}
	return w
}

// run serves until the socket is closed. The whole loop runs inside one
// RawConn.Read call: f returns false to wait for readability, and the
// readiness that arrives while a batch is processed is not lost.
func (w *batchWorker) run(rc syscall.RawConn) {
	drained := false
	_ = rc.Read(func(fd uintptr) bool {
		for {
			if w.s.draining.Load() {
				return true // Drain: this worker ends; what it read is answered
			}
			if drained {
				// The last batch was short, so the queue was empty: wait
				// for the netpoller instead of paying an EAGAIN recvmmsg.
				drained = false
				return false
			}
			for i := range batchSize {
				w.rmsgs[i].hdr.Namelen = unix.SizeofSockaddrAny
				w.rmsgs[i].hdr.Flags = 0
				if w.pktinfo {
					w.rmsgs[i].hdr.Control = &w.roob[i][0]
					w.rmsgs[i].hdr.SetControllen(oobSize)
				}
			}
			n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rmsgs[0])),
				batchSize, unix.MSG_DONTWAIT, 0, 0)
			if errno == unix.EAGAIN || errno == unix.EINTR {
				return false
			}
			if errno != 0 {
				return true // socket closed or broken: the worker ends
			}
			w.answer(fd, int(n))
			drained = int(n) < batchSize
		}
	})
}

func (w *batchWorker) answer(fd uintptr, n int) {
	now := time.Now()
	lim := w.s.rrl.Load()
	k := 0
	for i := range n {
		m := &w.rmsgs[i]
		if m.hdr.Flags&unix.MSG_TRUNC != 0 {
			w.cnt.Count(nil, nil)
			continue
		}
		q := w.in[i*querySlot : i*querySlot+int(m.len)]
		dst := w.out[k*answerSlot : k*answerSlot : (k+1)*answerSlot]
		local, oob := w.local, 0
		if w.pktinfo {
			local, oob = w.destination(i, k)
		}
		src, port := sockaddrAddr(&w.rsa[i])
		req := Request{Src: src, SrcPort: port, Local: local, Now: now}
		resp := w.s.answer(dst, q, req, lim, &w.cnt)
		w.cnt.Count(q, resp)
		if w.s.opts.Tap != nil {
			w.s.opts.Tap.Log(q, resp, req)
		}
		if resp == nil {
			continue
		}
		w.siov[k].Base = &resp[0]
		w.siov[k].SetLen(len(resp))
		h := &w.smsgs[k].hdr
		h.Name = m.hdr.Name
		h.Namelen = m.hdr.Namelen
		h.Iov = &w.siov[k]
		h.SetIovlen(1)
		h.Control, h.Controllen = nil, 0
		if oob > 0 {
			h.Control = &w.soob[k][0]
			h.SetControllen(oob)
		}
		k++
	}
	w.cnt.Flush(&w.s.Stats, UDP) // once per batch
	for sent := 0; sent < k; {
		r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.smsgs[sent])),
			uintptr(k-sent), 0, 0, 0)
		if errno != 0 || r == 0 {
			w.s.Stats.dropped(UDP, uint64(k-sent)) // socket buffer full: DNS clients retry
			return
		}
		sent += int(r)
	}
}

// destination reads datagram i's destination from its packet info and
// writes the control message that sends answer slot k from it; it
// returns the address and that message's length (0: none, the kernel
// chooses the source).
func (w *batchWorker) destination(i, k int) (netip.Addr, int) {
	h := &w.rmsgs[i].hdr
	b := w.roob[i][:min(int(h.Controllen), oobSize)]
	for len(b) >= unix.SizeofCmsghdr {
		cm := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		l := int(cm.Len)
		if l < unix.SizeofCmsghdr || l > len(b) {
			break
		}
		data := b[unix.SizeofCmsghdr:l]
		switch {
		case cm.Level == unix.IPPROTO_IP && cm.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			in := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			a := netip.AddrFrom4(in.Addr)
			out := w.soob[k][:]
			ocm := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			ocm.Level, ocm.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			ocm.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
			op := (*unix.Inet4Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
			*op = unix.Inet4Pktinfo{Spec_dst: in.Addr}
			return a, unix.CmsgSpace(unix.SizeofInet4Pktinfo)
		case cm.Level == unix.IPPROTO_IPV6 && cm.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			in := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			a := netip.AddrFrom16(in.Addr).Unmap()
			out := w.soob[k][:]
			ocm := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
			ocm.Level, ocm.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
			ocm.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
			op := (*unix.Inet6Pktinfo)(unsafe.Pointer(&out[unix.CmsgLen(0)]))
			*op = unix.Inet6Pktinfo{Addr: in.Addr, Ifindex: in.Ifindex}
			return a, unix.CmsgSpace(unix.SizeofInet6Pktinfo)
		}
		b = b[min(unix.CmsgSpace(l-unix.SizeofCmsghdr), len(b)):]
	}
	return netip.Addr{}, 0
}

// sockaddrAddr is a datagram's source address and port.
func sockaddrAddr(rsa *unix.RawSockaddrAny) (netip.Addr, uint16) {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrFrom4(sa.Addr), netPort(&sa.Port)
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrFrom16(sa.Addr).Unmap(), netPort(&sa.Port)
	}
	return netip.Addr{}, 0
}

// netPort reads a port kept in network byte order.
func netPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}
