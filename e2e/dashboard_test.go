package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
)

// TestDashboardInBrowser: gslbd's dashboard in Debian's headless
// Chromium, driven by chromedp, against a gslbd process serving its API
// over TLS. Log in as an API user; the page shows the sites with their
// link state and the vserver with its services UP; the backend behind a
// service stops and the page shows it DOWN within 2 s, with the event in
// the timeline; queries then go to the other service, and the page's
// answer share shows it; the explain form answers. On failure the page's
// screenshot is saved and its path logged.
func TestDashboardInBrowser(t *testing.T) {
	chromium := program(t, "chromium", "chromium")
	bin := binary(t)
	be := newBackend(t, "127.0.0.93")
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	confText := "#NS13.1 Build 37.38\nadd gslb site s1 127.0.0.1\nadd gslb site s2 REMOTE 127.0.0.2\n" +
		"add lb monitor m TCP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 1\n" +
		fmt.Sprintf("add gslb service web %s HTTP %s -siteName s1\nbind gslb service web -monitorName m\n", be.IP(), be.Port()) +
		"add gslb service far 198.51.100.10 HTTP 80 -siteName s2\n" +
		"add gslb vserver gv HTTP -lbMethod ROUNDROBIN\nbind gslb vserver gv -serviceName web\nbind gslb vserver gv -serviceName far\n" +
		"bind gslb vserver gv -domainName dash.test -TTL 5\n"
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	const password = "dash-board-pass-1"
	add := exec.Command(bin, "user", "add", "-config", conf, "nsroot")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("gslbd user add: %v\n%s", err, out)
	}
	apiAddr, dnsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := &site2{t: t, args: []string{"run", "-config", conf, "-listen", dnsAddr,
		"-api", apiAddr, "-mep-port", fmt.Sprint(freePort(t)), "-mep-plain-port", fmt.Sprint(freePort(t))}}
	t.Cleanup(p.kill)
	p.start()
	p.logged("the API listening", 10*time.Second, "gslbd NITRO API on https://")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.IgnoreCertErrors,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// The first call starts the browser for bctx's lifetime; each later
	// one has its own deadline.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	defer func() {
		if t.Failed() {
			screenshot(t, bctx)
			ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
			defer cancel()
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Logf("the page's text:\n%s", body)
		}
	}()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// text is an element's text ("" when absent).
	text := func(sel string) string {
		ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		defer cancel()
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
		return s
	}
	waitText := func(what, sel string, timeout time.Duration, cond func(string) bool) time.Time {
		t.Helper()
		deadline := time.Now().Add(timeout)
		var got string
		for time.Now().Before(deadline) {
			if got = text(sel); cond(got) {
				return time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s: %s shows %q after %v", what, sel, got, timeout)
		return time.Time{}
	}

	do("open the dashboard", chromedp.Navigate("https://"+apiAddr+"/"), chromedp.WaitVisible(chromedp.ID("login-form")))
	do("log in with a wrong password", chromedp.SendKeys(chromedp.ID("username"), "nsroot"), chromedp.SendKeys(chromedp.ID("password"), "wrong-password"),
		chromedp.Click(chromedp.ID("login")))
	waitText("a wrong password refused", "#login-error", 10*time.Second, func(s string) bool { return s != "" })
	do("log in", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("login-form")),
		chromedp.SendKeys(chromedp.ID("username"), "nsroot"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.ID("main-view")))
	waitText("the service UP", `[data-service="web"] .svc-state`, 15*time.Second, func(s string) bool { return s == "UP" })
	waitText("the remote site and its link", `[data-site="s2"]`, 5*time.Second, func(s string) bool { return strings.Contains(s, "REMOTE") && strings.Contains(s, "NONE") })
	waitText("the vserver", `[data-vserver="gv"] h3`, 5*time.Second, func(s string) bool { return strings.Contains(s, "gv UP") })
	waitText("the domain", `[data-vserver="gv"] .domains`, 5*time.Second, func(s string) bool { return strings.Contains(s, "dash.test") })
	waitText("the event stream", "#live", 10*time.Second, func(s string) bool { return s == "live" })

	be.Kill()
	broken := time.Now()
	at := waitText("the service DOWN", `[data-service="web"] .svc-state`, 10*time.Second, func(s string) bool { return s == "DOWN" })
	t.Logf("the dashboard showed web DOWN %v after its backend stopped", at.Sub(broken).Round(time.Millisecond))
	if d := at.Sub(broken); d > 2*time.Second {
		t.Errorf("the dashboard showed the service DOWN after %v, want within 2s", d)
	}
	waitText("the reason", `[data-service="web"] .reason`, 5*time.Second, func(s string) bool { return strings.Contains(s, "monitor m") })
	waitText("the event", `#events li[data-kind="service"][data-name="web"]`, 5*time.Second, func(s string) bool { return strings.Contains(s, "UP → DOWN") })

	// The answers go to far alone now: its share reaches 100%.
	for range 40 {
		dnstest.Exchange(t, dnstest.UDP, dnsAddr, dnstest.Msg("dash.test", dns.TypeA))
	}
	waitText("the answer distribution", `[data-service="far"] .share`, 10*time.Second, func(s string) bool { return strings.HasPrefix(s, "100%") })

	do("explain", chromedp.SendKeys(chromedp.ID("explain-domain"), "dash.test"), chromedp.SendKeys(chromedp.ID("explain-client"), "192.0.2.7"),
		chromedp.Click(chromedp.ID("explain")))
	waitText("the explanation", "#explain-out", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "dash.test A from 192.0.2.7") && strings.Contains(s, "vserver: gv") && strings.Contains(s, "answer: NOERROR 198.51.100.10")
	})
}

// screenshot saves the page as a PNG under the system's temporary
// directory (kept after the test) and logs where.
func screenshot(t *testing.T, ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	dir := filepath.Join(os.TempDir(), "gslbd-test-artifacts")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+time.Now().Format("150405")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the page: %s (%d bytes)", path, len(png))
}
