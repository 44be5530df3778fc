package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	buildMu sync.Mutex
	builds  = map[string]string{} // command -> binary
)

// built builds ./cmd/<name> once per test run.
func built(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := builds[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", name+"-bin")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", p, "../cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	builds[name] = p
	return p
}

// binary is the gslbd binary.
func binary(t *testing.T) string { return built(t, "gslbd") }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSIGHUPReload(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.conf")
	port := freePort(t)
	conf := func(ip, extra string) string {
		return strings.Replace(reloadConf(ip, extra), "ADNS 53", fmt.Sprintf("ADNS %d", port), 1)
	}
	os.WriteFile(path, []byte(conf("192.0.2.1", "")), 0o644)
	cmd := exec.Command(bin, "run", "-api", "127.0.0.1:0", "-config", path)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var mu sync.Mutex
	var logs strings.Builder
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			mu.Lock()
			logs.WriteString(s.Text() + "\n")
			mu.Unlock()
		}
	}()
	a := fmt.Sprintf("127.0.0.1:%d", port)
	answer := func() string {
		r, err := dnstest.TryExchange(dnstest.UDP, a, dnstest.Msg("r.test", dns.TypeA), 200*time.Millisecond)
		if err != nil || len(r.Answer) == 0 {
			return ""
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	waitFor(t, "first answer", 10*time.Second, func() bool { return answer() == "192.0.2.1" })

	os.WriteFile(path, []byte(conf("192.0.2.2", "")), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "reloaded answer", 10*time.Second, func() bool { return answer() == "192.0.2.2" })

	os.WriteFile(path, []byte(conf("192.0.2.3", "add gslb vserver broken HTTP -lbMethod NOPE\n")), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "rejection logged", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "reload rejected") && strings.Contains(logs.String(), "ns.conf:7:")
	})
	if got := answer(); got != "192.0.2.2" {
		t.Fatalf("after a bad reload: got %q, want the old answer 192.0.2.2", got)
	}
}

// TestSIGHUPDuringStartup: a SIGHUP that arrives while gslbd is still
// starting (loading, opening listeners) must not kill it: Go's default
// action for SIGHUP is to exit until a handler is installed. Found by CI:
// TestSIGHUPReload's SIGHUP right after the first answer killed it.
func TestSIGHUPDuringStartup(t *testing.T) {
	bin := binary(t)
	path := filepath.Join(t.TempDir(), "ns.conf")
	port := freePort(t)
	os.WriteFile(path, []byte(strings.Replace(reloadConf("192.0.2.1", ""), "ADNS 53", fmt.Sprintf("ADNS %d", port), 1)), 0o644)
	a := fmt.Sprintf("127.0.0.1:%d", port)
	for i := range 5 {
		cmd := exec.Command(bin, "run", "-api", "127.0.0.1:0", "-config", path)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Its first log line says gslbd's own code runs (before that, even
		// the Go runtime may not be up, and no program can catch a signal).
		lines := bufio.NewScanner(stderr)
		if !lines.Scan() {
			t.Fatalf("run %d: no log line", i)
		}
		go func() {
			for lines.Scan() {
			}
		}()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			cmd.Process.Signal(syscall.SIGHUP)
			select {
			case err := <-exited:
				t.Fatalf("run %d: gslbd exited on a SIGHUP during start-up: %v", i, err)
			default:
			}
			if _, err := dnstest.TryExchange(dnstest.UDP, a, dnstest.Msg("r.test", dns.TypeA), 20*time.Millisecond); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: no answer after 10s", i)
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}
}

