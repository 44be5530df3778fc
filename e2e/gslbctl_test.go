package e2e

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nitro"
	"github.com/gslbd/gslbd/internal/shell"
)

// TestGSLBCtl drives gslbctl -c and -f against a gslbd API over verified
// TLS: NetScaler commands change the running configuration, show lays it
// out, and a batch stops at its first bad line and names it.
func TestGSLBCtl(t *testing.T) {
	d, _, srv := nitroServer(t, saveBase)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	bin := built(t, "gslbctl")
	ctl := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"-url", srv.URL, "-cacert", ca}, args...)...)
		cmd.Env = append(os.Environ(), "GSLBCTL_PASSWORD="+nitroPassword)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range []string{
		"add gslb vserver gv2 HTTP -lbMethod ROUNDROBIN",
		"add gslb service s2 192.0.2.20 HTTP 80 -siteName s1",
		"bind gslb vserver gv2 -serviceName s2 -weight 5",
		"bind gslb vserver gv2 -domainName www2.save.test -TTL 7",
		"set gslb vserver gv2 -MIR ENABLED",
	} {
		if out, err := ctl("-c", c); err != nil || !strings.Contains(out, "Done") {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	if got := answerSet(t, d, "www2.save.test"); got != "192.0.2.20" {
		t.Fatalf("DNS after gslbctl: %q", got)
	}
	out, err := ctl("-c", "sh gslb vserver gv2")
	for _, want := range []string{"\tgv2 - HTTP", "\tlbMethod: ROUNDROBIN", "\tMIR: ENABLED", "bound gslbservice:", "servicename: s2", "weight: 5", "bound domain:", "domainname: www2.save.test"} {
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("show gslb vserver gv2 lacks %q (%v):\n%s", want, err, out)
		}
	}
	if out, _ := ctl("-c", "show gslb vserver"); !strings.Contains(out, "2 entities") || !strings.Contains(out, "1)\tgv - HTTP") {
		t.Fatalf("show gslb vserver:\n%s", out)
	}
	if out, err := ctl("-c", "stat gslb vserver gv2"); err != nil || !strings.Contains(out, "\tVserver hits: 1") || !strings.Contains(out, "\tVserver Health: 100") {
		t.Fatalf("stat gslb vserver gv2: %v\n%s", err, out)
	}
	// The RTT method's table: empty here, cleared, an unknown entry refused.
	for _, c := range []string{"show gslb ldnsentries", "clear gslb ldnsentries", "flush gslb ldnsentries"} {
		if out, err := ctl("-c", c); err != nil || !strings.Contains(out, "Done") {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	if out, err := ctl("-c", "rm gslb ldnsentry 192.0.2.99"); err == nil || !strings.Contains(out, "No such resource") {
		t.Fatalf("rm gslb ldnsentry of an unknown resolver: %v\n%s", err, out)
	}
	// Why a client gets its answer: the trace, and the answer it predicts.
	if out, err := ctl("-c", "explain www2.save.test -client 198.51.100.7 -type A"); err != nil || !strings.Contains(out, "vserver: gv2 (answering from gv2), method ROUNDROBIN") ||
		!strings.Contains(out, "s2 192.0.2.20 (site s1, weight 5)") || !strings.Contains(out, "answer: NOERROR 192.0.2.20, TTL 7") || !strings.Contains(out, "Done") {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	if out, err := ctl("-c", "explain www2.save.test -client nonsense"); err == nil || !strings.Contains(out, "not an IP address") {
		t.Fatalf("explain with a bad client: %v\n%s", err, out)
	}
	if out, err := ctl("-c", "stat gslb domain www2.save.test"); err != nil || !strings.Contains(out, "\tDNS queries: 1") {
		t.Fatalf("stat gslb domain: %v\n%s", err, out)
	}
	// Arguments gslbd keeps but does not act on are named, as the
	// appliance prints its warnings before Done.
	if out, err := ctl("-c", "set gslb vserver gv2 -comment web"); err != nil || !strings.Contains(out, "Warning: -comment is accepted and saved") || !strings.Contains(out, "Done") {
		t.Fatalf("set with a warning: %v\n%s", err, out)
	}
	if out, err := ctl("-c", "bind gslb service s2 -viewName inside 10.1.1.1"); err == nil || !strings.Contains(out, `no such dns view "inside"`) {
		t.Fatalf("view binding without the view: %v\n%s", err, out)
	}
	for _, c := range []string{"add dns view inside", "bind gslb service s2 -viewName inside 10.1.1.1"} {
		if out, err := ctl("-c", c); err != nil || !strings.Contains(out, "Done") || strings.Contains(out, "Warning") {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
	}
	if out, err := ctl("-c", "bind gslb vserver gv2 -serviceName nosuch"); err == nil || !strings.Contains(out, "ERROR:") || !strings.Contains(out, "nosuch") {
		t.Fatalf("bad bind: %v\n%s", err, out)
	}
	if out, _ := ctl("-c", "diff ns config"); !strings.Contains(out, "+ add gslb vserver gv2 HTTP") {
		t.Fatalf("diff ns config:\n%s", out)
	}
	if out, err := ctl("-c", "save ns config"); err != nil || !strings.Contains(out, "Done") {
		t.Fatalf("save: %v\n%s", err, out)
	}
	if out, _ := ctl("-c", "show ns runningConfig"); !strings.Contains(out, "bind gslb vserver gv2 -serviceName s2 -weight 5") {
		t.Fatalf("show ns runningConfig:\n%s", out)
	}
	if out, err := ctl("-c", "clear ns config full"); err == nil || !strings.Contains(out, "usage: clear ns config basic") {
		t.Fatalf("clear ns config full: %v\n%s", err, out)
	}
	// A batch stops at its first error and names the line.
	batch := filepath.Join(t.TempDir(), "batch.conf")
	os.WriteFile(batch, []byte("# a comment\nunbind gslb vserver gv2 -serviceName s2\nrm gslb vserver nosuch\nrm gslb service s2\n"), 0o600)
	out, err = ctl("-f", batch)
	if err == nil || !strings.Contains(out, "batch.conf:3: rm gslb vserver nosuch") {
		t.Fatalf("batch: %v\n%s", err, out)
	}
	if _, ok := d.Config().Services.Get("s2"); !ok {
		t.Fatal("the batch went on after its failing line")
	}
	if out, err := ctl("-k", "-f", batch); err == nil || !strings.Contains(out, "batch.conf:3:") {
		t.Fatalf("batch -k: %v\n%s", err, out)
	}
	if _, ok := d.Config().Services.Get("s2"); ok {
		t.Fatal("-k did not go on after the failing line")
	}
}

// TestGSLBCtlCompletion: Tab completes verbs, groups, options and the
// names of entities on the server.
func TestGSLBCtlCompletion(t *testing.T) {
	_, _, srv := nitroServer(t, saveBase)
	c := &nitro.Client{Base: srv.URL, HTTP: srv.Client()}
	ctx := context.Background()
	if err := c.Login(ctx, "nsroot", nitroPassword); err != nil {
		t.Fatal(err)
	}
	defer c.Logout(ctx)
	sh := &shell.Shell{Client: c, Out: &strings.Builder{}}
	for _, tc := range []struct{ in, want string }{
		{"bi", "bind "},
		{"bind gs", "bind gslb "},
		{"bind gslb vs", "bind gslb vserver "},
		{"bind gslb vserver g", "bind gslb vserver gv "},
		{"bind gslb vserver gv -serviceN", "bind gslb vserver gv -serviceName "},
		{"bind gslb vserver gv -serviceName ", "bind gslb vserver gv -serviceName a "},
		{"add gslb vserver x HTTP -lbM", "add gslb vserver x HTTP -lbMethod "},
		{"sh gslb s", "sh gslb s"}, // site, service, serviceGroup: no single completion
	} {
		got, pos, _ := sh.Complete(ctx, tc.in, len(tc.in))
		if got != tc.want || pos != len(tc.want) {
			t.Errorf("complete %q = %q (%d), want %q", tc.in, got, pos, tc.want)
		}
	}
}
