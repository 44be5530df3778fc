package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

var nsconfBlock = regexp.MustCompile("(?s)```ns\\.conf\n(.*?)```")

// TestDocExamples loads every ```ns.conf example of the README and docs/
// and serves it: a documented configuration that does not work is a bug.
func TestDocExamples(t *testing.T) {
	files, _ := filepath.Glob("../docs/*.md")
	files = append(files, "../README.md")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range nsconfBlock.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, err := daemon.Load(f, strings.NewReader(m[1])); err != nil {
				t.Errorf("%s example %d: %v", f, i+1, err)
				continue
			}
			if strings.Contains(m[1], "www.gslb.example.com") {
				d := start(t, m[1])
				r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), dnstest.Msg("www.gslb.example.com", dns.TypeA))
				if len(r.Answer) != 1 {
					t.Errorf("%s example %d: no answer for www.gslb.example.com", f, i+1)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no ns.conf examples found")
	}
}

var (
	nitroBlock   = regexp.MustCompile("(?s)```sh nitro\n(.*?)```")
	gslbctlBlock = regexp.MustCompile("(?s)```gslbctl\n(.*?)```")
	sseBlock     = regexp.MustCompile("(?s)```sh sse\n(.*?)```")
)

// TestAPIDocExamples runs every curl command of docs/api.md against a
// real gslbd: each must succeed with errorcode 0.
func TestAPIDocExamples(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl not found: apt-get install curl (.ci/run does)")
	}
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	m := nitroBlock.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no ```sh nitro block in docs/api.md")
	}
	// docs/events.md's and explain.md's examples read what api.md's made.
	for _, page := range []string{"../docs/events.md", "../docs/explain.md"} {
		ev, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		em := nitroBlock.FindStringSubmatch(string(ev))
		if em == nil {
			t.Fatalf("no ```sh nitro block in %s", page)
		}
		m[1] = strings.TrimSpace(m[1]) + "\n" + em[1]
	}
	bin := binary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	os.WriteFile(conf, []byte("add gslb site base 127.0.0.1\n"), 0o600)
	add := exec.Command(bin, "user", "add", "-config", conf, "nsroot")
	add.Stdin = strings.NewReader(nitroPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	base, _, stop := apiProcess(t, bin, conf)
	defer stop()
	for _, line := range strings.Split(strings.TrimSpace(m[1]), "\n") {
		line = strings.ReplaceAll(line, "https://127.0.0.1:9443", base)
		line = strings.Replace(line, "curl ", curl+" ", 1)
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PASSWORD="+nitroPassword)
		out, err := cmd.CombinedOutput()
		var body map[string]any
		if err != nil || json.Unmarshal(out, &body) != nil || body["errorcode"] != float64(0) {
			t.Errorf("%s\n-> %v %s", line, err, out)
		}
		if evs, _ := body["gslbevents"].([]any); strings.Contains(line, "gslbevents") && len(evs) == 0 {
			t.Errorf("%s\n-> no events: %s", line, out)
		}
		if tr, _ := body["gslbexplain"].(map[string]any); strings.Contains(line, "gslbexplain") && (tr == nil || tr["vserver"] != "gv_web") {
			t.Errorf("%s\n-> no trace of gv_web: %s", line, out)
		}
	}
	// docs/events.md's live stream, for 3 s: it prints the events so far.
	ev, _ := os.ReadFile("../docs/events.md")
	sm := sseBlock.FindStringSubmatch(string(ev))
	if sm == nil {
		t.Fatal("no ```sh sse block in docs/events.md")
	}
	line := strings.ReplaceAll(strings.TrimSpace(strings.ReplaceAll(sm[1], "\\\n", " ")), "https://127.0.0.1:9443", base)
	line = strings.Replace(line, "curl ", curl+" --max-time 3 ", 1)
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PASSWORD="+nitroPassword)
	out, _ := cmd.Output() // exit 28: the stream was still open at --max-time
	if !strings.Contains(string(out), "event: config") || !strings.Contains(string(out), "\ndata: {\"seq\":") || !strings.Contains(string(out), "\nid: ") {
		t.Errorf("%s\n-> no events:\n%s", line, out)
	}
	// docs/explain.md's gslbctl session, on what the examples made: the
	// output as the page shows it, line by line.
	ex, _ := os.ReadFile("../docs/explain.md")
	gm := gslbctlBlock.FindStringSubmatch(string(ex))
	if gm == nil {
		t.Fatal("no ```gslbctl block in docs/explain.md")
	}
	ctl := built(t, "gslbctl")
	for _, session := range strings.Split(gm[1], "\n> ")[0:] {
		cmdLine, want, _ := strings.Cut(strings.TrimPrefix(session, "> "), "\n")
		cmd := exec.Command(ctl, "-url", base, "-cacert", filepath.Join(dir, "gslbd-api.crt"), "-c", cmdLine)
		cmd.Env = append(os.Environ(), "GSLBCTL_PASSWORD="+nitroPassword)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimRight(string(out), "\n") != strings.TrimRight(want, "\n") {
			t.Errorf("docs/explain.md: gslbctl -c %q (%v) printed:\n%s\nthe page shows:\n%s", cmdLine, err, out, want)
		}
	}
	saved, _ := os.ReadFile(conf)
	if !strings.Contains(string(saved), "bind gslb vserver gv_web -domainName www.gslb.example.com -TTL 5") {
		t.Errorf("the examples' save did not write the domain binding:\n%s", saved)
	}
}

// TestGrafanaDashboard: every gslbd metric contrib/grafana/gslbd.json
// queries is in docs/metrics.md (which TestMetricsEndpoint checks
// against a real scrape), so the dashboard shows what gslbd exports.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../contrib/grafana/gslbd.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Query any }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`gslbd_[a-z_]+`)
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if s, ok := v.Query.(string); ok {
			exprs = append(exprs, s)
		}
	}
	seen := 0
	for _, e := range exprs {
		for _, m := range name.FindAllString(e, -1) {
			base := m
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suf)
			}
			seen++
			if !strings.Contains(string(doc), "`"+base+"`") {
				t.Errorf("the dashboard queries %s, which docs/metrics.md does not list", m)
			}
		}
	}
	if seen < 20 {
		t.Errorf("the dashboard queries only %d gslbd metrics", seen)
	}
}
