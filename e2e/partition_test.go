package e2e

// The partition rows of docs/mep.md "Partitions" (docs/mep-design.md
// §7.11), each a test with real gslbd processes in network namespaces that
// the tests create and remove. The rows without a partition are tests
// elsewhere: a parent's host dies (TestThreeSitesOverMEP), the primary
// parent of a child dies (TestBackupParentAdoptsChild), nothing answerable
// anywhere (TestAllDownOverMEP).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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
	for _, prog := range []string{"ip", "dig"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s not found: apt-get install iproute2 dnsutils (.ci/run does)", prog)
		}
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

var labSeq atomic.Int64

// lab is network namespaces that a test creates, each holding sites'
// addresses on its loopback, joined pairwise by veth links that carry
// host routes: cutting one link cuts the traffic between its two
// namespaces and nothing else (sites in one namespace still talk).
type lab struct {
	t     *testing.T
	id    string
	addrs map[string][]string     // namespace -> its addresses
	links map[[2]string][2]string // {a, b} -> the veth in a, the veth in b
}

// newLab creates the namespaces (name -> the addresses on its loopback).
func newLab(t *testing.T, spaces map[string][]string) *lab {
	t.Helper()
	needNetns(t)
	l := &lab{t: t, id: fmt.Sprintf("%d%d", os.Getpid()%10000, labSeq.Add(1)%10), addrs: spaces, links: map[[2]string][2]string{}}
	for name, addrs := range spaces {
		ns := l.ns(name)
		runCmd(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		runCmd(t, "ip", "-n", ns, "link", "set", "lo", "up")
		for _, a := range addrs {
			runCmd(t, "ip", "-n", ns, "addr", "add", a+"/32", "dev", "lo")
		}
	}
	return l
}

func (l *lab) ns(name string) string { return "gslbd-" + l.id + "-" + name }

// link joins namespaces a and b.
func (l *lab) link(a, b string) {
	l.t.Helper()
	n := len(l.links)
	va, vb := fmt.Sprintf("gv%sa%d", l.id, n), fmt.Sprintf("gv%sb%d", l.id, n)
	runCmd(l.t, "ip", "link", "add", va, "type", "veth", "peer", "name", vb)
	runCmd(l.t, "ip", "link", "set", va, "netns", l.ns(a))
	runCmd(l.t, "ip", "link", "set", vb, "netns", l.ns(b))
	l.links[[2]string{a, b}] = [2]string{va, vb}
	l.up(a, va, b)
	l.up(b, vb, a)
}

// up brings a's end of a link up with routes to to's addresses through it
// (a link set down loses its routes).
func (l *lab) up(a, dev, to string) {
	l.t.Helper()
	runCmd(l.t, "ip", "-n", l.ns(a), "link", "set", dev, "up")
	for _, addr := range l.addrs[to] {
		runCmd(l.t, "ip", "-n", l.ns(a), "route", "replace", addr+"/32", "dev", dev, "src", l.addrs[a][0])
	}
}

// cut takes the link between a and b down (a's end: b's end loses its
// carrier); heal brings it back.
func (l *lab) cut(a, b string) {
	l.t.Helper()
	runCmd(l.t, "ip", "-n", l.ns(a), "link", "set", l.links[[2]string{a, b}][0], "down")
}

func (l *lab) heal(a, b string) {
	l.t.Helper()
	l.up(a, l.links[[2]string{a, b}][0], b)
}

// answers is the sorted answer set of name from the DNS server at addr,
// asked from inside namespace ns.
func (l *lab) answers(ns, addr, name string) string {
	out, _ := exec.Command("ip", "netns", "exec", l.ns(ns), "dig", "@"+addr, "-p", "5300", "+short", "+time=1", "+tries=1", name).Output()
	lines := strings.Fields(string(out))
	slices.Sort(lines)
	return strings.Join(lines, ",")
}

// wait polls answers until it is want; it returns when it first was.
func (l *lab) wait(ns, addr, name, want, what string, timeout time.Duration) time.Time {
	l.t.Helper()
	deadline := time.Now().Add(timeout)
	got := ""
	for time.Now().Before(deadline) {
		if got = l.answers(ns, addr, name); got == want {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.t.Fatalf("%s: not within %v (answer %q)", what, timeout, got)
	return time.Time{}
}

// healAndWait heals the link between a and b and waits until the DNS
// server at addr in each of the namespaces answers mon.test with want.
func (l *lab) healAndWait(a, b, addr, want string, spaces ...string) {
	l.t.Helper()
	healed := time.Now()
	l.heal(a, b)
	for _, ns := range spaces {
		at := l.wait(ns, addr, "mon.test", want, ns+" answering every service after the heal", 30*time.Second)
		l.t.Logf("heal: %s answers every service %v after the link came back", ns, at.Sub(healed))
	}
}

// steady checks that answers stays want for d.
func (l *lab) steady(ns, addr, name, want, what string, d time.Duration) {
	l.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got := l.answers(ns, addr, name); got != want {
			l.t.Fatalf("%s: answer %q, want %q", what, got, want)
		}
	}
}

// sites writes conf with the sites' certificates beside it and starts
// one gslbd per site in its namespace (site -> namespace), each with its
// DNS listener on listen(site):5300; the logs are shown when the test
// fails.
func (l *lab) sites(conf string, where map[string]string, listen func(site string) string, args ...string) map[string]*site2 {
	l.t.Helper()
	bin := binary(l.t)
	dir := l.t.TempDir()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range where {
			if !yield(n) {
				return
			}
		}
	})
	certs := certs(l.t, dir, names...)
	path := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		l.t.Fatal(err)
	}
	procs := map[string]*site2{}
	for _, site := range names {
		p := &site2{t: l.t, args: append([]string{"netns", "exec", l.ns(where[site]), bin, "run", "-config", path, "-site", site,
			"-listen", listen(site) + ":5300", "-api", "", "-mep-certs", certs}, args...)}
		p.start2("ip")
		l.t.Cleanup(p.kill)
		procs[site] = p
	}
	l.t.Cleanup(func() {
		if l.t.Failed() {
			for _, n := range names {
				l.t.Logf("%s's log:\n%s", n, procs[n].out)
			}
		}
	})
	return procs
}

