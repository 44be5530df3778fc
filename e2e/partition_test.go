package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// netns is a network namespace the test creates (and removes).
type netns struct {
	t    *testing.T
	name string
}

// needNetns skips a test that creates network namespaces unless it runs
// as root; CI runs as root and must not skip it.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root to create network namespaces, and CI runs as root: this test must not be skipped there")
		}
		t.Skip("needs root to create network namespaces (ip netns)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("ip (iproute2) not found")
	}
}

func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPartitionBetweenParents: two parent sites, each a gslbd in its own
// network namespace, joined by a veth pair. Cut the link (both sites alive,
// each reachable by its own clients): after the keep-alive each answers
// only its own service (no monitor reaches the other's), as
// docs/mep-design.md §7.11's first row says; heal it: both answer both
// again.
func TestPartitionBetweenParents(t *testing.T) {
	needNetns(t)
	if _, err := exec.LookPath("dig"); err != nil {
		t.Fatal("dig not found: apt-get install dnsutils (.ci/run does)")
	}
	bin := binary(t)
	id := fmt.Sprint(os.Getpid() % 100000)
	nsA, nsB := "gslbd-a-"+id, "gslbd-b-"+id
	vA, vB := "gva"+id, "gvb"+id
	runCmd(t, "ip", "netns", "add", nsA)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsA).Run() })
	runCmd(t, "ip", "netns", "add", nsB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nsB).Run() })
	runCmd(t, "ip", "link", "add", vA, "type", "veth", "peer", "name", vB)
	runCmd(t, "ip", "link", "set", vA, "netns", nsA)
	runCmd(t, "ip", "link", "set", vB, "netns", nsB)
	runCmd(t, "ip", "-n", nsA, "addr", "add", "10.77.0.1/24", "dev", vA)
	runCmd(t, "ip", "-n", nsB, "addr", "add", "10.77.0.2/24", "dev", vB)
	for _, ns := range []string{nsA, nsB} {
		runCmd(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	runCmd(t, "ip", "-n", nsA, "link", "set", vA, "up")
	runCmd(t, "ip", "-n", nsB, "link", "set", vB, "up")

	dir := t.TempDir()
	certs := filepath.Join(dir, "mep")
	runCmd(t, bin, "cert", "ca", "-dir", certs)
	runCmd(t, bin, "cert", "site", "-dir", certs, "dcA")
	runCmd(t, bin, "cert", "site", "-dir", certs, "dcB")
	conf := `#NS13.1 Build 37.38
add gslb site dcA 10.77.0.1
add gslb site dcB 10.77.0.2
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb service svcA 10.77.0.11 HTTP 80 -siteName dcA -healthMonitor NO
add gslb service svcB 10.77.0.12 HTTP 80 -siteName dcB -healthMonitor NO
bind gslb vserver gv -serviceName svcA
bind gslb vserver gv -serviceName svcB
bind gslb vserver gv -domainName mon.test -TTL 5
`
	path := filepath.Join(dir, "ns.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	const keepAlive = 2 * time.Second
	procs := map[string]*site2{}
	for site, ns := range map[string]string{"dcA": nsA, "dcB": nsB} {
		p := &site2{t: t, args: []string{"netns", "exec", ns, bin, "run", "-config", path, "-site", site, "-listen", "127.0.0.1:5300",
			"-api", "", "-mep-keepalive", keepAlive.String()}}
		p.start2("ip")
		t.Cleanup(p.kill)
		procs[site] = p
	}
	defer func() {
		if t.Failed() {
			for n, p := range procs {
				t.Logf("%s's log:\n%s", n, p.out)
			}
		}
	}()
	// What the site in ns answers its own clients.
	answers := func(ns string) string {
		out, _ := exec.Command("ip", "netns", "exec", ns, "dig", "@127.0.0.1", "-p", "5300", "+short", "+time=1", "+tries=1", "mon.test").Output()
		lines := strings.Fields(string(out))
		slices.Sort(lines)
		return strings.Join(lines, ",")
	}
	wait := func(ns, want, what string, timeout time.Duration) time.Time {
		t.Helper()
		deadline := time.Now().Add(timeout)
		got := ""
		for time.Now().Before(deadline) {
			if got = answers(ns); got == want {
				return time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: not within %v (answer %q)", what, timeout, got)
		return time.Time{}
	}
	both := "10.77.0.11,10.77.0.12"
	wait(nsA, both, "dcA answering both", 30*time.Second)
	wait(nsB, both, "dcB answering both", 30*time.Second)

	cut := time.Now()
	runCmd(t, "ip", "-n", nsA, "link", "set", vA, "down")
	for ns, own := range map[string]string{nsA: "10.77.0.11", nsB: "10.77.0.12"} {
		at := wait(ns, own, ns+" answering only its own service", 4*keepAlive+5*time.Second)
		d := at.Sub(cut)
		t.Logf("partition: %s answers only its own service %v after the cut (keep-alive %v)", ns, d, keepAlive)
		if d < keepAlive-time.Second {
			t.Errorf("%s dropped the other side %v after the cut, before the keep-alive", ns, d)
		}
	}
	healed := time.Now()
	runCmd(t, "ip", "-n", nsA, "link", "set", vA, "up")
	for _, ns := range []string{nsA, nsB} {
		at := wait(ns, both, ns+" answering both after the heal", 30*time.Second)
		t.Logf("heal: %s answers both %v after the link came back", ns, at.Sub(healed))
	}
}
