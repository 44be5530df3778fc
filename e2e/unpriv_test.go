package e2e

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
)

// unprivDir is a directory other users can read: a copy of the gslbd
// binary and a configuration serving port 53 on addr, with one service
// monitored by monitor (TCP on a backend, or PING).
func unprivDir(t *testing.T, addr, svcLine, monitor string) (bin, conf string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "gslbd-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "gslbd")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	conf = filepath.Join(dir, "ns.conf")
	text := "#NS13.1 Build 37.38\nadd gslb site s1 127.0.0.1\n" + fmt.Sprintf("add service adns %s ADNS 53\n", addr) + monitor + "\n" + svcLine + "\n" +
		"bind gslb service web -monitorName m\nadd gslb vserver gv HTTP\nbind gslb vserver gv -serviceName web\nbind gslb vserver gv -domainName www.unpriv.test -TTL 5\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, conf
}

// uidOf reads a process's real and effective uid and its effective
// capabilities from /proc.
func uidOf(t *testing.T, pid int) (uids, capEff string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Uid:"); ok {
			uids = strings.Join(strings.Fields(v)[:2], " ")
		}
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			capEff = strings.TrimSpace(v)
		}
	}
	return uids, capEff
}

// TestRunUnprivileged: gslbd without root.
//   - Started as root with -user nobody: it opens port 53, then runs as
//     nobody with no capability left, answers on port 53 and its TCP
//     monitor marks the service UP.
//   - Started as nobody by setpriv with only CAP_NET_BIND_SERVICE and
//     CAP_NET_RAW (what a systemd unit's AmbientCapabilities gives): it
//     binds port 53, and its PING monitor (a raw socket: this machine
//     allows no ping sockets) marks the service UP.
func TestRunUnprivileged(t *testing.T) {
	needRoot(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	setpriv := program(t, "setpriv", "util-linux")
	be := newBackend(t, "127.0.0.98")
	for _, tc := range []struct {
		name, addr, svc, monitor, logged string
		run                              func(bin string, args []string) []string
		caps                             string
	}{
		{"-user nobody", "127.0.0.97",
			fmt.Sprintf("add gslb service web %s HTTP %s -siteName s1", be.IP(), be.Port()),
			"add lb monitor m TCP -interval 200 MSEC -resptimeout 100 MSEC", "gslbd running as nobody",
			func(bin string, args []string) []string {
				return append([]string{bin}, append(args, "-user", "nobody")...)
			},
			"0000000000000000"},
		{"setpriv, two capabilities", "127.0.0.96",
			"add gslb service web 127.0.0.99 HTTP 80 -siteName s1",
			"add lb monitor m PING -interval 200 MSEC -resptimeout 100 MSEC", "gslbd serving",
			func(bin string, args []string) []string {
				return append([]string{setpriv, "--reuid=nobody", "--regid=" + nobody.Gid, "--clear-groups",
					"--inh-caps=+net_bind_service,+net_raw", "--ambient-caps=+net_bind_service,+net_raw", "--", bin}, args...)
			},
			"0000000000002400"}, // CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13)
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, conf := unprivDir(t, tc.addr, tc.svc, tc.monitor)
			cmdline := tc.run(bin, []string{"run", "-config", conf, "-api", "", "-mep-port", fmt.Sprint(freePort(t)), "-mep-plain-port", fmt.Sprint(freePort(t))})
			p := &site2{t: t, args: cmdline[1:]}
			t.Cleanup(p.kill)
			p.start2(cmdline[0])
			if !p.logged("gslbd up", 10*time.Second, tc.logged) {
				t.Fatalf("log:\n%s", p.out)
			}
			pid := p.cmd.Process.Pid // setpriv execs gslbd in its own process
			uids, capEff := uidOf(t, pid)
			if want := nobody.Uid + " " + nobody.Uid; uids != want || capEff != tc.caps {
				t.Errorf("uid %q, capabilities %s; want %q and %s", uids, capEff, want, tc.caps)
			}
			p.logged("the service UP by its monitor", 10*time.Second, "service=web monitor=m from=UNKNOWN to=UP")
			r := dnstest.Exchange(t, dnstest.UDP, tc.addr+":53", dnstest.Msg("www.unpriv.test", dns.TypeA))
			if len(r.Answer) != 1 {
				t.Errorf("port 53: %v", r)
			}
			if t.Failed() {
				t.Logf("log:\n%s", p.out)
			}
		})
	}
}