const labKeepAlive = 2 * time.Second

// TestPartitionBetweenParents (§7.11, first row): parents dcA and dcB, each
// a gslbd in its own namespace, joined by one link. Cut it (both alive,
// each reachable by its own clients): after the keep-alive each answers
// its own services, and of the other's only svcB2, whose monitor dcA runs
// under dcB's -triggerMonitor MEPDOWN and still reaches; a persistent
// client pinned to the unreachable side is re-chosen. Heal it: both answer
// everything again.
func TestPartitionBetweenParents(t *testing.T) {
	l := newLab(t, map[string][]string{"a": {"10.77.0.1"}, "b": {"10.77.0.2"}})
	l.link("a", "b")
	// svcB2's monitor probes 127.0.0.1:5300 over TCP: the probing site's
	// own DNS listener, so that it reaches from either side of the cut.
	conf := `#NS13.1 Build 37.38
add gslb site dcA 10.77.0.1
add gslb site dcB 10.77.0.2 -triggerMonitor MEPDOWN
add lb monitor reach TCP -destIP 127.0.0.1 -destPort 5300 -interval 1 -resptimeout 500 MSEC
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb vserver gvp HTTP -lbMethod ROUNDROBIN -persistenceType SOURCEIP -persistenceId 7 -timeout 10
add gslb service svcA 10.77.0.11 HTTP 80 -siteName dcA -healthMonitor NO
add gslb service svcB 10.77.0.12 HTTP 80 -siteName dcB -healthMonitor NO
add gslb service svcB2 10.77.0.13 HTTP 80 -siteName dcB
bind gslb service svcB2 -monitorName reach
bind gslb vserver gv -serviceName svcA
bind gslb vserver gv -serviceName svcB
bind gslb vserver gv -serviceName svcB2
bind gslb vserver gv -domainName mon.test -TTL 5
bind gslb vserver gvp -serviceName svcA
bind gslb vserver gvp -serviceName svcB
bind gslb vserver gvp -domainName pers.test -TTL 5
`
	l.sites(conf, map[string]string{"dcA": "a", "dcB": "b"}, func(string) string { return "127.0.0.1" }, "-mep-keepalive", labKeepAlive.String())
	const dns = "127.0.0.1"
	all := "10.77.0.11,10.77.0.12,10.77.0.13"
	l.wait("a", dns, "mon.test", all, "dcA answering every service", 30*time.Second)
	l.wait("b", dns, "mon.test", all, "dcB answering every service", 30*time.Second)
	// One client (127.0.0.1 on both sides) pinned to one service, which
	// both sites share (sessions travel every 5 s).
	pinned := l.answers("a", dns, "pers.test")
	l.wait("b", dns, "pers.test", pinned, "dcB sharing dcA's persistence session", 20*time.Second)

	cut := time.Now()
	l.cut("a", "b")
	for ns, want := range map[string]string{"a": "10.77.0.11,10.77.0.13", "b": "10.77.0.12,10.77.0.13"} {
		at := l.wait(ns, dns, "mon.test", want, ns+" answering its own services and the monitored svcB2", 4*labKeepAlive+5*time.Second)
		d := at.Sub(cut)
		t.Logf("partition: %s answers %s %v after the cut (keep-alive %v)", ns, want, d, labKeepAlive)
		if d < labKeepAlive-time.Second {
			t.Errorf("%s changed its answers %v after the cut, before the keep-alive", ns, d)
		}
	}
	for ns, own := range map[string]string{"a": "10.77.0.11", "b": "10.77.0.12"} {
		if got := l.answers(ns, dns, "pers.test"); got != own {
			t.Errorf("partition: %s answers the persistent client %q, want its own %s (pinned before: %s)", ns, got, own, pinned)
		}
	}
	t.Logf("partition: the client pinned to %s before the cut is re-chosen on the side that cannot reach it", pinned)

	l.healAndWait("a", "b", dns, all, "a", "b")
}

