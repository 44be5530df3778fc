package e2e

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/miekg/dns"
)

func reloadConf(ip string, extra string) string {
	return fmt.Sprintf(`add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service svc %s HTTP 80 -siteName s1
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
bind gslb vserver gv -serviceName svc
bind gslb vserver gv -domainName r.test -TTL 5
%s`, ip, extra)
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.conf")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(reloadConf("192.0.2.1", ""))
	d, err := daemon.Start(daemon.Options{ConfigPath: path, Listen: []string{"127.0.0.1:0"},
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	expect(t, d, "r.test", "192.0.2.1")

	write(reloadConf("192.0.2.2", ""))
	if err := d.Reload(); err != nil {
		t.Fatalf("good reload: %v", err)
	}
	expect(t, d, "r.test", "192.0.2.2")

	// A bad file: every error reported with its place; the old
	// configuration keeps serving.
	write(reloadConf("192.0.2.3", "bind gslb vserver gv -serviceName nosuch\nadd gslb vserver gv2 HTTP -lbMethod FASTEST\n"))
	err = d.Reload()
	var l nsconf.ErrorList
	if !errors.As(err, &l) || len(l) != 2 {
		t.Fatalf("bad reload: got %v, want 2 errors", err)
	}
	if !strings.Contains(l[0].Error(), "ns.conf:7:") || !strings.Contains(l[1].Error(), "ns.conf:8:") {
		t.Fatalf("errors do not name their lines: %v", l)
	}
	expect(t, d, "r.test", "192.0.2.2")

	// A file that vanished is rejected too.
	os.Remove(path)
	if err := d.Reload(); err == nil {
		t.Fatal("reload of a missing file succeeded")
	}
	expect(t, d, "r.test", "192.0.2.2")
}

func TestReloadListeners(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.conf")
	conf := func(adns string) string {
		return strings.Replace(reloadConf("192.0.2.1", ""), "add service adns 127.0.0.1 ADNS 53", adns, 1)
	}
	port := freePort(t)
	os.WriteFile(path, []byte(conf(fmt.Sprintf("add service adns 127.0.0.1 ADNS %d", port))), 0o644)
	d, err := daemon.Start(daemon.Options{ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a1 := fmt.Sprintf("127.0.0.1:%d", port)
	dnstest.Exchange(t, dnstest.UDP, a1, dnstest.Msg("r.test", dns.TypeA))
	// Add a second ADNS service: the new listener opens, the old stays.
	port2 := freePort(t)
	os.WriteFile(path, []byte(conf(fmt.Sprintf("add service adns 127.0.0.1 ADNS %d\nadd service adns2 127.0.0.1 ADNS_TCP %d", port, port2))), 0o644)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	dnstest.Exchange(t, dnstest.UDP, a1, dnstest.Msg("r.test", dns.TypeA))
	dnstest.Exchange(t, dnstest.TCP, fmt.Sprintf("127.0.0.1:%d", port2), dnstest.Msg("r.test", dns.TypeA))
	// Remove the first: it closes.
	os.WriteFile(path, []byte(conf(fmt.Sprintf("add service adns2 127.0.0.1 ADNS_TCP %d", port2))), 0o644)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := dnstest.TryExchange(dnstest.TCP, a1, dnstest.Msg("r.test", dns.TypeA), 500e6); err == nil {
		t.Fatal("removed listener still answers")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	d := start(t, reloadConf("192.0.2.9", ""))
	a := d.UDPAddr()
	d.Close()
	var p int
	fmt.Sscanf(a[strings.LastIndexByte(a, ':')+1:], "%d", &p)
	return p
}

// TestForeignADNSAddress: an appliance config names ADNS addresses of the
// appliance; serving it here fails with a hint, and -listen overrides it.
func TestForeignADNSAddress(t *testing.T) {
	b, err := os.ReadFile("testdata/active-active.conf")
	if err != nil {
		t.Fatal(err)
	}
	_, err = daemon.Start(daemon.Options{ConfigText: b})
	if err == nil || !strings.Contains(err.Error(), "10.10.1.5:53") || !strings.Contains(err.Error(), "-listen") {
		t.Fatalf("got %v, want a listen error naming 10.10.1.5:53 and -listen", err)
	}
	d := start(t, string(b)) // start() passes -listen 127.0.0.1:0
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("gateway.gslb.example.com", dns.TypeA))
	if len(r.Answer) != 1 {
		t.Fatalf("answer: %v", r)
	}
}
