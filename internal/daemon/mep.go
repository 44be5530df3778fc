package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/gslb"
	"github.com/gslbd/gslbd/internal/mep"
)

// MEPOptions configure the metric exchange with the other sites.
type MEPOptions struct {
	// Certs is the directory of the deployment CA and this site's
	// certificate (`gslbd cert`); "": no TLS port.
	Certs string
	// Ports; zero ports are NetScaler's (3009, 3011).
	Ports mep.Ports
	// Timers (zero: docs/mep.md's defaults).
	Timers mep.Timers
	// CertPoll is how often the certificate files are checked for a
	// change, which reloads them as SIGHUP does (0: every 10 s; <0: never).
	CertPoll time.Duration
}

// exchange runs the metric exchange for the daemon.
type exchange struct {
	mu     sync.Mutex
	node   *mep.Node
	site   string // the site the node runs as
	warned string
	stop   chan struct{} // closed with the node: ends shareSessions
}

// shareSessions passes the engine's new persistence sessions to the
// exchange, in batches.
func shareSessions(in <-chan gslb.PersistSession, n *mep.Node, stop <-chan struct{}) {
	var batch []mep.Session
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case s := <-in:
			batch = append(batch, mep.Session{ID: s.ID, Client: s.Client, Service: s.Service, Created: s.Created, Expires: s.Expires})
		case <-tick.C:
			if len(batch) > 0 {
				n.ShareSessions(batch)
				batch = nil
			}
		}
	}
}

// updateMEP starts, changes or stops the exchange for a configuration.
// Without a certificate (and without the plain port) the exchange does
// not run: remote sites keep the state their monitors give them, as
// before, and a warning says why once.
func (d *Daemon) updateMEP(s *config.Snapshot) error {
	x := &d.mep
	x.mu.Lock()
	defer x.mu.Unlock()
	ports := d.opts.MEP.Ports
	if ports.TLS == 0 {
		ports.TLS = mep.DefaultPorts.TLS
	}
	if ports.Plain == 0 {
		ports.Plain = mep.DefaultPorts.Plain
	}
	cfg, ok := mep.FromSnapshot(s, ports)
	if !ok {
		if x.node != nil {
			x.node.Update(mep.Config{Site: s.LocalSite})
		}
		return nil
	}
	if x.node == nil {
		x.stop = make(chan struct{})
		var id *mep.Identity
		if !ports.AllowPlain {
			var err error
			if d.opts.MEP.Certs != "" {
				id, err = mep.LoadIdentity(d.opts.MEP.Certs, cfg.Site)
			} else {
				err = fs.ErrNotExist
			}
			if err != nil {
				why := "no site certificate: " + err.Error()
				if errors.Is(err, fs.ErrNotExist) {
					why = "no site certificate in " + d.opts.MEP.Certs + " (create it with `gslbd cert ca` and `gslbd cert site " + cfg.Site + "`)"
				}
				if why != x.warned {
					d.log.Warn("metric exchange not running: remote sites are judged by monitors only", "why", why)
					x.warned = why
				}
				return nil
			}
		}
		x.warned = ""
		x.node = mep.New(mep.Options{Logger: d.opts.Logger, Store: d.health, Identity: id, Timers: d.opts.MEP.Timers,
			OnSessions: func(ss []mep.Session) {
				out := make([]gslb.PersistSession, len(ss))
				for i, s := range ss {
					out[i] = gslb.PersistSession{ID: s.ID, Client: s.Client, Service: s.Service, Created: s.Created, Expires: s.Expires}
				}
				d.engine.AddPersistSessions(out)
			},
			OnLDNSNew: d.ldnsNamed, OnRTT: d.rttsReceived})
		x.site = cfg.Site
		go shareSessions(d.engine.PersistSessions(), x.node, x.stop)
		if id != nil && d.opts.MEP.CertPoll >= 0 {
			go d.watchCerts(cfg.Site, x.stop)
		}
	}
	return x.node.Update(cfg)
}

// mepNotRunning says why a remote site has no link.
func (d *Daemon) mepNotRunning(si *config.SiteInfo) string {
	d.mep.mu.Lock()
	defer d.mep.mu.Unlock()
	switch {
	case d.mep.warned != "":
		return "metric exchange not running: " + d.mep.warned
	case d.mep.node == nil:
		return "metric exchange not running: no local site exchanges metrics"
	}
	return "no link with this site (another parent's child: its state comes through its parent)"
}

// Links returns the state of each site link (nil: no exchange runs).
func (d *Daemon) Links() []mep.LinkStatus {
	d.mep.mu.Lock()
	n := d.mep.node
	d.mep.mu.Unlock()
	if n == nil {
		return nil
	}
	return n.Links()
}

// MEPLag is the exchange's measure of this process's timer lag (0: no
// exchange runs).
func (d *Daemon) MEPLag() time.Duration {
	d.mep.mu.Lock()
	n := d.mep.node
	d.mep.mu.Unlock()
	if n == nil {
		return 0
	}
	return n.Lag()
}

func (d *Daemon) closeMEP() {
	d.mep.mu.Lock()
	n := d.mep.node
	d.mep.node = nil
	if d.mep.stop != nil {
		close(d.mep.stop)
		d.mep.stop = nil
	}
	d.mep.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// reloadIdentity re-reads this site's certificate, key and the CA bundle
// (SIGHUP): new connections use them, links already up keep their
// session. When they cannot be read the previous ones stay, with an error
// that names the file, never a key.
func (d *Daemon) reloadIdentity() {
	x := &d.mep
	x.mu.Lock()
	n, site := x.node, x.site
	x.mu.Unlock()
	if n == nil || d.opts.MEP.Certs == "" || d.opts.MEP.Ports.AllowPlain {
		return
	}
	id, err := mep.LoadIdentity(d.opts.MEP.Certs, site)
	if err != nil {
		d.log.Error("site certificates not reloaded; the previous ones stay in use", "err", err)
		return
	}
	n.SetIdentity(id)
	d.log.Info("site certificates reloaded", "site", id.Site, "serial", id.Cert.Leaf.SerialNumber.Text(16), "expires", id.Cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

// watchCerts reloads the site's certificates when their files change
// (size or modification time), as SIGHUP does, until stop is closed.
func (d *Daemon) watchCerts(site string, stop <-chan struct{}) {
	every := d.opts.MEP.CertPoll
	if every == 0 {
		every = 10 * time.Second
	}
	ca, cert, key := mep.CertFiles(d.opts.MEP.Certs, site)
	sig := func() string {
		var b strings.Builder
		for _, f := range []string{ca, cert, key} {
			if fi, err := os.Stat(f); err == nil {
				fmt.Fprintf(&b, "%d/%d;", fi.Size(), fi.ModTime().UnixNano())
			}
		}
		return b.String()
	}
	last := sig()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if now := sig(); now != last {
				last = now
				d.reloadIdentity()
			}
		}
	}
}