// TestPartitionChildFromParent (§7.11, fourth row): parents p1 and p2 and
// c, a child of p1 with -backupParentlist p2, each in its own namespace,
// joined by three links. Cut only c's link to p1: p1 reports c DOWN and
// relays it; p2 sees p1 UP and does not adopt c; c's svcC leaves both
// parents' answers, svcC2 stays, because its monitor runs at the parents
// under c's -triggerMonitor MEPDOWN. Heal: svcC is back at both.
func TestPartitionChildFromParent(t *testing.T) {
	l := newLab(t, map[string][]string{"p1": {"10.77.0.1"}, "p2": {"10.77.0.2"}, "c": {"10.77.0.3"}})
	l.link("p1", "p2")
	l.link("p1", "c")
	l.link("p2", "c")
	conf := `#NS13.1 Build 37.38
add gslb site p1 10.77.0.1
add gslb site p2 10.77.0.2
add gslb site c 10.77.0.3 -parentSite p1 -triggerMonitor MEPDOWN
set gslb site c -backupParentlist p2
add lb monitor reach TCP -destIP 127.0.0.1 -destPort 5300 -interval 1 -resptimeout 500 MSEC
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb service svcP1 10.77.0.11 HTTP 80 -siteName p1 -healthMonitor NO
add gslb service svcP2 10.77.0.12 HTTP 80 -siteName p2 -healthMonitor NO
add gslb service svcC 10.77.0.13 HTTP 80 -siteName c -healthMonitor NO
add gslb service svcC2 10.77.0.14 HTTP 80 -siteName c
bind gslb service svcC2 -monitorName reach
bind gslb vserver gv -serviceName svcP1
bind gslb vserver gv -serviceName svcP2
bind gslb vserver gv -serviceName svcC
bind gslb vserver gv -serviceName svcC2
bind gslb vserver gv -domainName mon.test -TTL 5
`
	procs := l.sites(conf, map[string]string{"p1": "p1", "p2": "p2", "c": "c"}, func(string) string { return "127.0.0.1" }, "-mep-keepalive", labKeepAlive.String())
	const dns = "127.0.0.1"
	all := "10.77.0.11,10.77.0.12,10.77.0.13,10.77.0.14"
	l.wait("p1", dns, "mon.test", all, "p1 answering every service", 30*time.Second)
	l.wait("p2", dns, "mon.test", all, "p2 answering every service", 30*time.Second)

	cut := time.Now()
	l.cut("p1", "c")
	without := "10.77.0.11,10.77.0.12,10.77.0.14"
	for _, ns := range []string{"p1", "p2"} {
		at := l.wait(ns, dns, "mon.test", without, ns+" dropping svcC, keeping the monitored svcC2", 4*labKeepAlive+5*time.Second)
		t.Logf("child link cut: %s answers %s %v after the cut", ns, without, at.Sub(cut))
	}
	// Three keep-alives more: p2 still does not adopt c (p1 is UP).
	l.steady("p2", dns, "mon.test", without, "p2 after the child's link to p1 was cut", 3*labKeepAlive)
	if log := procs["p2"].out.String(); strings.Contains(log, "adopting child site") {
		t.Error("p2 adopted c although its parent p1 is UP")
	}

	l.healAndWait("p1", "c", dns, all, "p1", "p2")
}

