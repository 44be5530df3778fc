package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// answersAt is the sorted answer set of mon.test at a DNS address
// ("error: ..." while nothing answers there).
func answersAt(t *testing.T, addr string) string {
	t.Helper()
	c := dns.Client{Timeout: 500 * time.Millisecond}
	r, _, err := c.Exchange(dnstest.Msg("mon.test", dns.TypeA), addr)
	if err != nil {
		return "error: " + err.Error()
	}
	a := dnstest.Addrs(r)
	slices.Sort(a)
	return strings.Join(a, ",")
}

// waitAnswersAt polls a DNS address until cond holds for its answer set;
// it returns when cond first held.
func waitAnswersAt(t *testing.T, addr, what string, timeout time.Duration, cond func(string) bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got string
	for time.Now().Before(deadline) {
		if got = answersAt(t, addr); cond(got) {
			return time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v (answer %q)", what, timeout, got)
	return time.Time{}
}

// mesh is a deployment of gslbd processes, one per site, from one file:
// site i on <net>.(i+1), its service svc_<site> on a backend at
// <net>.(11+i), all bound to the MIR vserver of mon.test.
type mesh struct {
	certs    string // the CA's and sites' certificates
	procs    map[string]*site2
	dns      map[string]string
	backends map[string]*backend
}

// certs makes the deployment CA and the sites' certificates with `gslbd
// cert` in dir/mep and returns that directory.
func certs(t *testing.T, dir string, sites ...string) string {
	t.Helper()
	bin := binary(t)
	d := filepath.Join(dir, "mep")
	for _, args := range append([][]string{{"cert", "ca", "-dir", d}}, func() (out [][]string) {
		for _, s := range sites {
			out = append(out, []string{"cert", "site", "-dir", d, s})
		}
		return
	}()...) {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("gslbd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return d
}

// startMesh writes the file (siteArgs: extra arguments of a site's add
// line; extra: lines after the sites) and starts every site's gslbd with
// args added.
func startMesh(t *testing.T, net string, names []string, siteArgs map[string]string, extra string, args ...string) *mesh {
	t.Helper()
	return startMeshTail(t, net, names, siteArgs, extra, "", args...)
}

// startMeshTail is startMesh with tail written at the end of the file.
func startMeshTail(t *testing.T, net string, names []string, siteArgs map[string]string, extra, tail string, args ...string) *mesh {
	t.Helper()
	dir := t.TempDir()
	m := &mesh{certs: certs(t, dir, names...), procs: map[string]*site2{}, dns: map[string]string{}, backends: map[string]*backend{}}
	var conf strings.Builder
	conf.WriteString("#NS13.1 Build 37.38\n")
	for i, n := range names {
		fmt.Fprintf(&conf, "add gslb site %s %s.%d%s\n", n, net, i+1, siteArgs[n])
		m.backends[n] = newBackend(t, fmt.Sprintf("%s.%d", net, 11+i))
	}
	conf.WriteString(extra)
	conf.WriteString("add gslb vserver gv HTTP -lbMethod ROUNDROBIN -MIR ENABLED\n")
	for _, n := range names {
		b := m.backends[n]
		fmt.Fprintf(&conf, "add gslb service svc_%s %s HTTP %s -siteName %s\nbind gslb vserver gv -serviceName svc_%s\n", n, b.IP(), b.Port(), n, n)
	}
	conf.WriteString("bind gslb vserver gv -domainName mon.test -TTL 5\n")
	conf.WriteString(tail)
	path := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePortOn(t, net+".1")
	for i, n := range names {
		ip := fmt.Sprintf("%s.%d", net, i+1)
		m.dns[n] = ip + ":" + freePortOn(t, ip)
		p := &site2{t: t, args: append([]string{"run", "-config", path, "-site", n, "-listen", m.dns[n], "-api", "", "-mep-port", port}, args...)}
		t.Cleanup(p.kill)
		p.start()
		m.procs[n] = p
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range names {
				t.Logf("%s's log:\n%s", n, m.procs[n].out)
			}
		}
	})
	return m
}

// addrs is the sorted, comma-joined backend addresses of sites.
func (m *mesh) addrs(sites ...string) string {
	var out []string
	for _, s := range sites {
		out = append(out, m.backends[s].IP())
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestThreeSitesOverMEP: three gslbd processes, one file, each its own
// site on its own loopback address with its own DNS listener, in a mesh
// of TLS links (the lower address dials). Each monitors only its own
// service (the default monitor) and answers the other two from what they
// report. kill -9 of dc3: the others drop its service as soon as the
// socket closes. kill -STOP of dc2: the others drop its service after the
// keep-alive; kill -CONT: back through LEARNING.
func TestThreeSitesOverMEP(t *testing.T) {
	const keepAlive = 2 * time.Second
	names := []string{"dc1", "dc2", "dc3"}
	m := startMesh(t, "127.0.53", names, nil, "", "-mep-keepalive", keepAlive.String())
	procs, dnsAddr, backends := m.procs, m.dns, m.backends
	all := m.addrs(names...)
	for _, n := range names {
		waitAnswersAt(t, dnsAddr[n], n+" answering every site's service", 30*time.Second, func(s string) bool { return s == all })
	}

	// kill -9 dc3: the kernel closes its sockets; dc1 and dc2 drop svc_dc3.
	gone := func(ip string) func(string) bool {
		return func(s string) bool { return !strings.HasPrefix(s, "error") && !strings.Contains(s, ip) }
	}
	killed := time.Now()
	procs["dc3"].cmd.Process.Kill()
	procs["dc3"].cmd.Wait()
	for _, n := range []string{"dc1", "dc2"} {
		at := waitAnswersAt(t, dnsAddr[n], n+" dropping dc3's service", 10*time.Second, gone(backends["dc3"].IP()))
		t.Logf("kill -9 dc3: %s dropped its service %v after the kill", n, at.Sub(killed))
		if d := at.Sub(killed); d > time.Second {
			t.Errorf("kill -9: %s took %v; the closed socket should tell it at once", n, d)
		}
	}
	procs["dc3"].start()
	for _, n := range names {
		waitAnswersAt(t, dnsAddr[n], n+" answering dc3 again", 30*time.Second, func(s string) bool { return s == all })
	}

	// kill -STOP dc2: nothing closes; dc1 and dc3 wait out the keep-alive.
	stopped := time.Now()
	if err := procs["dc2"].cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"dc1", "dc3"} {
		at := waitAnswersAt(t, dnsAddr[n], n+" dropping dc2's service", 4*keepAlive, gone(backends["dc2"].IP()))
		d := at.Sub(stopped)
		t.Logf("kill -STOP dc2: %s dropped its service %v after the stop (keep-alive %v)", n, d, keepAlive)
		if d < keepAlive-time.Second || d > keepAlive+2*time.Second {
			t.Errorf("kill -STOP: %s dropped dc2 after %v, want about the %v keep-alive", n, d, keepAlive)
		}
	}
	procs["dc2"].cmd.Process.Signal(syscall.SIGCONT)
	for _, n := range []string{"dc1", "dc3"} {
		waitAnswersAt(t, dnsAddr[n], n+" answering dc2 again", 30*time.Second, func(s string) bool { return s == all })
		procs[n].logged(n+" showing dc2 coming back through LEARNING", 5*time.Second, "site=dc2 from=DOWN to=LEARNING", "site=dc2 from=LEARNING to=UP")
	}
}

// TestChildThroughParent: parents p1 and p2 and c1, a child of p1, each a
// gslbd process. p2 has no link to c1: it answers c1's service because p1
// relays it (CHILD_RELAY), drops it as soon as c1 dies (p1's link to it
// closes), and drops p1's and c1's services together when p1 dies.
func TestChildThroughParent(t *testing.T) {
	m := startMesh(t, "127.0.54", []string{"p1", "p2", "c1"}, map[string]string{"c1": " -parentSite p1"}, "")
	procs, dnsAddr := m.procs, m.dns
	ip := func(n string) string { return m.backends[n].IP() }
	all := m.addrs("p1", "p2", "c1")
	waitAnswersAt(t, dnsAddr["p2"], "p2 answering c1's service through p1", 30*time.Second, func(s string) bool { return s == all })
	waitAnswersAt(t, dnsAddr["p1"], "p1 answering every service", 30*time.Second, func(s string) bool { return s == all })

	killed := time.Now()
	procs["c1"].cmd.Process.Kill()
	procs["c1"].cmd.Wait()
	at := waitAnswersAt(t, dnsAddr["p2"], "p2 dropping the dead child's service", 10*time.Second, func(s string) bool { return s == m.addrs("p1", "p2") })
	t.Logf("kill -9 c1: p2 dropped its service %v after the kill (told by p1)", at.Sub(killed))
	if d := at.Sub(killed); d > time.Second {
		t.Errorf("p2 learnt of c1's death after %v", d)
	}
	procs["c1"].start()
	waitAnswersAt(t, dnsAddr["p2"], "p2 answering c1 again", 30*time.Second, func(s string) bool { return s == all })

	killed = time.Now()
	procs["p1"].cmd.Process.Kill()
	procs["p1"].cmd.Wait()
	at = waitAnswersAt(t, dnsAddr["p2"], "p2 dropping p1 and its child", 10*time.Second, func(s string) bool { return s == ip("p2") })
	t.Logf("kill -9 p1: p2 dropped p1's and c1's services %v after the kill", at.Sub(killed))
	procs["p2"].logged("p2 saying c1 went with its parent", 5*time.Second, "its parent p1 is DOWN")
}

// TestBackupParentAdoptsChild: parents p1, p2, p3 and c1, a child of p1
// with -backupParentlist p2, each a gslbd process. kill -9 p1: p2 adopts
// c1 and relays it; p3 keeps answering c1's service throughout (the
// adoption grace) and drops p1's own at once.
func TestBackupParentAdoptsChild(t *testing.T) {
	m := startMesh(t, "127.0.55", []string{"p1", "p2", "p3", "c1"}, map[string]string{"c1": " -parentSite p1"},
		"set gslb site c1 -backupParentlist p2\n")
	procs, dnsAddr := m.procs, m.dns
	all := m.addrs("p1", "p2", "p3", "c1")
	waitAnswersAt(t, dnsAddr["p3"], "p3 answering every service", 30*time.Second, func(s string) bool { return s == all })
	// p2 has p1 UP too (it answers p1's service): a backup parent that
	// never saw the parent UP waits longer before adopting.
	waitAnswersAt(t, dnsAddr["p2"], "p2 answering every service", 30*time.Second, func(s string) bool { return s == all })

	killed := time.Now()
	procs["p1"].cmd.Process.Kill()
	procs["p1"].cmd.Wait()
	without := m.addrs("p2", "p3", "c1")
	waitAnswersAt(t, dnsAddr["p3"], "p3 dropping p1's own service", 10*time.Second, func(s string) bool { return s == without })
	// For 8 s (four keep-alives) p3 answers c1's service all along.
	for time.Since(killed) < 8*time.Second {
		if got := answersAt(t, dnsAddr["p3"]); got != without {
			t.Fatalf("%v after p1 died p3 answers %q, want %q (c1 adopted by p2)", time.Since(killed), got, without)
		}
		time.Sleep(20 * time.Millisecond)
	}
	procs["p3"].logged("p3 learning c1 through p2", 5*time.Second, "relayed by its backup parent p2: UP")
	adoptedAt := time.Time{}
	for _, line := range strings.Split(procs["p3"].out.String(), "\n") {
		if strings.Contains(line, "relayed by its backup parent p2: UP") {
			ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			adoptedAt, _ = time.Parse(time.RFC3339Nano, ts)
			break
		}
	}
	if adoptedAt.IsZero() {
		t.Fatal("p3 did not learn c1 through p2")
	}
	t.Logf("kill -9 p1: p3 learnt c1 through its backup parent p2 %v after the kill", adoptedAt.Sub(killed))
	if d := adoptedAt.Sub(killed); d > 5*time.Second {
		t.Errorf("adoption took %v, target 5s", d)
	}
	procs["p2"].logged("p2 adopting c1", 5*time.Second, "adopting child site")
}

// TestAllDownOverMEP (docs/mep-design.md §7.11, last row): nothing is
// answerable anywhere. dc2 is killed (its service goes DOWN at dc1 with
// the link) and dc1's own backend dies (its monitor takes it DOWN): dc1
// answers with every configured service (fail open), with the backup IP
// where one is bound, and with an empty NOERROR under -EDR ENABLED.
func TestAllDownOverMEP(t *testing.T) {
	const keepAlive = 2 * time.Second
	tail := `add gslb vserver gve HTTP -lbMethod ROUNDROBIN -MIR ENABLED -EDR ENABLED
bind gslb vserver gve -serviceName svc_dc1
bind gslb vserver gve -serviceName svc_dc2
bind gslb vserver gve -domainName edr.test -TTL 5
add gslb vserver gvb HTTP -lbMethod ROUNDROBIN -MIR ENABLED
bind gslb vserver gvb -serviceName svc_dc1
bind gslb vserver gvb -serviceName svc_dc2
bind gslb vserver gvb -domainName bip.test -TTL 5 -backupIP 192.0.2.99
`
	m := startMeshTail(t, "127.0.58", []string{"dc1", "dc2"}, nil, "", tail, "-mep-keepalive", keepAlive.String())
	both := m.addrs("dc1", "dc2")
	dc1 := m.dns["dc1"]
	waitAnswersAt(t, dc1, "dc1 answering both sites", 30*time.Second, func(s string) bool { return s == both })
	ask := func(name string) (int, string) {
		t.Helper()
		c := dns.Client{Timeout: time.Second}
		r, _, err := c.Exchange(dnstest.Msg(name, dns.TypeA), dc1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		a := dnstest.Addrs(r)
		slices.Sort(a)
		return r.Rcode, strings.Join(a, ",")
	}

	m.procs["dc2"].cmd.Process.Kill()
	m.procs["dc2"].cmd.Wait()
	waitAnswersAt(t, dc1, "dc1 dropping dc2", 10*time.Second, func(s string) bool { return s == m.addrs("dc1") })
	m.backends["dc1"].Kill()
	// Both DOWN now: the MIR vserver fails open with both.
	at := waitAnswersAt(t, dc1, "dc1 failing open once its own service is DOWN too", 30*time.Second, func(s string) bool { return s == both })
	if rc, a := ask("edr.test"); rc != dns.RcodeSuccess || a != "" {
		t.Errorf("edr.test with every service DOWN: rcode %s, answers %q; want an empty NOERROR (-EDR ENABLED)", dns.RcodeToString[rc], a)
	}
	if rc, a := ask("bip.test"); rc != dns.RcodeSuccess || a != "192.0.2.99" {
		t.Errorf("bip.test with every service DOWN: rcode %s, answers %q; want the backup IP 192.0.2.99", dns.RcodeToString[rc], a)
	}
	// It stays that way: fail open is the answer, not a blip.
	for end := time.Now().Add(keepAlive); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got := answersAt(t, dc1); got != both {
			t.Fatalf("%v after failing open dc1 answers %q", time.Since(at), got)
		}
	}
}

// TestCertificatesReloadOnSIGHUP: the deployment's CA and both sites'
// certificates are replaced and both gslbd get SIGHUP: each logs the
// reload and the link stays up. dc2 then restarts with its new
// certificate: dc1 links with it again, which it could not with the old CA
// bundle.
func TestCertificatesReloadOnSIGHUP(t *testing.T) {
	names := []string{"dc1", "dc2"}
	m := startMesh(t, "127.0.60", names, nil, "", "-mep-keepalive", "2s")
	both := m.addrs(names...)
	for _, n := range names {
		waitAnswersAt(t, m.dns[n], n+" answering both", 30*time.Second, func(s string) bool { return s == both })
	}
	bin := binary(t)
	for _, args := range [][]string{{"cert", "ca", "-dir", m.certs, "-force"}, {"cert", "site", "-dir", m.certs, "dc1"}, {"cert", "site", "-dir", m.certs, "dc2"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("gslbd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, n := range names {
		m.procs[n].cmd.Process.Signal(syscall.SIGHUP)
	}
	for _, n := range names {
		waitFor(t, n+" reloading its certificates", 10*time.Second, func() bool { return strings.Contains(m.procs[n].out.String(), "site certificates reloaded") })
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got := answersAt(t, m.dns["dc1"]); got != both {
			t.Fatalf("after the reload dc1 answers %q: the link went down", got)
		}
	}
	m.procs["dc2"].kill()
	waitAnswersAt(t, m.dns["dc1"], "dc1 dropping dc2", 10*time.Second, func(s string) bool { return s == m.addrs("dc1") })
	m.procs["dc2"].start()
	waitAnswersAt(t, m.dns["dc1"], "dc1 linking with dc2's new certificate", 30*time.Second, func(s string) bool { return s == both })
}
