// Command mep measures the metric exchange at the design's scale: 32
// parent sites in a mesh and 1,024 child sites (32 per parent), each a
// real mep.Node with its own TLS 1.3 listener on its own loopback address
// and its own health store, in one process. It reports the time from start
// to every link UP, the steady-state CPU, RSS, goroutines and frames, the
// false DOWNs over the window, how long the other parents and its
// children take to see a parent leave (GOODBYE), and how long its backup
// parent takes to adopt its children (and relay them to the others).
//
//	go run ./bench/mep [-parents 32] [-children 1024] [-window 60s]
//
// bench/mep-scale.sh runs it; results go to BENCHMARKS.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
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

// seen is the engine's place: when each service last changed state.
type seen struct {
	mu sync.Mutex
	at map[string]seenState
}

type seenState struct {
	state health.State
	at    time.Time
}

func (s *seen) Report(rs ...health.Report) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		if r.State != health.Unknown && s.at[r.Service].state != r.State {
			s.at[r.Service] = seenState{r.State, now}
		}
	}
}

func (s *seen) get(svc string) seenState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[svc]
}

// counting is a site's store, counting link transitions.
type counting struct {
	*health.Store
	site   string
	downs  *atomic.Int64 // DOWNs after the link was UP (false DOWNs in steady state)
	mu     sync.Mutex
	state  map[string]health.Link
	downAt map[string]time.Time
	upAt   map[string]time.Time
}

func (c *counting) SetLink(site string, l health.Link, why string) {
	c.mu.Lock()
	prev := c.state[site]
	c.state[site] = l
	if l == health.LinkDown && (prev == health.LinkUp || prev == health.LinkSuspect) {
		if c.downs.Add(1) <= 40 && os.Getenv("MEP_BENCH_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "%s %s: %s DOWN: %s\n", time.Now().Format("15:04:05.000"), c.site, site, why)
		}
		c.downAt[site] = time.Now()
	}
	if l == health.LinkUp && prev != health.LinkUp {
		c.upAt[site] = time.Now()
	}
	c.mu.Unlock()
	c.Store.SetLink(site, l, why)
}

// allUp reports whether the link to every site named is UP.
func (c *counting) allUp(names []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range names {
		if c.state[n] != health.LinkUp {
			return false
		}
	}
	return true
}

// upSince is when the link to a site last came UP, if it is UP.
func (c *counting) upSince(name string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.upAt[name], c.state[name] == health.LinkUp
}

type site struct {
	name   string
	addr   netip.Addr
	parent int      // -1: a parent
	backup []int    // a child's -backupParentlist
	need   []string // the links that are UP once started (a child's backup parents dial it only to adopt it)
	store  *counting
	out    *seen
	node   *mep.Node
	cfg    mep.Config
}

