package monitor

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

// servers are test servers on loopback, well- or ill-behaved, each closed
// by the test's cleanup.
type servers struct {
	t     *testing.T
	mu    sync.Mutex
	conns []net.Conn
}

func (h *servers) hold(c net.Conn) {
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
}

func (h *servers) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}

// blackHole returns a loopback address whose SYNs are dropped: a socket
// listening with a backlog of 0 whose accept queue is already full, so the
// kernel neither answers nor refuses a new connection (as a firewall that
// drops would).
func (h *servers) blackHole() netip.AddrPort {
	t := h.t
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	for range 8 {
		c, err := net.DialTimeout("tcp", dst.String(), 300*time.Millisecond)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return dst // the queue is full: SYNs go unanswered
			}
			t.Fatalf("filling the black hole's accept queue: %v", err)
		}
		h.hold(c)
	}
	t.Fatal("the backlog-0 listener kept accepting connections: no black hole")
	return netip.AddrPort{}
}

// serve runs handle for every connection accepted on a new listener.
func (h *servers) serve(handle func(net.Conn)) netip.AddrPort {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	var wg sync.WaitGroup
	h.t.Cleanup(func() { l.Close(); h.closeAll(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.hold(c)
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

// readRequest consumes an HTTP request's head.
func readRequest(c net.Conn) *bufio.Reader {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil || line == "\r\n" {
			return br
		}
	}
}

// hugeHeaders answers with 10 MB of headers.
func hugeHeaders(c net.Conn) {
	readRequest(c)
	line := "X-Pad: " + strings.Repeat("a", 1000) + "\r\n"
	if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
		return
	}
	b := []byte(strings.Repeat(line, 100))
	for range 10 << 20 / len(b) {
		if _, err := c.Write(b); err != nil {
			return
		}
	}
	c.Close()
}

// endlessBody answers 200 with a body that never ends.
func endlessBody(c net.Conn) {
	readRequest(c)
	if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")); err != nil {
		return
	}
	b := []byte(strings.Repeat("endless ", 8192))
	for {
		if _, err := c.Write(b); err != nil {
			return
		}
	}
}

// garbageSNMP is a UDP "agent" that answers every request with random bytes
// (and a few malformed BER prefixes that claim huge lengths).
func (h *servers) garbageSNMP() netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan struct{})
	h.t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		junk := [][]byte{{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, {0x30, 0x82, 0x01}, {0x30, 0x00}}
		for i := 0; ; i++ {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			out := make([]byte, 1+i%1400)
			rand.Read(out)
			pc.WriteTo(out, from)
			pc.WriteTo(junk[i%len(junk)], from)
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// reportCounter counts reports per service.
type reportCounter struct {
	mu      sync.Mutex
	metrics map[string]int
	states  map[string]health.Report
}

func (r *reportCounter) Report(rs ...health.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range rs {
		if x.Metrics != nil {
			r.metrics[x.Service]++
		} else {
			r.states[x.Service] = x
		}
	}
}

func (r *reportCounter) snapshot() (map[string]int, map[string]health.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for k, v := range r.metrics {
		m[k] = v
	}
	s := map[string]health.Report{}
	for k, v := range r.states {
		s[k] = v
	}
	return m, s
}

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// waitBaseline waits until goroutines and heap are back within slack of
// their baseline, or fails with what is still above it.
func waitBaseline(t *testing.T, goroutines int, heap uint64, heapSlack uint64, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, h := runtime.NumGoroutine(), heapAfterGC()
		if g <= goroutines && h <= heap+heapSlack {
			t.Logf("%s: %d goroutines (baseline %d), heap %d KiB (baseline %d KiB)", what, g, goroutines, h>>10, heap>>10)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%s: %d goroutines (baseline %d), heap %d KiB (baseline %d KiB + %d KiB)\n%s",
				what, g, goroutines, h>>10, heap>>10, heapSlack>>10, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostileTargets points monitors at a black hole, a server that accepts
// and never answers, 10 MB of HTTP headers, an endless body and an SNMP
// agent answering garbage. A healthy service probed alongside keeps its
// schedule, every bad service goes DOWN with the reason, memory per probe
// stays bounded, and once monitoring stops goroutines and heap return to
// their baseline.
func TestHostileTargets(t *testing.T) {
	h := &servers{t: t}
	good := httpServer(t, func(w http.ResponseWriter, r *http.Request) {})
	g0, heap0 := runtime.NumGoroutine(), heapAfterGC()

	hole := h.blackHole()
	silent := h.serve(func(c net.Conn) { readRequest(c) }) // holds the connection open
	headers := h.serve(hugeHeaders)
	body := h.serve(endlessBody)
	snmp := h.garbageSNMP()

	var conf strings.Builder
	conf.WriteString("add gslb site s1 127.0.0.1\n")
	conf.WriteString("add lb monitor web HTTP -interval 100 MSEC -resptimeout 80 MSEC -retries 1\n")
	conf.WriteString("add lb monitor bad HTTP -interval 200 MSEC -resptimeout 150 MSEC -retries 1 -downTime 100 MSEC\n")
	conf.WriteString("add lb monitor badtcp TCP -interval 200 MSEC -resptimeout 150 MSEC -retries 1 -downTime 100 MSEC\n")
	conf.WriteString("add lb monitor ecv HTTP-ECV -send \"GET /\" -recv never-there -interval 200 MSEC -resptimeout 150 MSEC -retries 1 -downTime 100 MSEC\n")
	conf.WriteString("add lb metricTable t\nbind lb metricTable t cpu 1.3.6.1.4.1.2021.10.1.5.1\n")
	conf.WriteString("add lb monitor snmp LOAD -metricTable t -interval 200 MSEC -resptimeout 150 MSEC -retries 1 -downTime 100 MSEC -destPort " + fmt.Sprint(snmp.Port()) + "\n")
	conf.WriteString("bind lb monitor snmp -metric cpu -metricThreshold 100\n")
	add := func(name string, dst netip.AddrPort, mon string) {
		fmt.Fprintf(&conf, "add gslb service %s %s HTTP %d -siteName s1\nbind gslb service %s -monitorName %s\n", name, dst.Addr(), dst.Port(), name, mon)
	}
	add("good", netip.MustParseAddrPort(good), "web")
	add("hole", hole, "badtcp")
	add("silent", silent, "bad")
	add("headers", headers, "bad")
	add("body", body, "ecv")
	add("snmp", snmp, "snmp")

	sink := &reportCounter{metrics: map[string]int{}, states: map[string]health.Report{}}
	m := New(Options{Sink: sink})
	m.Update(snapshotFrom(t, conf.String()))

	want := map[string]string{
		"hole":    "probe timed out after 150ms",
		"silent":  "probe timed out after 150ms",
		"headers": "response too large: headers over 64 KiB",
		"body":    "first 256 KiB of the body does not contain -recv",
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, states := sink.snapshot()
		missing := ""
		for svc, reason := range want {
			r, ok := states[svc]
			if !ok || r.State != health.Down || !strings.Contains(r.Reason, reason) {
				missing += fmt.Sprintf(" %s=%+v (want DOWN %q)", svc, r, reason)
			}
		}
		if r := states["good"]; r.State != health.Up {
			missing += fmt.Sprintf(" good=%+v", r)
		}
		// A LOAD monitor does not decide the state: its last probe must
		// have failed on the garbage, with no load reported.
		for _, st := range m.Status() {
			if st.Service == "snmp" && (st.LastProbe.IsZero() || st.LastOK || !strings.HasPrefix(st.LastReason, "SNMP: ")) {
				missing += fmt.Sprintf(" snmp last probe=%v %q (want a failed SNMP probe)", st.LastOK, st.LastReason)
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("services not in the expected state after 10s:%s", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Steady state: 2 s of probing. The healthy service keeps its 100 ms
	// schedule (about 20 probes; 10 allowed for the shared machine), and
	// the bad ones cost bounded memory: reading 10 MB per probe would
	// allocate far more than the budget below.
	st0 := m.Stats()
	before, _ := sink.snapshot()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	time.Sleep(2 * time.Second) // the measurement window itself, not a wait for a condition
	runtime.ReadMemStats(&ms1)
	after, _ := sink.snapshot()
	st := m.Stats()
	st.Probes -= st0.Probes
	if n := after["good"] - before["good"]; n < 10 {
		t.Errorf("healthy service probed %d times in 2 s at a 100 ms interval: stalled by the hostile targets", n)
	}
	if after["snmp"] > 0 {
		t.Errorf("%d load reports from an agent answering garbage", after["snmp"])
	}
	if st.LateMax > time.Second {
		t.Errorf("probe start lateness max %v: the scheduler was stalled", st.LateMax)
	}
	// The bad services are probed again after their 100 ms downTime:
	// about 30 probes in the window, as many as 20 of the good one.
	if st.Probes < 40 {
		t.Errorf("%d probes in 2 s: the hostile targets are not being probed again", st.Probes)
	}
	perProbe := (ms1.TotalAlloc - ms0.TotalAlloc) / max(st.Probes, 1)
	if perProbe > 1<<20 {
		t.Errorf("%d KiB allocated per probe (%d probes): a size limit is not applied", perProbe>>10, st.Probes)
	}
	for _, st := range m.Status() {
		t.Logf("%s: %s, last probe %q", st.Service, st.State, st.LastReason)
	}
	t.Logf("2 s window: %d probes, lateness p99 %v max %v, %d KiB allocated per probe", st.Probes, st.LateP99, st.LateMax, perProbe>>10)

	m.Close()
	h.closeAll()
	// Only the hostile servers' own goroutines (listeners, the SNMP
	// agent, the black hole) are still running until cleanup; the
	// monitor's probes must all be gone: baseline + those servers.
	waitBaseline(t, g0+4, heap0, 4<<20, "after Close")
}
