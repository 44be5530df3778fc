package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
)

// TestDNSTapWithDebianTools: `gslbd run -dnstap unix:PATH` logs to
// dnstap's own collector, fstrm_capture (Debian's fstrm-bin), and
// dnstap-ldns (Debian's dnstap-ldns) reads the file back: a UDP A query
// and a TCP AAAA query each as AUTH_QUERY and AUTH_RESPONSE, from the
// client's address over its transport, with the GSLB answer.
func TestDNSTapWithDebianTools(t *testing.T) {
	capture := program(t, "fstrm_capture", "fstrm-bin")
	reader := program(t, "dnstap-ldns", "dnstap-ldns")
	dir := t.TempDir()
	sock, file := filepath.Join(dir, "tap.sock"), filepath.Join(dir, "tap.fstrm")
	col := exec.Command(capture, "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", file)
	colOut := &syncBuffer{}
	col.Stdout, col.Stderr = colOut, colOut
	if err := col.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { col.Process.Kill(); col.Wait() }()
	waitFor(t, "fstrm_capture's socket", 10*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })

	conf := filepath.Join(dir, "ns.conf")
	writeOneDomainConf(t, conf, "www.tap.test", "")
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := &site2{t: t, args: []string{"run", "-config", conf, "-listen", listen, "-api", "", "-dnstap", "unix:" + sock, "-dnstap-identity", "e2e-tap"}}
	t.Cleanup(p.kill)
	p.start()
	p.logged("gslbd connecting to fstrm_capture", 10*time.Second, "collector connected")
	waitFor(t, "gslbd answering", 10*time.Second, func() bool {
		r, err := dnstest.TryExchange(dnstest.UDP, listen, dnstest.Msg("www.tap.test", dns.TypeA), time.Second)
		return err == nil && len(r.Answer) == 1
	})
	if r := dnstest.Exchange(t, dnstest.TCP, listen, dnstest.Msg("www.tap.test", dns.TypeAAAA)); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("AAAA over TCP: %s", dns.RcodeToString[r.Rcode])
	}
	// gslbd stops first (its tap flushes and says STOP), then the
	// collector closes its file.
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	col.Process.Signal(syscall.SIGTERM)
	col.Wait()
	out, err := exec.Command(reader, "-r", file, "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-ldns: %v\n%s\nfstrm_capture said:\n%s", err, out, colOut)
	}
	text := string(out)
	t.Logf("dnstap-ldns -q:\n%s", text)
	for _, want := range []string{"AQ 127.0.0.1 UDP", "AR 127.0.0.1 UDP", "AQ 127.0.0.1 TCP", "AR 127.0.0.1 TCP", `"www.tap.test." IN A`, `"www.tap.test." IN AAAA`} {
		if !strings.Contains(text, want) {
			t.Errorf("dnstap-ldns shows no %q", want)
		}
	}
	yaml, err := exec.Command(reader, "-r", file, "-y").CombinedOutput()
	if err != nil || !strings.Contains(string(yaml), `identity: "e2e-tap"`) || !strings.Contains(string(yaml), "192.0.2.10") {
		t.Errorf("dnstap-ldns -y: %v (want the identity and the answer 192.0.2.10)\n%s", err, yaml)
	}
}