func main() {
	parents := flag.Int("parents", 32, "parent sites (a full mesh)")
	children := flag.Int("children", 1024, "child sites, spread over the parents")
	services := flag.Int("services", 4, "services per site")
	window := flag.Duration("window", 60*time.Second, "steady-state measurement")
	port := flag.Int("port", 39009, "exchange port (on every site's address)")
	flag.IntVar(&changes, "changes", 200, "state changes whose spread to every parent is timed")
	flag.IntVar(&backups, "backups", 2, "backup parents per child (0-2; 0: no adoption measured)")
	serveSite := flag.String("serve-site", "", "(internal) run only this site, in this process")
	caDir := flag.String("ca-dir", "", "(internal) the CA of -serve-site")
	flag.Parse()
	if backups < 0 || backups > 2 || backups > 0 && *parents < backups+1 {
		fmt.Fprintln(os.Stderr, "mep bench: -backups is 0, 1 or 2, and needs more parents than that")
		os.Exit(2)
	}
	if *serveSite != "" {
		if err := serveOne(*serveSite, *parents, *children, *services, uint16(*port), *caDir); err != nil {
			fmt.Fprintln(os.Stderr, "mep bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*parents, *children, *services, *window, uint16(*port)); err != nil {
		fmt.Fprintln(os.Stderr, "mep bench:", err)
		os.Exit(1)
	}
}

var changes, backups int

// topology is the sites: parents p00.. on 127.1.0.x, children c0000.. on
// 127.2.x.y spread over the parents, each with the next two parents as
// its -backupParentlist.
func topology(np, nc int) []*site {
	sites := make([]*site, 0, np+nc)
	for i := range np {
		sites = append(sites, &site{name: fmt.Sprintf("p%02d", i), addr: netip.AddrFrom4([4]byte{127, 1, 0, byte(i + 1)}), parent: -1})
	}
	for j := range nc {
		p := j % np
		sites = append(sites, &site{name: fmt.Sprintf("c%04d", j), addr: netip.AddrFrom4([4]byte{127, 2, byte(j / 250), byte(j%250 + 1)}),
			parent: p, backup: []int{(p + 1) % np, (p + 2) % np}[:backups]})
	}
	return sites
}

// leaving is the parent that leaves (GOODBYE) and whose children its
// backup parent adopts: every parent knows its children (relayed).
func leaving(np int) int { return np / 2 }

// build makes site idx's certificate, store and node (not started).
func build(sites []*site, idx, nsvc int, port uint16, caCert, caKey []byte, downs *atomic.Int64) error {
	s := sites[idx]
	svcs := func(s *site) []string {
		out := make([]string, nsvc)
		for k := range out {
			out[k] = fmt.Sprintf("%s-svc%d", s.name, k)
		}
		return out
	}
	c, k, err := mep.NewSiteCert(caCert, caKey, s.name, []netip.Addr{s.addr}, 1)
	if err != nil {
		return err
	}
	id, err := mep.NewIdentity(caCert, c, k)
	if err != nil {
		return err
	}
	// Who this site knows: a parent, every parent, its children, the
	// children it is a backup parent of (adoptable) and the leaving
	// parent's (relayed to it); a child, itself, its parent and backups.
	var known []*site
	np := slices.IndexFunc(sites, func(o *site) bool { return o.parent >= 0 })
	if s.parent < 0 {
		for _, o := range sites {
			if o.parent < 0 || o.parent == idx || slices.Contains(o.backup, idx) || o.parent == leaving(np) {
				known = append(known, o)
			}
		}
	} else {
		known = []*site{s, sites[s.parent]}
		for _, b := range s.backup {
			known = append(known, sites[b])
		}
	}
	hc := health.Config{}
	cfg := mep.Config{Site: s.name, Role: wire.Role_PARENT, Listen: netip.AddrPortFrom(s.addr, port)}
	if s.parent >= 0 {
		cfg.Role = wire.Role_CHILD
	}
	for _, o := range known {
		sc := health.SiteConfig{Name: o.name, Local: o == s, Exchange: true}
		if s.parent < 0 && o.parent >= 0 && o.parent != idx {
			sc.Grace = 2 * mep.DefaultTimers().KeepAlive // as the daemon: the keep-alive to notice, one more to adopt
		}
		hc.Sites = append(hc.Sites, sc)
		for _, sv := range svcs(o) {
			hc.Services = append(hc.Services, health.ServiceConfig{Name: sv, Site: o.name, Local: o == s, Monitored: o == s})
		}
		if o == s {
			continue
		}
		p := mep.Peer{Name: o.name, Role: wire.Role_PARENT, Addr: netip.AddrPortFrom(o.addr, port)}
		switch {
		case s.parent >= 0: // a child: its parent and backups dial
		case o.parent == idx:
			p.Role, p.Dial = wire.Role_CHILD, true
		case o.parent >= 0: // another parent's child
			if cfg.Relayed == nil {
				cfg.Relayed = map[string][]string{}
			}
			rank := []string{sites[o.parent].name}
			for _, b := range o.backup {
				rank = append(rank, sites[b].name)
			}
			cfg.Relayed[o.name] = rank
			if k := slices.Index(o.backup, idx); k >= 0 {
				p.Role, p.Dial = wire.Role_CHILD, true
				cfg.Adoptable = append(cfg.Adoptable, mep.Adoption{Child: p, Parent: rank[0], Before: rank[1 : k+1]})
			}
			continue
		default:
			p.Dial = s.addr.Less(o.addr)
		}
		cfg.Peers = append(cfg.Peers, p)
		if s.parent < 0 || o == sites[s.parent] {
			s.need = append(s.need, p.Name)
		}
	}
	s.out = &seen{at: map[string]seenState{}}
	st := &counting{Store: health.NewStore(health.Options{Out: s.out}), site: s.name, downs: downs,
		state: map[string]health.Link{}, downAt: map[string]time.Time{}, upAt: map[string]time.Time{}}
	st.Update(hc)
	for _, sv := range svcs(s) {
		st.Report(health.Report{Service: sv, State: health.Up, Source: "bench"})
	}
	s.store, s.cfg = st, cfg
	s.node = mep.New(mep.Options{Store: st, Identity: id})
	return nil
}

// serveOne runs one site in this process until killed (the parent that
// the main process freezes with SIGSTOP).
func serveOne(name string, np, nc, nsvc int, port uint16, caDir string) error {
	caCert, err1 := os.ReadFile(filepath.Join(caDir, "ca.crt"))
	caKey, err2 := os.ReadFile(filepath.Join(caDir, "ca.key"))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	sites := topology(np, nc)
	idx := slices.IndexFunc(sites, func(s *site) bool { return s.name == name })
	if idx < 0 {
		return fmt.Errorf("no site %q", name)
	}
	var downs atomic.Int64
	if err := build(sites, idx, nsvc, port, caCert, caKey, &downs); err != nil {
		return err
	}
	if err := sites[idx].node.Update(sites[idx].cfg); err != nil {
		return err
	}
	fmt.Println("serving", name)
	select {}
}

func run(np, nc, nsvc int, window time.Duration, port uint16) error {
	caCert, caKey, err := mep.NewCA("bench", 1)
	if err != nil {
		return err
	}
	var downs atomic.Int64
	sites := topology(np, nc)
	// The last parent runs in its own process, to be frozen.
	frozen := sites[np-1]
	caDir, err := os.MkdirTemp("", "mep-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(caDir)
	if err := errors.Join(os.WriteFile(filepath.Join(caDir, "ca.crt"), caCert, 0o644), os.WriteFile(filepath.Join(caDir, "ca.key"), caKey, 0o600)); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve-site", frozen.name, "-ca-dir", caDir, "-parents", fmt.Sprint(np), "-children", fmt.Sprint(nc), "-backups", fmt.Sprint(backups),
		"-services", fmt.Sprint(nsvc), "-port", fmt.Sprint(port))
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { child.Process.Signal(syscall.SIGCONT); child.Process.Kill(); child.Wait() }()
	t0 := time.Now()
	for idx := range sites {
		if sites[idx] == frozen {
			continue
		}
		if err := build(sites, idx, nsvc, port, caCert, caKey, &downs); err != nil {
			return err
		}
	}
	fmt.Printf("setup: %d sites, certificates and stores in %v\n", len(sites), time.Since(t0).Round(time.Millisecond))
	start := time.Now()
	for _, s := range sites {
		if s == frozen {
			continue
		}
		if err := s.node.Update(s.cfg); err != nil {
			return err
		}
	}
	links := np*(np-1)/2 + nc
	deadline := start.Add(60 * time.Second)
	for {
		up := true
		for _, s := range sites {
			if s != frozen && !s.store.allUp(s.need) {
				up = false
				break
			}
		}
		if up {
			break
		}
		if time.Now().After(deadline) {
			var missing []string
			for _, s := range sites {
				if s == frozen {
					continue
				}
				for _, l := range s.node.Links() {
					if slices.Contains(s.need, l.Site) && l.State != health.LinkUp && len(missing) < 10 {
						missing = append(missing, fmt.Sprintf("%s->%s %s (%s)", s.name, l.Site, l.State, l.Reason))
					}
				}
			}
			return fmt.Errorf("not every link UP after 60s: %s", strings.Join(missing, "; "))
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

	// State changes: a service of one parent goes DOWN (then UP again);
	// how long until every other parent's engine is told.
	var spread []time.Duration
	for k := range changes {
		p := sites[k%(np-1)]
		svc := p.name + "-svc0"
		want := health.Down
		if k/(np-1)%2 == 1 {
			want = health.Up
		}
		t0 := time.Now()
		p.store.Report(health.Report{Service: svc, State: want, Source: "bench"})
		var last time.Duration
		for _, o := range sites[:np] {
			if o == p || o == frozen {
				continue
			}
			for {
				if st := o.out.get(svc); st.state == want && !st.at.Before(t0) {
					last = max(last, st.at.Sub(t0))
					break
				}
				if time.Since(t0) > 10*time.Second {
					ss, _ := o.store.Service(svc)
					ps, _ := p.store.Service(svc)
					return fmt.Errorf("%s never saw %s %s: %+v (there: %+v, seen %+v)", o.name, svc, want, ss, ps, o.out.get(svc))
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
		spread = append(spread, last)
	}
	slices.Sort(spread)
	fmt.Printf("a state change at one parent reaches every other parent's engine: %d changes, median %v, p99 %v, max %v\n", len(spread),
		spread[len(spread)/2].Round(time.Microsecond), spread[len(spread)*99/100].Round(time.Microsecond), spread[len(spread)-1].Round(time.Microsecond))

	// A parent freezes (SIGSTOP: its sockets stay open, it sends nothing):
	// every neighbour declares it DOWN after the keep-alive.
	stopped := time.Now()
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	frozenAfter, err := downSeen(sites, frozen, stopped, frozen)
	if err != nil {
		return err
	}
	fmt.Printf("a parent freezes (SIGSTOP, keep-alive %v): %d neighbours DOWN after median %v, max %v\n", mep.DefaultTimers().KeepAlive, len(frozenAfter),
		frozenAfter[len(frozenAfter)/2].Round(time.Millisecond), frozenAfter[len(frozenAfter)-1].Round(time.Millisecond))

	// A parent leaves: every neighbour sees its GOODBYE.
	gone := sites[leaving(np)]
	left := time.Now()
	gone.node.Close()
	took, err := downSeen(sites, gone, left, frozen)
	if err != nil {
		return err
	}
	fmt.Printf("a parent leaves (GOODBYE): %d neighbours DOWN within median %v, max %v\n", len(took),
		took[len(took)/2].Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond))
	if backups > 0 {
		if err := adoption(sites, np, gone, frozen, left); err != nil {
			return err
		}
	}
	for _, s := range sites {
		if s == frozen {
			continue
		}
		if s != gone {
			s.node.Close()
		}
		s.store.Close()
	}
	return nil
}

// downSeen waits until every in-process neighbour of site (but skip) has
// marked it DOWN after since, and returns how long each took, sorted.
func downSeen(sites []*site, of *site, since time.Time, skip *site) ([]time.Duration, error) {
	var took []time.Duration
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range sites {
		if s == of || s == skip || !slices.Contains(s.need, of.name) {
			continue
		}
		for {
			s.store.mu.Lock()
			at, ok := s.store.downAt[of.name]
			s.store.mu.Unlock()
			if ok && at.After(since) {
				took = append(took, at.Sub(since))
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s did not see %s DOWN", s.name, of.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if len(took) == 0 {
		return nil, fmt.Errorf("%s has no neighbours", of.name)
	}
	slices.Sort(took)
	return took, nil
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

// adoption waits until the first backup parent of each of gone's children
// has adopted it (its link to the child UP), then changes a service of
// each adopted child and waits until every other parent's engine has it:
// the adopter relays the child.
func adoption(sites []*site, np int, gone, frozen *site, left time.Time) error {
	var took []time.Duration
	var kids []*site
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range sites[np:] {
		if sites[c.parent] != gone {
			continue
		}
		var adopter *site
		for _, b := range c.backup {
			if sites[b] != frozen {
				adopter = sites[b]
				break
			}
		}
		if adopter == nil {
			continue // its only backup is the frozen parent
		}
		kids = append(kids, c)
		for {
			if at, up := adopter.store.upSince(c.name); up && at.After(left) {
				took = append(took, at.Sub(left))
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not adopt %s", adopter.name, c.name)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if len(took) == 0 {
		return fmt.Errorf("%s has no children", gone.name)
	}
	slices.Sort(took)
	fmt.Printf("its children adopted by their backup parent (keep-alive %v): %d children after median %v, max %v\n", mep.DefaultTimers().KeepAlive, len(took),
		took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	var spread []time.Duration
	for _, c := range kids {
		svc := c.name + "-svc0"
		t0 := time.Now()
		c.store.Report(health.Report{Service: svc, State: health.Down, Source: "bench"})
		var last time.Duration
		for _, o := range sites[:np] {
			if o == gone || o == frozen {
				continue
			}
			for {
				if st := o.out.get(svc); st.state == health.Down && !st.at.Before(t0) {
					last = max(last, st.at.Sub(t0))
					break
				}
				if time.Since(t0) > 10*time.Second {
					ss, _ := o.store.Service(svc)
					return fmt.Errorf("%s never saw adopted %s DOWN: %+v", o.name, svc, ss)
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
		spread = append(spread, last)
	}
	slices.Sort(spread)
	fmt.Printf("a state change at an adopted child reaches every other parent's engine (relayed by the adopter): %d changes, median %v, max %v\n", len(spread),
		spread[len(spread)/2].Round(time.Microsecond), spread[len(spread)-1].Round(time.Microsecond))
	return nil
}
