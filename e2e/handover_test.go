package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/gslbd/gslbd/internal/dnstest"
)

// TestHandoverUnderLoad: `gslbd run -handover PATH` restarts without
// losing a query. dnsperf sends 10,000 queries a second for 9 s while a
// TCP client asks on a new connection every 10 ms; meanwhile a second
// gslbd takes the sockets over from the first (which then stops), a
// third with a configuration that does not load fails and leaves the
// second serving, and a fourth takes over from the second. dnsperf
// loses no query, every TCP query is answered, and the metrics port
// (SO_REUSEPORT) is served by the last process.
func TestHandoverUnderLoad(t *testing.T) {
	perf := program(t, "dnsperf", "dnsperf")
	dir := t.TempDir()
	conf := filepath.Join(dir, "ns.conf")
	writeOneDomainConf(t, conf, "www.handover.test", "")
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("add gslb vserver gv HTTP -lbMethod NOSUCHMETHOD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sock := filepath.Join(dir, "handover.sock")
	gslbd := func(config string) *site2 {
		p := &site2{t: t, args: []string{"run", "-config", config, "-listen", listen, "-api", "", "-metrics", metricsAddr, "-handover", sock}}
		t.Cleanup(p.kill)
		p.start()
		return p
	}
	exited := func(p *site2, within time.Duration) (int, bool) {
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
			return p.cmd.ProcessState.ExitCode(), true
		case <-time.After(within):
			return 0, false
		}
	}

	p1 := gslbd(conf)
	p1.logged("the first gslbd offering", 10*time.Second, "gslbd serving")
	waitFor(t, "the first gslbd answering", 10*time.Second, func() bool {
		r, err := dnstest.TryExchange(dnstest.UDP, listen, dnstest.Msg("www.handover.test", dns.TypeA), time.Second)
		return err == nil && len(r.Answer) == 1
	})
	queries := filepath.Join(dir, "queries.txt")
	os.WriteFile(queries, []byte("www.handover.test A\n"), 0o644)
	load := exec.Command(perf, "-s", "127.0.0.1", "-p", strconv.Itoa(port), "-d", queries, "-l", "9", "-Q", "10000", "-c", "4", "-t", "2")
	out := &syncBuffer{}
	load.Stdout, load.Stderr = out, out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	// TCP: a new connection for every query.
	var tcpAsked, tcpOK atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			tcpAsked.Add(1)
			r, err := dnstest.TryExchange(dnstest.TCP, listen, dnstest.Msg("www.handover.test", dns.TypeA), 2*time.Second)
			if err == nil && len(r.Answer) == 1 {
				tcpOK.Add(1)
			} else {
				t.Logf("TCP query %d: %v", tcpAsked.Load(), err)
			}
		}
	}()

	time.Sleep(2 * time.Second)
	p2 := gslbd(conf)
	if code, ok := exited(p1, 30*time.Second); !ok || code != 0 {
		t.Fatalf("the first gslbd did not stop after the handover (exited %v, code %d):\n%s", ok, code, p1.out.String())
	}
	p2.logged("the second gslbd", 5*time.Second, "taking 2 sockets over", "the old process answered its last query")
	p1.logged("the first gslbd", time.Second, "handed over to the successor")

	time.Sleep(time.Second)
	p3 := gslbd(bad)
	if code, ok := exited(p3, 30*time.Second); !ok || code == 0 {
		t.Fatalf("the gslbd with a bad configuration: exited %v, code %d", ok, code)
	}
	p2.logged("the second gslbd after a successor failed", 5*time.Second, "did not start")

	time.Sleep(time.Second)
	p4 := gslbd(conf)
	if code, ok := exited(p2, 30*time.Second); !ok || code != 0 {
		t.Fatalf("the second gslbd did not stop after the handover (exited %v, code %d):\n%s", ok, code, p2.out.String())
	}
	p4.logged("the fourth gslbd", 5*time.Second, "the old process answered its last query")

	if err := load.Wait(); err != nil {
		t.Fatalf("dnsperf: %v\n%s", err, out.String())
	}
	close(stop)
	wg.Wait()
	report := out.String()
	sent := regexp.MustCompile(`Queries sent:\s+(\d+)`).FindStringSubmatch(report)
	lost := regexp.MustCompile(`Queries lost:\s+(\d+)`).FindStringSubmatch(report)
	if sent == nil || lost == nil {
		t.Fatalf("dnsperf's report:\n%s", report)
	}
	t.Logf("dnsperf: %s sent, %s lost; TCP: %d of %d answered", sent[1], lost[1], tcpOK.Load(), tcpAsked.Load())
	if n, _ := strconv.Atoi(sent[1]); n < 50000 {
		t.Errorf("dnsperf sent only %d queries", n)
	}
	if lost[1] != "0" {
		t.Errorf("%s queries lost over two handovers:\n%s", lost[1], report)
	}
	if tcpOK.Load() != tcpAsked.Load() || tcpAsked.Load() < 100 {
		t.Errorf("TCP: %d of %d answered", tcpOK.Load(), tcpAsked.Load())
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics after the handovers: %v %v", err, resp)
	}
	resp.Body.Close()
}
