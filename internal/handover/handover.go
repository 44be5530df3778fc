// Package handover passes a running gslbd's listening DNS sockets to its
// successor over a Unix socket, so that an upgrade or a restart loses
// no query: the kernel keeps queueing on the same sockets while both
// processes hold them, the successor starts answering before the old
// process stops reading, and the old one answers every query it has
// read before it goes.
//
// The old process Offers at a path; the new one Takes there:
//
//	new -> old   TAKE 1
//	old -> new   SOCKETS <json list of keys>   (the descriptors ride along, SCM_RIGHTS)
//	new -> old   READY                         (it is serving them)
//	old -> new   DONE                          (it read its last query and answered it)
//
// If the new process fails before READY (a configuration that does not
// load, a port it cannot bind), the old one keeps serving as if nothing
// had happened. Only a peer with the old process's user id, or root,
// may take.
package handover

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Socket is a listening socket handed over: its key (the daemon's
// "udp 127.0.0.1:53", "tcp [::1]:53") and a descriptor of it.
type Socket struct {
	Key  string
	File *os.File
}

const hello = "TAKE 1"

// Offerer listens at a path for a successor.
type Offerer struct {
	path string
	ln   *net.UnixListener
	// C delivers each successor that asked to take over.
	C    chan *Successor
	done chan struct{}
}

// Offer listens at path (mode 0600). A socket file left by a process
// that is gone is replaced; one that a live process listens on is an
// error.
func Offer(path string) (*Offerer, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("handover: another gslbd listens at %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("handover: %w", err)
	}
	old := syscall.Umask(0o077)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("handover: %w", err)
	}
	ln.SetUnlinkOnClose(false) // the successor's Offer replaces the file
	o := &Offerer{path: path, ln: ln, C: make(chan *Successor), done: make(chan struct{})}
	go o.accept()
	return o, nil
}

// Close stops offering (the file stays for the successor to replace).
func (o *Offerer) Close() {
	o.ln.Close()
	<-o.done
}

func (o *Offerer) accept() {
	defer close(o.done)
	for {
		c, err := o.ln.AcceptUnix()
		if err != nil {
			return
		}
		if !trusted(c) {
			c.Close()
			continue
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != hello {
			c.Close()
			continue
		}
		_ = c.SetDeadline(time.Time{})
		s := &Successor{c: c, r: r}
		select {
		case o.C <- s:
		case <-time.After(10 * time.Second):
			c.Close() // nobody took it (the process is stopping)
		}
	}
}

// Successor is a process taking over, seen from the old one.
type Successor struct {
	c *net.UnixConn
	r *bufio.Reader
}

// Send gives the successor the sockets (their descriptors are sent, the
// files stay the caller's to close).
func (s *Successor) Send(socks []Socket) error {
	keys := make([]string, len(socks))
	fds := make([]int, len(socks))
	for i, k := range socks {
		// Not File.Fd: it makes the descriptor blocking, and the flag is
		// the socket's, shared with this process's own listeners.
		rc, err := k.File.SyscallConn()
		if err != nil {
			return err
		}
		if err := rc.Control(func(fd uintptr) { fds[i] = int(fd) }); err != nil {
			return err
		}
		keys[i] = k.Key
	}
	b, _ := json.Marshal(keys)
	msg := append([]byte("SOCKETS "), b...)
	msg = append(msg, '\n')
	_, _, err := s.c.WriteMsgUnix(msg, unix.UnixRights(fds...), nil)
	return err
}

// WaitReady waits up to timeout for the successor to serve the sockets.
// false: it failed or went away; the caller keeps serving.
func (s *Successor) WaitReady(timeout time.Duration) bool {
	_ = s.c.SetReadDeadline(time.Now().Add(timeout))
	line, err := s.r.ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "READY"
}

// Done tells the successor that the last query read was answered, and
// hangs up.
func (s *Successor) Done() {
	_, _ = s.c.Write([]byte("DONE\n"))
	s.c.Close()
}

// Close hangs up without a handover.
func (s *Successor) Close() { s.c.Close() }

// Predecessor is the process handing over, seen from the new one.
type Predecessor struct {
	c *net.UnixConn
	r *bufio.Reader
}

// Take asks the process offering at path for its sockets. With no one
// there it returns nil and no error: a first start.
func Take(path string) (*Predecessor, []Socket, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("handover: %w", err)
	}
	uc := c.(*net.UnixConn)
	_ = uc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := uc.Write([]byte(hello + "\n")); err != nil {
		uc.Close()
		return nil, nil, fmt.Errorf("handover: %w", err)
	}
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*256))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		uc.Close()
		return nil, nil, fmt.Errorf("handover: reading the sockets: %w", err)
	}
	var fds []int
	if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, cm := range cms {
			if f, err := unix.ParseUnixRights(&cm); err == nil {
				fds = append(fds, f...)
			}
		}
	}
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	line, ok := strings.CutPrefix(strings.TrimSpace(string(buf[:n])), "SOCKETS ")
	var keys []string
	if !ok || json.Unmarshal([]byte(line), &keys) != nil || len(keys) != len(fds) {
		closeAll()
		uc.Close()
		return nil, nil, fmt.Errorf("handover: the process at %s sent %d descriptors and %q", path, len(fds), buf[:min(n, 200)])
	}
	socks := make([]Socket, len(keys))
	for i, k := range keys {
		unix.CloseOnExec(fds[i])
		socks[i] = Socket{Key: k, File: os.NewFile(uintptr(fds[i]), k)}
	}
	_ = uc.SetDeadline(time.Time{})
	return &Predecessor{c: uc, r: bufio.NewReader(uc)}, socks, nil
}

// Ready tells the predecessor that this process serves the sockets, and
// waits up to timeout for it to have answered its last query.
func (p *Predecessor) Ready(timeout time.Duration) error {
	defer p.c.Close()
	if _, err := p.c.Write([]byte("READY\n")); err != nil {
		return fmt.Errorf("handover: %w", err)
	}
	_ = p.c.SetReadDeadline(time.Now().Add(timeout))
	line, err := p.r.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "DONE" {
		return fmt.Errorf("handover: the old process did not say it is done (%v)", err)
	}
	return nil
}

// Abort hangs up before READY: the predecessor keeps serving.
func (p *Predecessor) Abort() { p.c.Close() }

// ListenTCP listens with SO_REUSEPORT, so that a successor can listen on
// the same port while this process still does (the API, the metrics and
// the metric exchange: a connection still queued at the old process when
// it closes is reset, and its client connects again).
func ListenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
