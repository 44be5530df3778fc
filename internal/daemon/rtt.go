package daemon

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/gslb"
	"github.com/gslbd/gslbd/internal/mep"
	"github.com/gslbd/gslbd/internal/monitor"
	"github.com/gslbd/gslbd/internal/nserr"
)

// rtt runs the RTT method's measurements (docs/proximity.md, "RTT"):
// the resolvers the engine first sees are probed from here and named to
// the other parents; the resolvers they name are probed too; this
// site's measurements go to the engine and, when they moved by more
// than -RTTTolerance, to the other parents; theirs go to the engine.
// Only a parent site measures: a child's services go by its parent's
// RTT, and without a LOCAL site no measurement has a site to stand for.
type rtt struct {
	prober *monitor.LDNSProber
	stop   chan struct{}
	closed sync.Once
	wg     sync.WaitGroup

	mu        sync.Mutex
	site      string // the measuring site ("": none measures here)
	tolerance time.Duration
	timeout   time.Duration // -ldnsEntryTimeout
}

func (d *Daemon) startRTT() {
	r := &d.rtt
	r.stop = make(chan struct{})
	r.prober = monitor.NewLDNSProber(monitor.LDNSOptions{Logger: d.opts.Logger, Result: d.measured})
	r.wg.Add(2)
	go d.sightings(d.engine.NewLDNS())
	go d.sweepLDNS()
}

// updateRTT follows a configuration.
func (d *Daemon) updateRTT(s *config.Snapshot) {
	r := &d.rtt
	site, src := "", netip.Addr{}
	for _, si := range s.Sites {
		if si.Local && si.Parent == "" {
			site = si.Name
			if mep.HostAddr(si.IP) {
				src = si.IP
			}
		}
	}
	r.mu.Lock()
	r.site, r.tolerance, r.timeout = site, s.Param.RTTTolerance, s.Param.LDNSEntryTimeout
	r.mu.Unlock()
	r.prober.Update(monitor.LDNSSettingsOf(s, src))
}

func (r *rtt) measuring() (string, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.site, r.tolerance
}

// node is the exchange's node (nil: none runs).
func (d *Daemon) node() *mep.Node {
	d.mep.mu.Lock()
	defer d.mep.mu.Unlock()
	return d.mep.node
}

// sightings probes the resolvers the engine first sees and names them to
// the other parents, batched over a few milliseconds.
func (d *Daemon) sightings(in <-chan netip.Prefix) {
	r := &d.rtt
	defer r.wg.Done()
	var batch []netip.Prefix
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case p := <-in:
			batch = append(batch, p)
		case <-tick.C:
			if len(batch) == 0 {
				continue
			}
			if site, _ := r.measuring(); site != "" {
				r.prober.Add(batch...)
			}
			if n := d.node(); n != nil {
				n.AnnounceLDNS(batch)
			}
			batch = nil
		}
	}
}

// measured takes one of this site's measurements.
func (d *Daemon) measured(p netip.Prefix, m monitor.RTTResult) {
	site, tol := d.rtt.measuring()
	if site == "" {
		return
	}
	if !d.engine.SetRTT(p, gslb.SiteRTT{Site: site, RTT: m.RTT, Method: m.Method, Unreachable: m.Unreachable, At: m.At}, max(tol, time.Nanosecond)) {
		return
	}
	if n := d.node(); n != nil {
		n.ShareRTTs([]mep.RTT{{LDNS: p, RTT: m.RTT, Method: m.Method, Unreachable: m.Unreachable}})
	}
}