func TestCheckCommand(t *testing.T) {
	bin := binary(t)
	for _, f := range []string{"active-active.conf", "active-passive.conf", "parent-child.conf", "appliance-full.conf"} {
		out, err := exec.Command(bin, "check", filepath.Join("testdata", f)).CombinedOutput()
		if err != nil {
			t.Errorf("check %s: %v\n%s", f, err, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.conf")
	os.WriteFile(bad, []byte("add gslb site s1 10.0.0.1\nadd gslb service x 10.0.0.2 HTTP 80 -siteName nosite\nadd gslb vserver v HTTP -tolerance 500\n"), 0o644)
	out, err := exec.Command(bin, "check", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("check of a bad file: got %v, want exit status 1", err)
	}
	want := []string{bad + `:2:37: gslb service "x": unknown site "nosite"`, bad + ":3:36: add gslb vserver: -tolerance: 500 is above the maximum 100"}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("check output lacks %q:\n%s", w, out)
		}
	}
}

// TestDemoCommand runs `gslbd demo` as the README says, on ports the
// system picks (-listen 127.0.0.1:0, -backend-port 0), reading the
// addresses from what it prints; its log goes to the test's output.
func TestDemoCommand(t *testing.T) {
	bin := binary(t)
	out, err := exec.Command(bin, "demo", "-print-config").Output()
	if err != nil || !strings.Contains(string(out), "add gslb vserver gv_gateway") {
		t.Fatalf("demo -print-config: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "demo", "-listen", "127.0.0.1:0", "-listen-dc2", "127.0.0.2:0", "-backend-port", "0", "-mep-port", "0")
	cmd.Stderr = t.Output()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	s := bufio.NewScanner(stdout)
	urls := map[string]string{}
	var dns1, dns2 string
	for s.Scan() && len(urls) < 4 {
		line := s.Text()
		t.Log(line)
		if a, ok := strings.CutPrefix(line, "gslbd demo is serving DNS on "); ok {
			f := strings.Fields(a)
			dns1, dns2 = f[0], f[4]
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "curl" {
			urls[f[1][strings.LastIndexByte(f[1], '/')+1:]] = f[1]
		}
	}
	if dns1 == "" || dns2 == "" || !strings.HasPrefix(urls["break"], "http://127.0.0.12:") || urls["stop"] == "" || urls["start"] == "" {
		t.Fatalf("demo output: DNS %q %q, URLs %v", dns1, dns2, urls)
	}
	go func() {
		for s.Scan() {
		}
	}()
	// What a site answers for app.demo.example over a few queries.
	seen := func(dnsAddr, want string) func() bool {
		return func() bool {
			got := map[string]bool{}
			for range 4 {
				for _, a := range dnstest.Addrs(dnstest.Exchange(t, dnstest.UDP, dnsAddr, dnstest.Msg("app.demo.example", dns.TypeA))) {
					got[a] = true
				}
			}
			return len(got) == 1 && got[want] || want == "both" && len(got) == 2
		}
	}
	waitFor(t, "dc1 answering both data centres", 20*time.Second, seen(dns1, "both"))
	waitFor(t, "dc2 answering both data centres", 20*time.Second, seen(dns2, "both"))
	get := func(url string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The README's tour: dc2's gateway breaks; dc2's monitor sees it and
	// dc1 learns it over MEP (dc1 does not probe dc2's services while the
	// exchange is up).
	start := time.Now()
	get(urls["break"])
	waitFor(t, "only dc1 at dc1 after /break", 20*time.Second, seen(dns1, "127.0.0.11"))
	t.Logf("break -> dc2 gone from dc1's answers in %s", time.Since(start))
	start = time.Now()
	get(urls["fix"])
	waitFor(t, "dc2 back at dc1 after /fix", 20*time.Second, seen(dns1, "both"))
	t.Logf("fix -> dc2 back in %s", time.Since(start))
	// All of dc2 down, then back through LEARNING.
	start = time.Now()
	get(urls["stop"])
	waitFor(t, "only dc1 after /stop", 5*time.Second, seen(dns1, "127.0.0.11"))
	t.Logf("stop -> dc2 gone from dc1's answers in %s", time.Since(start))
	start = time.Now()
	get(urls["start"])
	waitFor(t, "dc2 back after /start", 20*time.Second, seen(dns1, "both"))
	t.Logf("start -> dc2 back in %s", time.Since(start))
}

// TestMetricsEndpoint runs gslbd with -metrics and scrapes it: the monitor
// figures follow one service that answers and one that refuses, and the
// process figures are there.
func TestMetricsEndpoint(t *testing.T) {
	bin := binary(t)
	up := newBackend(t, "127.0.0.61")
	down := freePortOn(t, "127.0.0.62")
	conf := filepath.Join(t.TempDir(), "ns.conf")
	text := "add gslb site s1 127.0.0.1\nadd lb monitor m TCP -interval 100 MSEC -resptimeout 50 MSEC -retries 1\n" +
		"add gslb vserver gv HTTP\nbind gslb vserver gv -domainName m.test\n" +
		fmt.Sprintf("add gslb service up %s HTTP %s -siteName s1\nbind gslb service up -monitorName m\nbind gslb vserver gv -serviceName up\n", up.IP(), up.Port()) +
		fmt.Sprintf("add gslb service down 127.0.0.62 HTTP %s -siteName s1\nbind gslb service down -monitorName m\nbind gslb vserver gv -serviceName down\n", down)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "run", "-api", "", "-config", conf, "-listen", listen, "-metrics", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	s := bufio.NewScanner(stdout)
	var url string
	for s.Scan() {
		if u, ok := strings.CutPrefix(s.Text(), "gslbd metrics on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatalf("no metrics address printed (%v)", s.Err())
	}
	go func() {
		for s.Scan() {
		}
	}()
	var body string
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, "one binding up, one down, probes counted", 10*time.Second, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `gslbd_monitor_bindings{state="up"} 1`) &&
			strings.Contains(body, `gslbd_monitor_bindings{state="down"} 1`)
	})
	for _, want := range []string{"gslbd_monitor_probes_total ", `gslbd_monitor_probe_start_lateness_seconds_bucket{le="0.1"}`,
		"process_cpu_seconds_total ", "go_goroutines ", `gslbd_config_change_duration_seconds_bucket{le="0.005"} `} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// DNS: three A queries over UDP (one for a name gslbd does not have),
	// one AAAA over TCP; counted as sent, parsed as Prometheus parses.
	for _, q := range []struct {
		proto dnstest.Proto
		name  string
		qtype uint16
	}{{dnstest.UDP, "m.test", dns.TypeA}, {dnstest.UDP, "m.test", dns.TypeA}, {dnstest.UDP, "nx.nowhere.test", dns.TypeA}, {dnstest.TCP, "m.test", dns.TypeAAAA}} {
		dnstest.Exchange(t, q.proto, listen, dnstest.Msg(q.name, q.qtype))
	}
	cmd.Process.Signal(syscall.SIGHUP) // a reload, counted
	var fams map[string]*dto.MetricFamily
	value := func(name string, labels ...string) float64 {
		f := fams[name]
		if f == nil {
			return -1
		}
	next:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool { return l.GetName() == labels[i] && l.GetValue() == labels[i+1] }) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		return -1
	}
	waitFor(t, "the DNS queries counted", 10*time.Second, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.LegacyValidation)
		if fams, err = p.TextToMetricFamilies(resp.Body); err != nil {
			t.Fatalf("the scrape does not parse: %v", err)
		}
		return value("gslbd_dns_queries_total", "transport", "udp", "qtype", "A") == 3 && value("gslbd_dns_queries_total", "transport", "tcp", "qtype", "AAAA") == 1 &&
			value("gslbd_config_changes_total", "source", "reload", "result", "ok") == 1
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gslbd_dns_responses_total", []string{"transport", "udp", "rcode", "NOERROR"}, 2},
		{"gslbd_dns_responses_total", []string{"transport", "udp", "rcode", "REFUSED"}, 1},
		{"gslbd_dns_responses_total", []string{"transport", "tcp", "rcode", "NOERROR"}, 1},
		{"gslbd_dns_response_size_bytes", []string{"transport", "udp"}, 3},
		{"gslbd_dns_tcp_connections_total", nil, 1},
		{"gslbd_gslb_domain_queries_total", []string{"domain", "m.test"}, 2}, // the AAAA query is NODATA: no GSLB answer
		{"gslbd_gslb_vserver_queries_total", []string{"vserver", "gv"}, 2},
		{"gslbd_dns_dropped_total", []string{"transport", "udp"}, 0},
		{"gslbd_service_up", []string{"service", "up", "site", "s1"}, 1},
		{"gslbd_service_up", []string{"service", "down", "site", "s1"}, 0},
		{"gslbd_service_state_info", []string{"service", "down", "state", "DOWN"}, 1},
		{"gslbd_gslb_vserver_up", []string{"vserver", "gv"}, 1},
		{"gslbd_gslb_vserver_active_services", []string{"vserver", "gv"}, 1},
		{"gslbd_gslb_vserver_lbrrreason", []string{"vserver", "gv", "method", "ROUNDROBIN"}, 1}, // LEASTCONNECTION without figures: round robin, reason 1
		{"gslbd_build_info", nil, 1},
		{"gslbd_monitor_probe_duration_seconds", []string{"type", "TCP"}, value("gslbd_monitor_probes_total")}, // every probe is TCP here
	} {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v\n%v", c.name, c.labels, got, c.want, fams[c.name])
		}
	}
	// docs/metrics.md lists every gslbd metric, and each one it lists is
	// scraped (those of site links need one).
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := regexp.MustCompile("^\\| `(gslbd_[a-z_]+)`").FindStringSubmatch(line); m != nil {
			documented[m[1]] = true
			if _, ok := fams[m[1]]; !ok && !strings.Contains(line, "*with ") {
				t.Errorf("docs/metrics.md lists %s, which is not scraped", m[1])
			}
		}
	}
	for name := range fams {
		if strings.HasPrefix(name, "gslbd_") && !documented[name] {
			t.Errorf("%s is scraped but not in docs/metrics.md", name)
		}
	}
	pp, err := client.Get(strings.TrimSuffix(url, "/metrics") + "/debug/pprof/heap?debug=1")
	if err != nil || pp.StatusCode != http.StatusOK {
		t.Fatalf("GET /debug/pprof/heap: %v %v", pp, err)
	}
	pp.Body.Close()
	resp, err := client.Post(url, "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /metrics: %v %v, want 405", resp, err)
	}
	resp.Body.Close()
}

