// Command mep measures the metric exchange at the design's scale: 32
// parent sites in a mesh and 1,024 child sites (32 per parent), each a
// real mep.Node with its own TLS 1.3 listener on its own loopback address
// and its own health store, in one process. It reports the time from start
// to every link UP, the steady-state CPU, RSS, goroutines and frames, the
// false DOWNs over the window, and how long the other parents and its
// children take to see a parent leave (GOODBYE).
//
//	go run ./bench/mep [-parents 32] [-children 1024] [-window 60s]
//
// bench/mep-scale.sh runs it; results go to BENCHMARKS.md.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// discard is the engine's place: the bench only counts.
type discard struct{}

func (discard) Report(...health.Report) {}

// counting is a site's store, counting link transitions.
type counting struct {
	*health.Store
	site   string
	downs  *atomic.Int64 // DOWNs after the link was UP (false DOWNs in steady state)
	mu     sync.Mutex
	state  map[string]health.Link
	downAt map[string]time.Time
}

func (c *counting) SetLink(site string, l health.Link, why string) {
	c.mu.Lock()
	prev := c.state[site]
	c.state[site] = l
	if l == health.LinkDown && (prev == health.LinkUp || prev == health.LinkSuspect) {
		c.downs.Add(1)
		c.downAt[site] = time.Now()
	}
	c.mu.Unlock()
	c.Store.SetLink(site, l, why)
}

func (c *counting) allUp(n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	up := 0
	for _, l := range c.state {
		if l == health.LinkUp {
			up++
		}
	}
	return up == n
}

type site struct {
	name   string
	addr   netip.Addr
	parent int // -1: a parent
	store  *counting
	node   *mep.Node
	links  int
	cfg    mep.Config
}

func main() {
	parents := flag.Int("parents", 32, "parent sites (a full mesh)")
	children := flag.Int("children", 1024, "child sites, spread over the parents")
	services := flag.Int("services", 4, "services per site")
	window := flag.Duration("window", 60*time.Second, "steady-state measurement")
	port := flag.Int("port", 39009, "exchange port (on every site's address)")
	flag.Parse()
	if err := run(*parents, *children, *services, *window, uint16(*port)); err != nil {
		fmt.Fprintln(os.Stderr, "mep bench:", err)
		os.Exit(1)
	}
}

func run(np, nc, nsvc int, window time.Duration, port uint16) error {
	caCert, caKey, err := mep.NewCA("bench", 1)
	if err != nil {
		return err
	}
	var downs atomic.Int64
	sites := make([]*site, 0, np+nc)
	for i := range np {
		sites = append(sites, &site{name: fmt.Sprintf("p%02d", i), addr: netip.AddrFrom4([4]byte{127, 1, 0, byte(i + 1)}), parent: -1})
	}
	for j := range nc {
		sites = append(sites, &site{name: fmt.Sprintf("c%04d", j), addr: netip.AddrFrom4([4]byte{127, 2, byte(j / 250), byte(j%250 + 1)}), parent: j % np})
	}
	svcs := func(s *site) []string {
		out := make([]string, nsvc)
		for k := range out {
			out[k] = fmt.Sprintf("%s-svc%d", s.name, k)
		}
		return out
	}
	t0 := time.Now()
	for idx, s := range sites {
		c, k, err := mep.NewSiteCert(caCert, caKey, s.name, []netip.Addr{s.addr}, 1)
		if err != nil {
			return err
		}
		id, err := mep.NewIdentity(caCert, c, k)
		if err != nil {
			return err
		}
		// Who this site knows: a parent, every parent and its children; a
		// child, itself and its parent.
		var known []*site
		if s.parent < 0 {
			for _, o := range sites {
				if o.parent < 0 || o.parent == idx {
					known = append(known, o)
				}
			}
		} else {
			known = []*site{s, sites[s.parent]}
		}
		hc := health.Config{}
		cfg := mep.Config{Site: s.name, Role: wire.Role_PARENT, Listen: netip.AddrPortFrom(s.addr, port)}
		if s.parent >= 0 {
			cfg.Role = wire.Role_CHILD
		}
		for _, o := range known {
			hc.Sites = append(hc.Sites, health.SiteConfig{Name: o.name, Local: o == s, Exchange: true})
			for _, sv := range svcs(o) {
				hc.Services = append(hc.Services, health.ServiceConfig{Name: sv, Site: o.name, Local: o == s, Monitored: o == s})
			}
			if o == s {
				continue
			}
			p := mep.Peer{Name: o.name, Role: wire.Role_PARENT, Addr: netip.AddrPortFrom(o.addr, port)}
			switch {
			case s.parent >= 0: // a child: its parent dials
			case o.parent >= 0:
				p.Role, p.Dial = wire.Role_CHILD, true
			default:
				p.Dial = s.addr.Less(o.addr)
			}
			cfg.Peers = append(cfg.Peers, p)
		}
		st := &counting{Store: health.NewStore(health.Options{Out: discard{}}), site: s.name, downs: &downs,
			state: map[string]health.Link{}, downAt: map[string]time.Time{}}
		st.Update(hc)
		for _, sv := range svcs(s) {
			st.Report(health.Report{Service: sv, State: health.Up, Source: "bench"})
		}
		s.store, s.links, s.cfg = st, len(cfg.Peers), cfg
		s.node = mep.New(mep.Options{Store: st, Identity: id})
	}
	fmt.Printf("setup: %d sites, certificates and stores in %v\n", len(sites), time.Since(t0).Round(time.Millisecond))
	start := time.Now()
	for _, s := range sites {
		if err := s.node.Update(s.cfg); err != nil {
			return err
		}
	}
	links := 0
	for _, s := range sites {
		links += s.links
	}
	links /= 2
	deadline := start.Add(60 * time.Second)
	for {
		up := true
		for _, s := range sites {
			if !s.store.allUp(s.links) {
				up = false
				break
			}
		}
		if up {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not every link UP after 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("start-up: %d links UP in %v; false DOWNs during start-up: %d\n", links, time.Since(start).Round(time.Millisecond), downs.Load())
	startDowns := downs.Load()
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	w0 := time.Now()
	time.Sleep(window)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	el := time.Since(w0)
	fmt.Printf("steady state over %v: CPU %.1f%% of one core, RSS %d MB, %d goroutines, false DOWNs %d\n",
		el.Round(time.Second), 100*cpu.Seconds()/el.Seconds(), rssMB(), runtime.NumGoroutine(), downs.Load()-startDowns)

	// A parent leaves: every neighbour sees its GOODBYE.
	gone := sites[np/2]
	left := time.Now()
	gone.node.Close()
	var took []time.Duration
	deadline = time.Now().Add(30 * time.Second)
	for _, s := range sites {
		if s == gone || !slices.ContainsFunc(s.cfg.Peers, func(p mep.Peer) bool { return p.Name == gone.name }) {
			continue
		}
		for {
			s.store.mu.Lock()
			at, ok := s.store.downAt[gone.name]
			s.store.mu.Unlock()
			if ok && at.After(left) {
				took = append(took, at.Sub(left))
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not see %s leave", s.name, gone.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
	slices.Sort(took)
	fmt.Printf("a parent leaves (GOODBYE): %d neighbours DOWN within median %v, max %v\n", len(took),
		took[len(took)/2].Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond))
	for _, s := range sites {
		if s != gone {
			s.node.Close()
		}
		s.store.Close()
	}
	return nil
}

func rssMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			var kb int
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return -1
}
