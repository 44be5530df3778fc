// Command api measures NITRO changes under DNS load: a real gslbd with N
// GSLB services (in N/10 MIR vservers) takes M bindings, one API call
// each, while dnsperf queries it at half of its peak rate and a checker
// verifies that every answer it sees is the old or the new answer of its
// name. It reports the API latency (p50, p99, max), dnsperf's lost
// queries and response codes, and the checker's mismatches.
//
//	go run ./bench/api -gslbd bin/gslbd [-services 10000] [-adds 1000]
//
// bench/api.sh builds gslbd and runs this; results go to BENCHMARKS.md.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/nitro"
)

const password = "bench-api-password"

var (
	loadShare  float64
	cpuProfile string
)

const metricsAddr = "127.0.0.1:19153"

func main() {
	gslbd := flag.String("gslbd", "bin/gslbd", "gslbd binary")
	services := flag.Int("services", 10000, "GSLB services configured (in services/10 vservers)")
	adds := flag.Int("adds", 1000, "bindings added through the API, one call each")
	dnsAddr := flag.String("dns", "127.0.0.1:16353", "gslbd's DNS address")
	apiAddr := flag.String("api", "127.0.0.1:19443", "gslbd's API address")
	flag.Float64Var(&loadShare, "load", 0.5, "dnsperf rate during the adds, as a share of its peak (0: no load)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of gslbd during the adds to this file")
	flag.Parse()
	if err := run(*gslbd, *services, *adds, *dnsAddr, *apiAddr); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func svcIP(i int) string   { return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1) }
func extraIP(i int) string { return fmt.Sprintf("127.2.%d.%d", i/250, i%250+1) }

// config: services s<i> in MIR vservers v<j> of 10, plus unbound services
// x<j> that the API binds to v<j>.
func config(services, adds int) string {
	var c strings.Builder
	c.WriteString("add gslb site bench 127.0.0.1\n")
	for i := range services {
		fmt.Fprintf(&c, "add gslb service s%d %s HTTP 80 -siteName bench\n", i, svcIP(i))
	}
	for j := range adds {
		fmt.Fprintf(&c, "add gslb service x%d %s HTTP 80 -siteName bench\n", j, extraIP(j))
	}
	for v := range services / 10 {
		fmt.Fprintf(&c, "add gslb vserver v%d HTTP -lbMethod ROUNDROBIN -MIR ENABLED\n", v)
		for k := range 10 {
			fmt.Fprintf(&c, "bind gslb vserver v%d -serviceName s%d\n", v, v*10+k)
		}
		fmt.Fprintf(&c, "bind gslb vserver v%d -domainName v%d.bench -TTL 5\n", v, v)
	}
	return c.String()
}

// answer is the sorted address set answered for a name.
func answer(c *dns.Client, server, name string) (string, int, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := c.Exchange(m, server)
	if err != nil {
		return "", 0, err
	}
	var a []string
	for _, rr := range r.Answer {
		if x, ok := rr.(*dns.A); ok {
			a = append(a, x.A.String())
		}
	}
	slices.Sort(a)
	return strings.Join(a, ","), r.Rcode, nil
}

func expected(v int, withExtra bool) string {
	var a []string
	for k := range 10 {
		a = append(a, svcIP(v*10+k))
	}
	if withExtra {
		a = append(a, extraIP(v))
	}
	slices.Sort(a)
	return strings.Join(a, ",")
}

var qpsRe = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)

func dnsperf(ctx context.Context, addr, names string, args ...string) *exec.Cmd {
	host, port, _ := strings.Cut(addr, ":")
	return exec.CommandContext(ctx, "dnsperf", append([]string{"-s", host, "-p", port, "-d", names}, args...)...)
}

