// Command monitors measures gslbd's health monitoring at scale: N GSLB
// services, each a real TCP listener on its own loopback address, probed by
// a TCP monitor every interval by a real gslbd process. It reports the
// daemon's CPU (from /proc), the probe start lateness (from its Prometheus
// /metrics), and the detection time from killing a listener to the last DNS
// answer that still contains it.
//
//	go run ./bench/monitors -gslbd bin/gslbd [-services 10000] [-window 30s] [-kills 20]
//
// bench/monitors.sh builds gslbd and runs this; results go to BENCHMARKS.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"
)

type options struct {
	gslbd       string
	services    int
	perVServer  int
	interval    time.Duration
	warmup      time.Duration
	window      time.Duration
	kills       int
	dnsAddr     string
	metricsAddr string
	profile     string
	floor       int
}

func main() {
	var o options
	flag.StringVar(&o.gslbd, "gslbd", "bin/gslbd", "gslbd binary")
	flag.IntVar(&o.services, "services", 10000, "GSLB services (one TCP listener each)")
	flag.IntVar(&o.perVServer, "per-vserver", 10, "services per GSLB vserver (MIR: every UP one is answered)")
	flag.DurationVar(&o.interval, "interval", time.Second, "monitor interval")
	flag.DurationVar(&o.warmup, "warmup", 10*time.Second, "time after every service is UP before measuring")
	flag.DurationVar(&o.window, "window", 30*time.Second, "CPU and lateness measurement window")
	flag.IntVar(&o.kills, "kills", 20, "listeners killed one after another to time detection")
	flag.StringVar(&o.dnsAddr, "dns", "127.0.0.1:15353", "DNS address for gslbd")
	flag.StringVar(&o.metricsAddr, "metrics", "127.0.0.1:19153", "metrics address for gslbd")
	flag.StringVar(&o.profile, "profile", "", "after the window, write a CPU profile of gslbd over another window of the same length to this file (go tool pprof)")
	flag.IntVar(&o.floor, "floor", 50000, "connections for the floor measurement (0: skip)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "monitors:", err)
		os.Exit(1)
	}
}

// serviceAddr is service i's listener: its own loopback address, port 8080.
func serviceAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(i%250 + 1)}), 8080)
}

// backends are the services' listeners; each accepts and closes.
type backends struct {
	mu sync.Mutex
	ls []net.Listener
	wg sync.WaitGroup
}

func startBackends(n int) (*backends, error) {
	b := &backends{ls: make([]net.Listener, n)}
	for i := range n {
		l, err := net.Listen("tcp", serviceAddr(i).String())
		if err != nil {
			b.close()
			return nil, fmt.Errorf("listener %d: %w (raise the open file limit?)", i, err)
		}
		b.ls[i] = l
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	return b, nil
}

// kill closes service i's listener: new connections are refused.
func (b *backends) kill(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ls[i] != nil {
		b.ls[i].Close()
		b.ls[i] = nil
	}
}

func (b *backends) close() {
	for i := range b.ls {
		b.kill(i)
	}
	b.wg.Wait()
}

func writeConfig(o options, dir string) (string, error) {
	var c strings.Builder
	c.WriteString("add gslb site bench 127.0.0.1\n")
	fmt.Fprintf(&c, "add lb monitor benchtcp TCP -interval %d MSEC -resptimeout %d MSEC -retries 3\n",
		o.interval.Milliseconds(), o.interval.Milliseconds()/2)
	for i := range o.services {
		a := serviceAddr(i)
		fmt.Fprintf(&c, "add gslb service s%d %s TCP %d -siteName bench\nbind gslb service s%d -monitorName benchtcp\n", i, a.Addr(), a.Port(), i)
	}
	for v := range o.services / o.perVServer {
		fmt.Fprintf(&c, "add gslb vserver v%d TCP -lbMethod ROUNDROBIN -MIR ENABLED\n", v)
		for k := range o.perVServer {
			fmt.Fprintf(&c, "bind gslb vserver v%d -serviceName s%d\n", v, v*o.perVServer+k)
		}
		fmt.Fprintf(&c, "bind gslb vserver v%d -domainName v%d.bench -TTL 5\n", v, v)
	}
	p := filepath.Join(dir, "ns.conf")
	return p, os.WriteFile(p, []byte(c.String()), 0o644)
}

// answers returns the A records answered for name.
func answers(name, server string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

type scrape struct {
	probes  float64
	up      float64
	count   uint64
	buckets []*dto.Bucket
}

func scrapeMetrics(addr string) (scrape, error) {
	var s scrape
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return s, err
	}
	if f := fams["gslbd_monitor_probes_total"]; f != nil {
		s.probes = f.Metric[0].GetCounter().GetValue()
	}
	if f := fams["gslbd_monitor_bindings"]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "state" && l.GetValue() == "up" {
					s.up = m.GetGauge().GetValue()
				}
			}
		}
	}
	if f := fams["gslbd_monitor_probe_start_lateness_seconds"]; f != nil {
		h := f.Metric[0].GetHistogram()
		s.count = h.GetSampleCount()
		s.buckets = h.Bucket
	}
	return s, nil
}

