package monitor

import (
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// inSilentNetns runs f on a thread of its own in a new network namespace
// whose loopback is up and ignores ICMP echo requests (IPv4 and IPv6), so
// that nothing answers a ping. The thread is never handed back: it ends
// with the goroutine, namespace and all. f must not call t.Fatal (it runs
// on another goroutine). Root only (CI runs as root).
func inSilentNetns(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("a network namespace needs root, and CI runs as root: this test must not be skipped there")
		}
		t.Skip("needs root for a network namespace")
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with its namespace
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return err
			}
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			ifr, err := unix.NewIfreq("lo")
			if err != nil {
				return err
			}
			if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
				return err
			}
			ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
			if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
				return err
			}
			// /proc/sys/net is the namespace of the thread that opens it.
			for _, p := range []string{"/proc/sys/net/ipv4/icmp_echo_ignore_all", "/proc/sys/net/ipv6/icmp/echo_ignore_all"} {
				if err := os.WriteFile(p, []byte("1"), 0); err != nil {
					return err
				}
			}
			f()
			return nil
		}()
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestProbePingNoReply: a host that does not answer echo requests is DOWN
// (timed out). On loopback a raw ICMP socket also reads the probe's own
// request back: it must not count as the reply.
func TestProbePingNoReply(t *testing.T) {
	m := monitorFrom(t, "add lb monitor m PING -resptimeout 300 MSEC")
	var v4, v6 Result
	inSilentNetns(t, func() {
		v4, v6 = probeOnce(t, m, "127.0.0.1:0"), probeOnce(t, m, "[::1]:0")
	})
	expect(t, v4, false, "timed out")
	expect(t, v6, false, "timed out")
}