// apiProcess runs `gslbd run` with its API on a free port and returns the
// API's base URL and the process's log.
func apiProcess(t *testing.T, bin, conf string) (string, *syncBuffer, func()) {
	t.Helper()
	cmd := exec.Command(bin, "run", "-config", conf, "-api", "127.0.0.1:0", "-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	var logs syncBuffer
	cmd.Stderr = &logs
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	s := bufio.NewScanner(stdout)
	for s.Scan() {
		if u, ok := strings.CutPrefix(s.Text(), "gslbd NITRO API on "); ok {
			go func() {
				for s.Scan() {
				}
			}()
			return strings.TrimSuffix(u, "/nitro/v1/"), &logs, stop
		}
	}
	stop()
	t.Fatalf("no API address printed:\n%s", logs.String())
	return "", nil, nil
}

// TestAPIProcess: a user added with `gslbd user add`, the API over HTTPS
// with the certificate generated at first start (TLS 1.2 or later), a
// change saved through the API, and after a restart the API dumps the
// same configuration. No password or token reaches the log.
func TestAPIProcess(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	os.WriteFile(conf, []byte(saveBase), 0o600)
	add := exec.Command(bin, "user", "add", "-config", conf, "nsroot")
	add.Stdin = strings.NewReader("short\n")
	if out, err := add.CombinedOutput(); err == nil {
		t.Fatalf("a 5-character password was accepted: %s", out)
	}
	add = exec.Command(bin, "user", "add", "-config", conf, "nsroot")
	add.Stdin = strings.NewReader(nitroPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "gslbd-users.json")); strings.Contains(string(b), nitroPassword) || !strings.Contains(string(b), `"nsroot"`) {
		t.Fatalf("users file: %s", b)
	}
	base, logs, stop := apiProcess(t, bin, conf)
	defer stop()
	if fi, err := os.Stat(filepath.Join(dir, "gslbd-api.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("API key file: %v %v", fi, err)
	}
	pemBytes, err := os.ReadFile(filepath.Join(dir, "gslbd-api.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}, DisableKeepAlives: true}}
	if _, err := old.Get(base + "/nitro/v1/config/gslbvserver"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
	do := func(method, path, body, token string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.AddCookie(&http.Cookie{Name: "NITRO_AUTH_TOKEN", Value: token})
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := do("POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+nitroPassword+`"}}`, "")
	tok, _ := out["sessionid"].(string)
	if code != 201 || tok == "" {
		t.Fatalf("login: %d %v", code, out)
	}
	if code, out := do("POST", "/nitro/v1/config/gslbvserver", `{"gslbvserver":{"name":"gv9","servicetype":"HTTP","lbmethod":"ROUNDROBIN"}}`, tok); code != 201 {
		t.Fatalf("add: %d %v", code, out)
	}
	// adc-nitro-go unbinds with a doubled slash: served as it is, not
	// redirected (a redirect of a DELETE is not followed).
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, out := do("POST", "/nitro/v1/config/gslbvserver_gslbservice_binding", `{"gslbvserver_gslbservice_binding":{"name":"gv9","servicename":"a"}}`, tok); code != 201 {
		t.Fatalf("bind: %d %v", code, out)
	}
	if code, out := do("DELETE", "/nitro/v1/config//gslbvserver_gslbservice_binding/gv9?args=servicename:a", "", tok); code != 200 {
		t.Fatalf("DELETE with //: %d %v", code, out)
	}
	if code, out := do("POST", "/nitro/v1/config/nsconfig?action=save", `{"nsconfig":{}}`, tok); code != 200 {
		t.Fatalf("save: %d %v", code, out)
	}
	_, before := do("GET", "/nitro/v1/config/gslbrunningconfig", "", tok)
	do("POST", "/nitro/v1/config/logout", `{"logout":{}}`, tok)
	stop()
	base, logs2, stop2 := apiProcess(t, bin, conf)
	defer stop2()
	_, out = do("POST", "/nitro/v1/config/login", `{"login":{"username":"nsroot","password":"`+nitroPassword+`"}}`, "")
	tok2, _ := out["sessionid"].(string)
	_, after := do("GET", "/nitro/v1/config/gslbrunningconfig", "", tok2)
	if fmt.Sprint(before) != fmt.Sprint(after) || !strings.Contains(fmt.Sprint(after), "gv9") {
		t.Fatalf("after restart:\n%v\nbefore:\n%v", after, before)
	}
	do("POST", "/nitro/v1/config/logout", `{"logout":{}}`, tok2)
	stop2()
	for _, l := range []string{logs.String(), logs2.String()} {
		for _, secret := range []string{nitroPassword, tok, tok2} {
			if strings.Contains(l, secret) {
				t.Fatalf("a secret is in the log:\n%s", l)
			}
		}
	}
}

// TestMetricsOnAPIListener: the API's listener serves /metrics to the
// API's users (HTTP Basic, as Prometheus scrapes, or NITRO's headers),
// and to nobody else, over the API's TLS; no -metrics listener needed.
func TestMetricsOnAPIListener(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	os.WriteFile(conf, []byte(saveBase), 0o600)
	add := exec.Command(bin, "user", "add", "-config", conf, "-read-only", "scraper")
	add.Stdin = strings.NewReader(nitroPassword + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	base, logs, stop := apiProcess(t, bin, conf)
	defer stop()
	pemBytes, err := os.ReadFile(filepath.Join(dir, "gslbd-api.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	get := func(method string, set func(*http.Request)) (int, string, http.Header) {
		req, _ := http.NewRequest(method, base+"/metrics", nil)
		set(req)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	for _, c := range []struct {
		why    string
		method string
		set    func(*http.Request)
		status int
	}{
		{"no credentials", "GET", func(*http.Request) {}, 401},
		{"a wrong password", "GET", func(r *http.Request) { r.SetBasicAuth("scraper", "wrong-password-1") }, 401},
		{"a read-only user, Basic", "GET", func(r *http.Request) { r.SetBasicAuth("scraper", nitroPassword) }, 200},
		{"NITRO's headers", "GET", func(r *http.Request) {
			r.Header.Set("X-NITRO-USER", "scraper")
			r.Header.Set("X-NITRO-PASS", nitroPassword)
		}, 200},
		{"a POST", "POST", func(r *http.Request) { r.SetBasicAuth("scraper", nitroPassword) }, 405},
	} {
		status, body, h := get(c.method, c.set)
		if status != c.status {
			t.Errorf("%s: %d, want %d: %.200s", c.why, status, c.status, body)
		}
		if status == 200 && !strings.Contains(body, "gslbd_build_info{") {
			t.Errorf("%s: no metrics:\n%.300s", c.why, body)
		}
		if status == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no Basic challenge", c.why)
		}
	}
	if strings.Contains(logs.String(), nitroPassword) {
		t.Errorf("the password reached the log:\n%s", logs.String())
	}
}

// writeOneDomainConf writes an ns.conf as an appliance saves it: one
// site, one unmonitored service and a round-robin vserver answering
// domain, then extra.
func writeOneDomainConf(t *testing.T, path, domain, extra string) {
	t.Helper()
	text := "#NS13.1 Build 37.38\nadd gslb site s1 127.0.0.1\n" +
		"add gslb service a 192.0.2.10 HTTP 80 -siteName s1 -healthMonitor NO\n" +
		"add gslb vserver gv HTTP -lbMethod ROUNDROBIN\nbind gslb vserver gv -serviceName a\n" +
		"bind gslb vserver gv -domainName " + domain + " -TTL 5\n" + extra
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
