package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
)

// TestCookiesWithDigAndKdig: gslbd's DNS cookies (RFC 7873, RFC 9018)
// with BIND's dig and Knot's kdig. Both learn a server cookie ("good" in
// dig's words). Then a flood from another address exhausts the name's
// rate (1 a second, every limited response slipped), and queries that
// send the learned cookie back are answered every time, by dig and by
// kdig; a query that sends a client cookie only gets BADCOOKIE, and dig
// asks again with the cookie it was given and is answered.
func TestCookiesWithDigAndKdig(t *testing.T) {
	digBin := program(t, "dig", "dnsutils")
	kdigBin := program(t, "kdig", "knot-dnsutils")
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	writeOneDomainConf(t, conf, "www.cookie.test", "set dns parameter -rrlResponsesPerSecond 1 -rrlWindow 15 -rrlSlip 1\n")
	port := freePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	p := &site2{t: t, args: []string{"run", "-config", conf, "-listen", listen, "-api", ""}}
	t.Cleanup(p.kill)
	p.start()
	waitFor(t, "gslbd answering", 10*time.Second, func() bool {
		r, err := dnstest.TryExchange(dnstest.TCP, listen, dnstest.Msg("www.cookie.test", dns.TypeA), time.Second)
		return err == nil && len(r.Answer) == 1
	})
	run := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"@127.0.0.1", "-p", fmt.Sprint(port), "www.cookie.test"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// Over TCP (never limited): the cookies are learned.
	out := run(digBin, "+cookie", "+tcp")
	m := regexp.MustCompile(`; COOKIE: ([0-9a-f]{48}) \(good\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dig +cookie: no good cookie of 24 bytes:\n%s", out)
	}
	digCookie := m[1]
	out = run(kdigBin, "+cookie", "+tcp")
	km := regexp.MustCompile(`;; COOKIE: ([0-9A-F]{48})`).FindStringSubmatch(out)
	if km == nil {
		t.Fatalf("kdig +cookie: no cookie of 24 bytes:\n%s", out)
	}
	kdigCookie := km[1]

	// A flood for the name from the same address over
	// UDP: the account is spent.
	flood := dnstest.Msg("www.cookie.test", dns.TypeA)
	limited := 0
	for range 50 {
		r, err := dnstest.TryExchange(dnstest.UDP, listen, flood, time.Second)
		if err == nil && r.Truncated {
			limited++
		}
	}
	if limited < 40 {
		t.Fatalf("the flood of 50 got only %d slips: the limit is not working", limited)
	}
	for i := range 10 {
		out := run(digBin, "+cookie="+digCookie, "+tries=1", "+timeout=3")
		if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "192.0.2.10") || !strings.Contains(out, "(good)") || strings.Contains(out, "flags: qr aa tc") {
			t.Fatalf("dig with its server cookie, query %d while limited:\n%s", i+1, out)
		}
		out = run(kdigBin, "+cookie="+kdigCookie, "+retry=0", "+timeout=3")
		if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "192.0.2.10") || strings.Contains(out, "flags: qr aa tc") {
			t.Fatalf("kdig with its server cookie, query %d while limited:\n%s", i+1, out)
		}
	}
	// A client cookie only, while limited: BADCOOKIE, and dig asks again
	// with the server cookie it got.
	out = run(digBin, "+cookie=1112131415161718", "+tries=1", "+timeout=3")
	if !strings.Contains(out, "BADCOOKIE, retrying") || !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "192.0.2.10") {
		t.Fatalf("dig with a client cookie only while limited: want BADCOOKIE, then the answer:\n%s", out)
	}
	// A malformed cookie: FORMERR.
	out = run(digBin, "+cookie=11121314151617", "+tries=1", "+timeout=3")
	if !strings.Contains(out, "status: FORMERR") {
		t.Fatalf("dig with a 7-byte cookie:\n%s", out)
	}
}