// cpuTime is a process's user+system CPU time from /proc.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may contain spaces).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

func rss(pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// quantile reads a quantile from the difference of two cumulative
// histograms: the upper bound of the first bucket that reaches it.
func quantile(a, b scrape, q float64) string {
	n := float64(b.count - a.count)
	for i, bk := range b.buckets {
		c := float64(bk.GetCumulativeCount())
		if i < len(a.buckets) {
			c -= float64(a.buckets[i].GetCumulativeCount())
		}
		if c >= q*n {
			return fmt.Sprintf("< %gms", bk.GetUpperBound()*1000)
		}
	}
	return "> 5s"
}

// within is the fraction of probes that started less than bound late.
func within(a, b scrape, bound float64) float64 {
	n := float64(b.count - a.count)
	for i, bk := range b.buckets {
		if bk.GetUpperBound() == bound {
			return (float64(bk.GetCumulativeCount()) - float64(a.buckets[i].GetCumulativeCount())) / n
		}
	}
	return 0
}

func waitFor(what string, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func run(o options) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(o.services)+1000 {
		return fmt.Errorf("open file limit %d is below %d services + 1000", lim.Cur, o.services)
	}
	dir, err := os.MkdirTemp("", "gslbd-bench-monitors")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	conf, err := writeConfig(o, dir)
	if err != nil {
		return err
	}
	b, err := startBackends(o.services)
	if err != nil {
		return err
	}
	defer b.close()

	if o.floor > 0 {
		per, err := floorCost(o.services, o.floor)
		if err != nil {
			return err
		}
		fmt.Printf("floor: a bare connect+reset loop (4 syscalls, one thread) costs %.1f us of CPU per connection here: %.1f%% of one core at %d/s\n",
			float64(per.Nanoseconds())/1000, 100*per.Seconds()*float64(o.services)/o.interval.Seconds(), int(float64(o.services)/o.interval.Seconds()))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, o.gslbd, "run", "-api", "", "-config", conf, "-listen", o.dnsAddr, "-metrics", o.metricsAddr, "-log-level", "warn")
	cmd.Stdout = io.Discard
	logf, err := os.Create(filepath.Join(dir, "gslbd.log"))
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	pid := cmd.Process.Pid

	var s scrape
	if err := waitFor("every binding UP", 60*time.Second, func() bool {
		s, err = scrapeMetrics(o.metricsAddr)
		return err == nil && int(s.up) == o.services
	}); err != nil {
		return fmt.Errorf("%w (up %v, last error %v)", err, s.up, err)
	}
	fmt.Printf("services %d, vservers %d, TCP monitor every %v; all UP %.1fs after start\n",
		o.services, o.services/o.perVServer, o.interval, time.Since(start).Seconds())
	time.Sleep(o.warmup) // steady state before measuring

	a, err := scrapeMetrics(o.metricsAddr)
	if err != nil {
		return err
	}
	cpu0, _ := cpuTime(pid)
	t0 := time.Now()
	time.Sleep(o.window)
	cpu1, _ := cpuTime(pid)
	wall := time.Since(t0)
	z, err := scrapeMetrics(o.metricsAddr)
	if err != nil {
		return err
	}
	probes := z.probes - a.probes
	fmt.Printf("window %.0fs: %.0f probes (%.0f/s), gslbd CPU %.1f%% of one core (%.1f us per probe), RSS %s\n",
		wall.Seconds(), probes, probes/wall.Seconds(), 100*(cpu1-cpu0).Seconds()/wall.Seconds(),
		float64((cpu1-cpu0).Microseconds())/probes, rss(pid))
	fmt.Printf("probe start lateness: p50 %s, p99 %s, p99.9 %s; %.3f%% started within 100ms of schedule\n",
		quantile(a, z, 0.5), quantile(a, z, 0.99), quantile(a, z, 0.999), 100*within(a, z, 0.1))

	if o.profile != "" {
		if err := fetchProfile(o.metricsAddr, o.window, o.profile); err != nil {
			return err
		}
		fmt.Printf("CPU profile over %v written to %s\n", o.window, o.profile)
	}

	// Detection: kill one listener of a vserver, poll its name every 5 ms
	// until the address leaves the answer.
	var det []time.Duration
	nv := o.services / o.perVServer
	for k := range o.kills {
		v := (k*nv/o.kills + k) % nv
		svc := v*o.perVServer + k%o.perVServer
		name := fmt.Sprintf("v%d.bench.", v)
		ip := serviceAddr(svc).Addr().String()
		if got, err := answers(name, o.dnsAddr); err != nil || !slices.Contains(got, ip) {
			return fmt.Errorf("kill %d: %s not answered for %s before the kill (%v, %v)", k, ip, name, got, err)
		}
		b.kill(svc)
		killed := time.Now()
		var last time.Time
		err := waitForFast(20*time.Second, func() (bool, error) {
			got, err := answers(name, o.dnsAddr)
			if err != nil {
				return false, err
			}
			if slices.Contains(got, ip) {
				last = time.Now()
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("kill %d (%s): %w", k, ip, err)
		}
		det = append(det, last.Sub(killed))
	}
	slices.Sort(det)
	if len(det) > 0 {
		fmt.Printf("detection over %d kills (kill -> last answer with the dead service; retries 3 x %v): min %.2fs, median %.2fs, max %.2fs\n",
			len(det), o.interval, det[0].Seconds(), det[len(det)/2].Seconds(), det[len(det)-1].Seconds())
	}
	return nil
}

// floorCost is the CPU one thread spends per TCP connect and reset to the
// listeners, with nothing else around it: socket, blocking connect,
// SO_LINGER 0, close. On loopback it includes the peer's kernel work
// (handshake, accept queue, RST), which runs in the connecting thread.
// What a prober costs above this is its own overhead.
func floorCost(services, n int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var r0, r1 unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &r0); err != nil {
		return 0, err
	}
	for i := range n {
		a := serviceAddr(i % services)
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		err = unix.Connect(fd, &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()})
		_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		unix.Close(fd)
		if err != nil {
			return 0, fmt.Errorf("floor connect to %s: %w", a, err)
		}
	}
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &r1); err != nil {
		return 0, err
	}
	cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
	return cpu / time.Duration(n), nil
}

func waitForFast(timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("still answered after " + timeout.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fetchProfile writes gslbd's CPU profile over d (its metrics listener's
// /debug/pprof/profile) to file.
func fetchProfile(addr string, d time.Duration, file string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