func run(gslbd string, services, adds int, dnsAddr, apiAddr string) error {
	dir, err := os.MkdirTemp("", "gslbd-bench-api")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "ns.conf")
	if err := os.WriteFile(conf, []byte(config(services, adds)), 0o600); err != nil {
		return err
	}
	add := exec.Command(gslbd, "user", "add", "-config", conf, "nsroot")
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return fmt.Errorf("user add: %v: %s", err, out)
	}
	args := []string{"run", "-config", conf, "-listen", dnsAddr, "-api", apiAddr, "-log-level", "warn", "-metrics", metricsAddr}
	cmd := exec.Command(gslbd, args...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()

	// Names file for dnsperf: every vserver name.
	var names strings.Builder
	for v := range services / 10 {
		fmt.Fprintf(&names, "v%d.bench A\n", v)
	}
	namesPath := filepath.Join(dir, "names.txt")
	os.WriteFile(namesPath, []byte(names.String()), 0o600)

	dc := &dns.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if a, _, err := answer(dc, dnsAddr, "v0.bench."); err == nil && a == expected(0, false) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gslbd did not answer within 60 s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Peak, then half of it while the API works.
	out, err := dnsperf(context.Background(), dnsAddr, namesPath, "-c", "10", "-q", "300", "-l", "10").CombinedOutput()
	if err != nil {
		return fmt.Errorf("dnsperf: %v: %s", err, out)
	}
	m := qpsRe.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("dnsperf output: %s", out)
	}
	peak, _ := strconv.ParseFloat(string(m[1]), 64)
	half := int(peak * loadShare)
	fmt.Printf("services %d, vservers %d, %d bindings to add; dnsperf peak %.0f QPS, load at %d QPS during the adds\n",
		services+adds, services/10, adds, peak, half)

	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	var loadOut bytes.Buffer
	var load *exec.Cmd
	if half > 0 {
		load = dnsperf(loadCtx, dnsAddr, namesPath, "-c", "4", "-q", "100", "-Q", strconv.Itoa(half), "-l", "3600")
		load.Cancel = func() error { return load.Process.Signal(syscall.SIGINT) }
		load.Stdout, load.Stderr = &loadOut, &loadOut
		if err := load.Start(); err != nil {
			return err
		}
	}

	// The checker: every answer of v<j> is the old or the new one.
	// started[v] is set before v's API call, done[v] when it returned: an
	// answer may show the new binding once the call started (the change
	// is live before the HTTP answer arrives) and the old one until the
	// call returned.
	started, done := make([]atomic.Bool, services/10), make([]atomic.Bool, services/10)
	var checked, mismatches, failures atomic.Int64
	var samples []string
	var smu sync.Mutex
	stopCheck := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &dns.Client{Timeout: time.Second}
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stopCheck:
				return
			default:
			}
			v := r.IntN(adds)
			wasDone := done[v].Load()
			got, rcode, err := answer(c, dnsAddr, fmt.Sprintf("v%d.bench.", v))
			hadStarted := started[v].Load()
			checked.Add(1)
			if err != nil || rcode != dns.RcodeSuccess {
				failures.Add(1)
				continue
			}
			ok := got == expected(v, true) && hadStarted || got == expected(v, false) && !wasDone
			if !ok {
				mismatches.Add(1)
				smu.Lock()
				if len(samples) < 3 {
					samples = append(samples, fmt.Sprintf("v%d: %s", v, got))
				}
				smu.Unlock()
			}
		}
	}()

	pem, err := os.ReadFile(filepath.Join(dir, "gslbd-api.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &nitro.Client{Base: "https://" + apiAddr, HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	ctx := context.Background()
	if err := client.Login(ctx, "nsroot", password); err != nil {
		return err
	}
	profDone := make(chan error, 1)
	if cpuProfile != "" {
		go func() { profDone <- fetchProfile(cpuProfile, 5) }()
	} else {
		profDone <- nil
	}
	lat := make([]time.Duration, 0, adds)
	start := time.Now()
	for j := range adds {
		body := map[string]any{"gslbvserver_gslbservice_binding": map[string]any{"name": fmt.Sprintf("v%d", j), "servicename": fmt.Sprintf("x%d", j)}}
		started[j].Store(true)
		t0 := time.Now()
		if _, err := client.Do(ctx, "POST", "config/gslbvserver_gslbservice_binding", body); err != nil {
			return fmt.Errorf("add %d: %w", j, err)
		}
		lat = append(lat, time.Since(t0))
		done[j].Store(true)
	}
	total := time.Since(start)
	client.Logout(ctx)
	time.Sleep(time.Second) // let the checker see the final state
	close(stopCheck)
	wg.Wait()
	stopLoad()
	if load != nil {
		load.Wait()
	}
	if err := <-profDone; err != nil {
		return err
	}

	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
	fmt.Printf("API adds: %d in %.1fs; latency p50 %v, p99 %v, max %v\n", adds, total.Seconds(),
		q(0.5).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	if out, err := exec.Command("curl", "-s", "http://"+metricsAddr+"/metrics").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "go_sched_latencies_seconds") {
				fmt.Println(l)
			}
		}
	}
	if hist, err := changeHistogram(); err == nil {
		fmt.Printf("gslbd's own change time (validate + apply, lock wait included): %s\n", hist)
	} else {
		return err
	}
	fmt.Printf("checker: %d answers checked, %d matched neither the old nor the new configuration, %d failed", checked.Load(), mismatches.Load(), failures.Load())
	if len(samples) > 0 {
		fmt.Printf(" (%s)", strings.Join(samples, "; "))
	}
	fmt.Println()
	for _, l := range strings.Split(loadOut.String(), "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"Queries sent", "Queries completed", "Queries lost", "Response codes", "Queries per second"} {
			if strings.HasPrefix(l, p) {
				fmt.Println("dnsperf during the adds: " + l)
			}
		}
	}
	return nil
}

// fetchProfile saves a CPU profile of gslbd over the next seconds.
func fetchProfile(path string, seconds int) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", metricsAddr, seconds))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

var bucketRe = regexp.MustCompile(`(?m)^gslbd_config_change_duration_seconds_bucket\{le="([0-9.e+-]+|\+Inf)"\} ([0-9]+)$`)

// changeHistogram reads gslbd's change duration histogram: the share of
// changes within each bound.
func changeHistogram() (string, error) {
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	ms := bucketRe.FindAllStringSubmatch(b.String(), -1)
	if len(ms) == 0 {
		return "", fmt.Errorf("no gslbd_config_change_duration_seconds in /metrics")
	}
	total, _ := strconv.ParseFloat(ms[len(ms)-1][2], 64)
	var parts []string
	for _, m := range ms[:len(ms)-1] {
		n, _ := strconv.ParseFloat(m[2], 64)
		le, _ := strconv.ParseFloat(m[1], 64)
		parts = append(parts, fmt.Sprintf("<=%gms %.1f%%", le*1000, 100*n/total))
	}
	return strings.Join(parts, ", "), nil
}