// TestPartitionHalves (§7.11, fifth row): four parents, two in each of
// two namespaces joined by one link. Cut it: each half answers what it can
// see (its two sites' services); heal it: every site answers all four.
func TestPartitionHalves(t *testing.T) {
	l := newLab(t, map[string][]string{"left": {"10.77.0.1", "10.77.0.3"}, "right": {"10.77.0.2", "10.77.0.4"}})
	l.link("left", "right")
	var conf strings.Builder
	conf.WriteString("#NS13.1 Build 37.38\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&conf, "add gslb site s%d 10.77.0.%d\n", i, i)
	}
	conf.WriteString("add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&conf, "add gslb service svc%d 10.77.0.%d HTTP 80 -siteName s%d -healthMonitor NO\nbind gslb vserver gv -serviceName svc%d\n", i, 10+i, i, i)
	}
	conf.WriteString("bind gslb vserver gv -domainName mon.test -TTL 5\n")
	where := map[string]string{"s1": "left", "s3": "left", "s2": "right", "s4": "right"}
	addr := func(site string) string { return "10.77.0." + site[1:] }
	l.sites(conf.String(), where, addr, "-mep-keepalive", labKeepAlive.String())
	all := "10.77.0.11,10.77.0.12,10.77.0.13,10.77.0.14"
	half := map[string]string{"left": "10.77.0.11,10.77.0.13", "right": "10.77.0.12,10.77.0.14"}
	for site, ns := range where {
		l.wait(ns, addr(site), "mon.test", all, site+" answering every service", 30*time.Second)
	}

	cut := time.Now()
	l.cut("left", "right")
	for _, site := range []string{"s1", "s2", "s3", "s4"} {
		ns := where[site]
		at := l.wait(ns, addr(site), "mon.test", half[ns], site+" answering its half", 4*labKeepAlive+5*time.Second)
		t.Logf("split: %s (%s) answers its half %v after the cut", site, ns, at.Sub(cut))
	}
	// The halves stay apart, each whole: no site of a half loses the other.
	for _, site := range []string{"s1", "s2"} {
		l.steady(where[site], addr(site), "mon.test", half[where[site]], site+" during the split", labKeepAlive)
	}

	healed := time.Now()
	l.heal("left", "right")
	var last time.Duration
	for _, site := range []string{"s1", "s2", "s3", "s4"} {
		at := l.wait(where[site], addr(site), "mon.test", all, site+" answering every service after the heal", 30*time.Second)
		last = max(last, at.Sub(healed))
	}
	// Converged within the redial (backoff at most 5 s +20 %), the
	// handshake and the full snapshot, plus learning.
	t.Logf("heal: every site answers all four %v after the link came back", last)
}