// ldnsNamed takes the resolvers another parent names: this site probes
// them too, and sends back what it already measured of those it knew
// (the other parent may have restarted and lost it).
func (d *Daemon) ldnsNamed(_ string, ps []netip.Prefix) {
	site, _ := d.rtt.measuring()
	if site == "" {
		return
	}
	d.engine.AddLDNS(ps)
	d.rtt.prober.Add(ps...)
	var known []mep.RTT
	for _, p := range ps {
		if x, ok := d.engine.RTTOf(p, site); ok {
			known = append(known, mep.RTT{LDNS: p.Masked(), RTT: x.RTT, Method: x.Method, Unreachable: x.Unreachable, Age: time.Since(x.At)})
		}
	}
	if n := d.node(); n != nil && len(known) > 0 {
		n.ShareRTTs(known)
	}
}

// rttsReceived takes another parent's measurements.
func (d *Daemon) rttsReceived(site string, rs []mep.RTT) {
	now := time.Now()
	for _, x := range rs {
		d.engine.SetRTT(x.LDNS, gslb.SiteRTT{Site: strings.ToLower(site), RTT: x.RTT, Method: x.Method, Unreachable: x.Unreachable, At: now.Add(-x.Age)}, 0)
	}
}

// sweepLDNS drops resolvers not queried for -ldnsEntryTimeout and names
// those still queried here to the other parents again, every few
// seconds.
func (d *Daemon) sweepLDNS() {
	r := &d.rtt
	defer r.wg.Done()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.mu.Lock()
			timeout := r.timeout
			r.mu.Unlock()
			if timeout <= 0 {
				timeout = 180 * time.Second
			}
			gone, renew := d.engine.SweepLDNS(timeout)
			r.prober.Remove(gone...)
			if n := d.node(); n != nil && len(renew) > 0 {
				n.AnnounceLDNS(renew)
			}
		}
	}
}

// closeRTT stops the measurements (once: Close may be called again).
func (d *Daemon) closeRTT() {
	r := &d.rtt
	if r.stop == nil {
		return
	}
	r.closed.Do(func() {
		close(r.stop)
		r.wg.Wait()
		r.prober.Close()
	})
}

// LDNSEntries lists the RTT method's resolvers as NITRO gslbldnsentries
// objects: the resolver (masked), its mask length, the seconds until it
// expires without a query, and per measuring site its RTT in
// milliseconds (-1: unreachable) and the probe that got it.
func (d *Daemon) LDNSEntries() []map[string]any {
	d.rtt.mu.Lock()
	timeout := d.rtt.timeout
	d.rtt.mu.Unlock()
	now := time.Now()
	var out []map[string]any
	for _, e := range d.engine.LDNSEntries() {
		sites, rtts, probes := []string{}, []int64{}, []string{}
		for _, r := range e.RTTs {
			ms := r.RTT.Milliseconds()
			if r.Unreachable {
				ms = -1
			}
			sites, rtts, probes = append(sites, r.Site), append(rtts, ms), append(probes, r.Method)
		}
		ttl := max(int64((timeout - now.Sub(e.Seen)).Seconds()), 0)
		out = append(out, map[string]any{"ipaddress": e.LDNS.Addr().String(), "ldnsmasklen": e.LDNS.Bits(), "ttl": ttl,
			"numsites": len(sites), "sitename": sites, "rtt": rtts, "probe": probes})
	}
	return out
}

// RemoveLDNS drops one resolver (rm gslb ldnsentry <ip>: the address is
// masked as the table keys it), or all of them ("": clear gslb
// ldnsentries). Its measurements are taken again at its next query.
func (d *Daemon) RemoveLDNS(ip string) error {
	if ip == "" {
		d.engine.RemoveLDNS(netip.Prefix{})
		d.rtt.prober.RemoveAll()
		return nil
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nserr.New(nserr.ArgValBad, "Invalid argument value [ipaddress, %q]: not an IP address", ip)
	}
	p := d.Current().Snapshot.Param
	k := gslb.LDNSKey(a, p.LDNSMaskBits, p.V6Bits)
	if !d.engine.RemoveLDNS(k) {
		return nserr.New(nserr.NoEnt, "No such resource [ipaddress, %s]", ip)
	}
	d.rtt.prober.Remove(k)
	return nil
}
