package gslb

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/location"
	"github.com/gslbd/gslbd/internal/zone"
	"github.com/miekg/dns"
)

// table is one immutable generation of everything the query path reads.
type table struct {
	domains    config.Index[*domainEntry] // lower-case name, no trailing dot
	zones      *zone.Set
	wire       *zone.Wire // zones' static answers as wire bytes
	vservers   []*vsEntry
	maxUDP     int
	nextExpiry time.Time
	persist    *persistTable
	ldns       *ldnsTable
	// child: this site is a child site, which answers no GSLB name
	// (REFUSED): its parents do.
	child bool
	// viewRules are the DNS view policies in evaluation order (none: no
	// query is evaluated).
	viewRules []config.ViewRule
	// explainFrom are the clients a _explain TXT query is answered for;
	// engine explains them.
	explainFrom []netip.Prefix
	engine      *Engine
}

type vsEntry struct {
	lname  string   // lower-case name (persistence key)
	hits   *counter // this vserver's (dec.counter is the serving vserver's)
	backup bool     // answers come from a backup vserver's services
	info   *config.VServerInfo
	dec    decision
	status VServerStatus
}

// block is one precomputed answer section: wire bytes whose owner names
// point at the question (offset 12), and the same data for the slow path.
type block struct {
	hit    *counter // the service leading the answer (nil: no single one)
	b      []byte
	n      uint16
	addrs  []netip.Addr
	cnames []string
	ttl    uint32
}

type domainEntry struct {
	hits   *counter // queries for the name, kept across rebuilds
	name   string
	vs     *vsEntry
	rtype  uint16
	mir    bool
	blocks []block // one per candidate of vs.dec (MIR: one per rotation)
	down   *block  // modeAllDown answer; nil means an empty answer (EDR)
	// allDown is which answer down is (decided with the domain).
	allDown allDown
	// views are the answers to clients in a DNS view, for the views some
	// service of the answer has an address in (others get blocks).
	views []viewBlocks
	neg   []byte // authority section for NODATA: the zone's SOA
	negRR dns.RR
}

// viewBlocks are a domain's answers in one DNS view: blocks and down
// as the domain's, each service at its address in the view.
type viewBlocks struct {
	view   string // lower-case
	blocks []block
	down   *block
}

// forView returns the answers for a view ("": none).
func (d *domainEntry) forView(view string) (blocks []block, down *block) {
	if view != "" {
		for i := range d.views {
			if d.views[i].view == view {
				return d.views[i].blocks, d.views[i].down
			}
		}
	}
	return d.blocks, d.down
}

func rrType(s string) uint16 {
	switch s {
	case "AAAA":
		return dns.TypeAAAA
	case "CNAME":
		return dns.TypeCNAME
	}
	return dns.TypeA
}

// vsMemo is a vserver's computed entry and answers, with what they were
// computed from: the vservers examined (itself, then its backups while none
// had an eligible service), their switch-off state, and the zones. The
// state cells it read list the vserver among their users, so that a
// changed cell invalidates it.
type vsMemo struct {
	ent     *vsEntry
	domains []*domainEntry // in the order of info.Domains
	gen     uint64         // last build that kept it
	// off is whether the vserver was switched off (-disablePrimaryOnDown)
	// when computed.
	off bool
	// rest is the backup vserver's memo the decision came from (the
	// vserver had no eligible service): its result is this one's, and
	// the memo holds while the backup's does.
	rest  *vsMemo
	zones *zone.Set
	// timed: the decision read metric freshness (a dynamic method or a
	// -maxClient); it holds until validUntil (zero: no metric to expire).
	timed      bool
	validUntil time.Time
}

// valid reports whether m still describes vs: nothing it was computed
// from changed (the state cells it read are checked by buildTable).
func (e *Engine) valid(m *vsMemo, vs *config.VServerInfo, now time.Time) bool {
	if m.ent.info != vs || m.zones != e.zones {
		return false
	}
	if d := &m.ent.dec; d.static && d.locs != e.locs {
		return false // a new location database
	}
	if d := &m.ent.dec; d.rtt {
		// The sites measuring for each candidate come from the sites
		// (looked at again only when the snapshot's sites are others), the
		// resolver masks from the gslb parameter.
		p := e.snap.Param
		if d.ldnsV4 != p.LDNSMaskBits || d.ldnsV6 != p.V6Bits || d.dropLDNS != p.DropLDNSReq ||
			!sameList(d.sites, e.snap.Sites) && !slices.Equal(d.rttSite, rttSites(e.snap, d.cands)) {
			return false
		}
	}
	if m.timed && !m.validUntil.IsZero() && !now.Before(m.validUntil) {
		return false
	}
	if m.rest != nil {
		// The backup's memo is current (buildTable settles a backup
		// before its users): the same one, for the same backup.
		if b := e.snap.VServer(vs.Backup); b == nil || m.rest.ent.info != b || e.memo[key(b.Name)] != m.rest {
			return false
		}
	}
	if (len(e.primaryOff) > 0 || m.off) && e.isOff(vs) != m.off {
		return false
	}
	return true
}

// buildTable makes the table for the current snapshot and states. Only
// the vservers whose inputs changed since the last build are computed
// again (a health report recomputes the vservers binding that service, an
// API change the vservers it touched): 1,000 vservers cost what changed.
func (e *Engine) buildTable(now time.Time) *table {
	s := e.snap
	t := &table{zones: e.zones, wire: e.wire, maxUDP: e.opts.MaxUDPSize, persist: e.persist, ldns: e.ldns}
	t.engine = e
	if s != nil {
		t.viewRules, t.explainFrom = s.ViewRules, s.Param.ExplainFrom
		for _, si := range s.Sites {
			t.child = t.child || si.Local && si.Parent != ""
		}
	}
	for _, st := range e.metricCells {
		for m := range health.Metric(health.NumMetrics) {
			if !st.metrics.Present(m) {
				continue
			}
			exp := st.exp[m]
			if !exp.Before(now) && (t.nextExpiry.IsZero() || exp.Before(t.nextExpiry)) {
				t.nextExpiry = exp
			}
		}
	}
	e.recomputed = 0
	e.buildGen++
	// The vservers that read a state changed since the last rebuild.
	var stale map[string]bool
	if len(e.dirty) > 0 {
		stale = map[string]bool{}
		for _, st := range e.dirty {
			for _, u := range st.users {
				stale[u] = true
			}
			st.dirty = false
		}
		clear(e.dirty)
		e.dirty = e.dirty[:0]
	}
	// Domains start as the last table's and change with the vservers
	// computed again: a rebuild costs what changed, not 1,000 inserts.
	domains := config.Index[*domainEntry]{}.Edit()
	if len(e.memo) > 0 {
		domains = e.table.Load().domains.Edit()
	}
	drop := func(m *vsMemo) {
		for i, d := range m.ent.info.Domains {
			if cur, _ := domains.Get(d.Name); cur == m.domains[i] {
				domains.Delete(d.Name)
			}
		}
	}
	// settle brings a vserver's memo up to date, its backup's first: a
	// vserver with no eligible service answers as its backup does, so
	// that a chain of n vservers costs n, not n²/2 walks.
	visiting := map[string]bool{}
	var settle func(vs *config.VServerInfo) *vsMemo
	settle = func(vs *config.VServerInfo) *vsMemo {
		k := key(vs.Name)
		if m := e.memo[k]; m != nil && m.gen == e.buildGen {
			return m
		}
		if visiting[k] {
			return nil // a loop (the configuration refuses them)
		}
		visiting[k] = true
		defer delete(visiting, k)
		var rest *vsMemo
		if b := s.VServer(vs.Backup); b != nil {
			rest = settle(b)
		}
		m := e.memo[k]
		if m == nil || stale[k] || !e.valid(m, vs, now) {
			old := m
			if m != nil {
				drop(m)
			}
			m = e.compute(vs, now, t.nextExpiry, rest)
			if old != nil {
				e.vserverEvents(old.ent.status, m.ent.status)
			}
			e.memo[k] = m
			for i, d := range vs.Domains {
				domains.Set(d.Name, m.domains[i])
			}
			e.recomputed++
		}
		m.gen = e.buildGen
		return m
	}
	t.vservers = make([]*vsEntry, 0, len(s.VServers))
	for _, vs := range s.VServers {
		t.vservers = append(t.vservers, settle(vs).ent)
	}
	if len(e.memo) != len(s.VServers) { // vservers removed: their counters go too
		for k, m := range e.memo {
			if m.gen != e.buildGen {
				drop(m)
				delete(e.memo, k)
				delete(e.counters, k)
				delete(e.hashCache, k)
			}
		}
	}
	t.domains = domains.Index()
	if len(e.domainHits) > t.domains.Len() { // domains unbound: their counters go
		for k := range e.domainHits {
			if _, ok := t.domains.Get(k); !ok {
				delete(e.domainHits, k)
			}
		}
	}
	return t
}

// compute decides for one vserver and builds its answers.
// rest is the backup vserver's memo, settled in this build (nil: none).
func (e *Engine) compute(vs *config.VServerInfo, now, validUntil time.Time, rest *vsMemo) *vsMemo {
	m := &vsMemo{zones: e.zones, validUntil: validUntil}
	user := key(vs.Name)
	off := func(x *config.VServerInfo) bool { return x.Disabled || e.isOff(x) }
	m.off = e.isOff(vs)
	// cands returns x's eligible services, noting that vs read them.
	cands := func(x *config.VServerInfo) []cand {
		m.timed = m.timed || x.Method.Dynamic() || x.BackupMethod.Dynamic()
		var cs []cand
		for _, b := range x.Bindings {
			lname := key(b.Service.Name)
			st := e.cell(lname)
			st.addUser(user)
			if !st.metricUser && (x.Method.Dynamic() || x.BackupMethod.Dynamic() || b.Service.MaxClient > 0) {
				st.metricUser = true
				e.metricCells = append(e.metricCells, st)
			}
			m.timed = m.timed || b.Service.MaxClient > 0
			if eligible(b.Service, st, now) {
				cs = append(cs, cand{svc: b.Service, weight: b.Weight, lname: lname, st: st})
			}
		}
		if len(cs) == 0 && x.ConsiderEffective {
			// -considerEffectiveState STATE_ONLY: every service is DOWN;
			// those whose vserver still serves through its backup are
			// answered.
			for _, b := range x.Bindings {
				st := e.cell(key(b.Service.Name))
				if st.state == health.Down && st.effective == health.Up && !b.Service.Disabled {
					cs = append(cs, cand{svc: b.Service, weight: b.Weight, lname: key(b.Service.Name), st: st})
				}
			}
		}
		return cs
	}
	ent := &vsEntry{info: vs, lname: key(vs.Name), hits: e.counter(vs.Name)}
	cs := cands(vs)
	st := VServerStatus{Name: vs.Name, TotalServices: len(vs.Bindings), ActiveServices: len(cs), State: "DOWN"}
	switch {
	case vs.Disabled:
		st.State = "OUT OF SERVICE"
	case len(cs) > 0 && !e.isOff(vs):
		st.State = "UP"
	}
	switch {
	case len(cs) > 0 && !off(vs):
		ent.dec = e.plan(vs, cs, now)
		ent.dec.served = vs.Name
	default:
		// Backup chain (active-passive): the first enabled backup with an
		// eligible service answers, which is what the backup's own
		// decision found (its own services, or its backup's).
		if rest != nil {
			m.rest = rest
			if rest.ent.dec.served != "" {
				ent.dec = rest.ent.dec
			}
		}
		if ent.dec.served != "" && vs.DisablePrimaryOnDown && !vs.Disabled && !e.isOff(vs) {
			e.primaryOff[key(vs.Name)] = vs.EnableSeq
			e.log.Info("primary vserver switched off after failover (disablePrimaryOnDown)", "vserver", vs.Name, "backup", ent.dec.served)
		}
		if ent.dec.served == "" {
			ent.dec.mode = modeAllDown
			st.AllDown = allDownHow(vs)
			if vs.Disabled {
				ent.dec.mode = modeEmpty
				st.AllDown = "disabled: empty answers"
			}
		}
	}
	st.Serving = ent.dec.served
	ent.backup = ent.dec.served != "" && ent.dec.served != vs.Name
	st.Method = string(ent.dec.method)
	st.LBRRReason, st.LBRRReasonText = ent.dec.reason, ent.dec.why
	ent.status = st
	m.ent = ent
	m.domains = make([]*domainEntry, len(vs.Domains))
	for i, d := range vs.Domains {
		m.domains[i] = e.domainEntry(vs, ent, d)
	}
	return m
}

// plan wraps the method choice with the engine's caches.
func (e *Engine) plan(vs *config.VServerInfo, cs []cand, now time.Time) decision {
	d := plan(vs, cs, now)
	d.counter = e.counter(vs.Name)
	if d.static {
		d.method, d.locs = config.StaticProximity, e.locs
		if e.locs == nil && d.reason == 0 {
			d.reason, d.why = rrNoDecision, "STATICPROXIMITY: no location database loaded (add locationFile, add location, or gslbd run -location-file)"
		}
		d.svcLoc = make([]*location.Location, len(cs))
		for i, c := range cs {
			d.svcLoc[i] = e.serviceLocation(c.svc)
		}
	}
	if d.rtt {
		d.method = config.RTT
		d.rttSite, d.sites = rttSites(e.snap, cs), e.snap.Sites
		d.tolerance = time.Duration(vs.Tolerance) * time.Millisecond
		p := e.snap.Param
		d.ldnsV4, d.ldnsV6, d.dropLDNS = p.LDNSMaskBits, p.V6Bits, p.DropLDNSReq
	}
	if d.hash != nil {
		// Reuse the hash table while the candidate set is unchanged.
		var sig strings.Builder
		for _, c := range cs {
			fmt.Fprintf(&sig, "%d/%d,", serviceKey(c.svc), c.weight)
		}
		if h, ok := e.hashCache[key(vs.Name)]; ok && h.sig == sig.String() {
			d.hash = h.table
		} else {
			e.hashCache[key(vs.Name)] = hashCacheEntry{sig: sig.String(), table: d.hash}
		}
	}
	d.index = make(map[string]int, len(cs))
	for i, c := range cs {
		d.index[c.lname] = i
	}
	if vs.Method != d.method && d.reason != 0 {
		e.log.Debug("vserver falls back", "vserver", vs.Name, "method", d.method, "reason", d.why)
	}
	return d
}

func (e *Engine) domainEntry(vs *config.VServerInfo, ent *vsEntry, d *config.DomainInfo) *domainEntry {
	de := &domainEntry{name: d.Name, vs: ent, rtype: rrType(vs.RecordType), mir: vs.MIR && vs.RecordType != "CNAME",
		hits: hitsOf(e.domainHits, key(d.Name)), allDown: allDownFor(vs, d)}
	if z := e.zones.Find(dns.Fqdn(d.Name)); z != nil && z.SOA != nil {
		de.negRR = z.NegativeSOA()
		de.neg = packRR(de.negRR)
	}
	de.blocks, de.down = e.answers(vs, ent, d, de, "")
	// Views: the same answers with each service at its view address.
	var views []string
	note := func(svc *config.ServiceInfo) {
		for _, v := range svc.ViewIPs {
			if !slices.Contains(views, v.View) {
				views = append(views, v.View)
			}
		}
	}
	for _, b := range vs.Bindings {
		note(b.Service)
	}
	for _, c := range ent.dec.cands { // a backup vserver's services
		note(c.svc)
	}
	for _, v := range views {
		blocks, down := e.answers(vs, ent, d, de, v)
		de.views = append(de.views, viewBlocks{view: v, blocks: blocks, down: down})
	}
	return de
}

// answers builds a domain's answer blocks (one per candidate, MIR: one
// per rotation) and its all-down answer, each service answered at its
// address in view ("": its own).
func (e *Engine) answers(vs *config.VServerInfo, ent *vsEntry, d *config.DomainInfo, de *domainEntry, view string) (blocks []block, down *block) {
	dec := &ent.dec
	switch dec.mode {
	case modeServe:
		if de.mir {
			for i := range dec.cands {
				rot := append(slices.Clone(dec.cands[i:]), dec.cands[:i]...)
				b := makeBlock(de.rtype, d.TTL, rot, view)
				b.hit = hitsOf(e.serviceHits, dec.cands[i].lname)
				blocks = append(blocks, b)
			}
		} else {
			for _, c := range dec.cands {
				b := makeBlock(de.rtype, d.TTL, []cand{c}, view)
				b.hit = hitsOf(e.serviceHits, c.lname)
				blocks = append(blocks, b)
			}
		}
	case modeAllDown:
		switch de.allDown {
		case downBackupIP:
			b := makeBlockAddrs(de.rtype, d.TTL, []netip.Addr{d.BackupIP}, nil)
			down = &b
		case downEDR, downNone:
			// Empty Down Response: NOERROR, no answer, SOA in authority.
		case downFailOpen:
			// NetScaler default: answer with every configured service.
			var all []cand
			for _, b := range vs.Bindings {
				if !b.Service.Disabled {
					all = append(all, cand{svc: b.Service, weight: b.Weight})
				}
			}
			if de.rtype == dns.TypeCNAME && len(all) > 1 {
				all = all[:1] // one CNAME per name (RFC 2181 §10.1)
			}
			b := makeBlock(de.rtype, d.TTL, all, view)
			down = &b
		}
	}
	return blocks, down
}

// serviceLocation is where static proximity places a service: its
// -location, else its site's, else its address's in the database (nil:
// nowhere, which matches every client).
func (e *Engine) serviceLocation(svc *config.ServiceInfo) *location.Location {
	l := svc.Location
	if l == nil {
		for _, si := range e.snap.Sites {
			if si.Name == svc.Site {
				l = si.Location
			}
		}
	}
	if l != nil {
		x := e.locs.Intern(*l)
		return &x
	}
	if l, _, ok := e.locs.Lookup(svc.IP); ok {
		return l
	}
	return nil
}

// vserverEvents notes a vserver's state change, and a change of the
// vserver it answers from (a failover to its backup and back).
func (e *Engine) vserverEvents(was, is VServerStatus) {
	if e.opts.Events == nil {
		return
	}
	if was.State != is.State {
		e.opts.Events.Add(events.Event{Kind: events.VServer, Name: is.Name, From: was.State, To: is.State,
			Reason: fmt.Sprintf("%d of %d services active", is.ActiveServices, is.TotalServices)})
	}
	if was.Serving != is.Serving || was.AllDown != is.AllDown {
		ev := events.Event{Kind: events.VServer, Name: is.Name, From: "answering from " + orNone(was.Serving),
			To: "answering from " + orNone(is.Serving), Reason: "backup vserver chain"}
		if was.AllDown != "" {
			ev.From, ev.Reason = "no service UP", "a service is UP again"
		}
		if is.AllDown != "" {
			ev.To, ev.Reason = "no service UP", is.AllDown
		}
		e.opts.Events.Add(ev)
	}
}

// allDown is what a domain answers when no service is UP, in NetScaler's
// order: its backup IP, else nothing (EDR), else every enabled service
// (fail open); nothing when there is none.
type allDown uint8

const (
	downBackupIP allDown = iota
	downEDR
	downFailOpen
	downNone
)

// allDownFor decides a domain's all-down answer (answers builds it).
func allDownFor(vs *config.VServerInfo, d *config.DomainInfo) allDown {
	switch {
	case d.BackupIP.IsValid():
		return downBackupIP
	case vs.EDR:
		return downEDR
	case slices.ContainsFunc(vs.Bindings, func(b config.Binding) bool { return !b.Service.Disabled }):
		return downFailOpen
	}
	return downNone
}

// note is the decision trace's line for a domain answered so.
func (a allDown) note() string {
	return [...]string{"the domain's backup IP", "an empty answer (EDR)",
		"answering every service (fail open, as NetScaler)", "an empty answer (no service bound)"}[a]
}

// allDownHow says how a vserver with no UP service answers, over its
// domains (VServerStatus.AllDown).
func allDownHow(vs *config.VServerInfo) string {
	backup := 0
	for _, d := range vs.Domains {
		if allDownFor(vs, d) == downBackupIP {
			backup++
		}
	}
	// The other domains' answer depends on the vserver alone.
	text := [...]string{"", "empty answers (EDR)", "answering every service (fail open)",
		"empty answers (no service bound)"}[allDownFor(vs, &config.DomainInfo{})]
	switch {
	case backup == 0:
		return text
	case backup == len(vs.Domains):
		return "answering the domains' backup IPs"
	}
	return fmt.Sprintf("answering the backup IP for %d of %d domains, %s for the rest", backup, len(vs.Domains), text)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// viewAddr is a service's address in a view ("": its own).
func viewAddr(svc *config.ServiceInfo, view string) netip.Addr {
	if view != "" {
		for _, v := range svc.ViewIPs {
			if v.View == view {
				return v.IP
			}
		}
	}
	return svc.IP
}

func makeBlock(rtype uint16, ttl uint32, cs []cand, view string) block {
	var addrs []netip.Addr
	var names []string
	if rtype == dns.TypeCNAME {
		names = make([]string, 0, len(cs))
	} else {
		addrs = make([]netip.Addr, 0, len(cs))
	}
	for _, c := range cs {
		if rtype == dns.TypeCNAME {
			names = append(names, c.svc.CNAME)
		} else {
			addrs = append(addrs, viewAddr(c.svc, view))
		}
	}
	return makeBlockAddrs(rtype, ttl, addrs, names)
}

// makeBlockAddrs packs answer RRs whose owner is a pointer to the question
// name (0xC00C), so one block serves every spelling of the name.
func makeBlockAddrs(rtype uint16, ttl uint32, addrs []netip.Addr, names []string) block {
	// Sized once: 16 bytes per A (28 per AAAA), up to 12+255 per CNAME.
	bl := block{addrs: addrs, cnames: names, ttl: ttl, b: make([]byte, 0, 28*len(addrs)+267*len(names))}
	rr := func(typ uint16, rdata []byte) {
		bl.b = append(bl.b, 0xC0, 0x0C, byte(typ>>8), byte(typ), 0, 1,
			byte(ttl>>24), byte(ttl>>16), byte(ttl>>8), byte(ttl), byte(len(rdata)>>8), byte(len(rdata)))
		bl.b = append(bl.b, rdata...)
		bl.n++
	}
	for _, a := range addrs {
		if a.Is4() {
			b := a.As4()
			rr(dns.TypeA, b[:])
		} else {
			b := a.As16()
			rr(dns.TypeAAAA, b[:])
		}
	}
	for _, n := range names {
		buf := make([]byte, 256)
		off, err := dns.PackDomainName(dns.Fqdn(n), buf, 0, nil, false)
		if err == nil {
			rr(dns.TypeCNAME, buf[:off])
		}
	}
	return bl
}

// rrs returns the block's records with the given owner (slow path).
func (b *block) rrs(owner string) []dns.RR {
	out := make([]dns.RR, 0, len(b.addrs)+len(b.cnames))
	for _, a := range b.addrs {
		if a.Is4() {
			out = append(out, &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: b.ttl}, A: a.AsSlice()})
		} else {
			out = append(out, &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: b.ttl}, AAAA: a.AsSlice()})
		}
	}
	for _, n := range b.cnames {
		out = append(out, &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: b.ttl}, Target: dns.Fqdn(n)})
	}
	return out
}

func packRR(rr dns.RR) []byte {
	buf := make([]byte, dns.Len(rr)+16)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	return buf[:off]
}

// buildZones turns the snapshot's zones into a zone.Set, with GSLB domains
// registered as dynamic names.
func buildZones(s *config.Snapshot) *zone.Set {
	set := zone.NewSet()
	// GSLB domains by zone, in one pass (each zone scanning every domain
	// was quadratic: 28 ms per change at 1,000 domains).
	byZone := map[string][]string{}
	for _, d := range s.Domains.All() {
		z := s.ZoneOf[d.Name]
		byZone[z] = append(byZone[z], dns.Fqdn(d.Name))
	}
	for _, z := range s.Zones {
		var rrs []dns.RR
		for _, r := range z.Records {
			if rr := toRR(r); rr != nil {
				rrs = append(rrs, rr)
			}
		}
		set.Add(zone.New(dns.Fqdn(z.Apex), rrs, byZone[z.Apex]))
	}
	return set
}

func u32(s string) uint32 { n, _ := strconv.ParseUint(s, 10, 32); return uint32(n) }
func u16(s string) uint16 { n, _ := strconv.ParseUint(s, 10, 16); return uint16(n) }

// toRR converts a configured record to a dns.RR without going through zone
// file text, so no value can inject syntax.
func toRR(r config.RecordInfo) dns.RR {
	h := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: dns.Fqdn(r.Name), Rrtype: t, Class: dns.ClassINET, Ttl: r.TTL}
	}
	d := r.Data
	switch r.Type {
	case "SOA":
		return &dns.SOA{Hdr: h(dns.TypeSOA), Ns: dns.Fqdn(d[0]), Mbox: dns.Fqdn(d[1]), Serial: u32(d[2]),
			Refresh: u32(d[3]), Retry: u32(d[4]), Expire: u32(d[5]), Minttl: u32(d[6])}
	case "NS":
		return &dns.NS{Hdr: h(dns.TypeNS), Ns: dns.Fqdn(d[0])}
	case "A", "AAAA":
		ip, err := netip.ParseAddr(d[0])
		if err != nil {
			return nil
		}
		if r.Type == "A" {
			return &dns.A{Hdr: h(dns.TypeA), A: ip.AsSlice()}
		}
		return &dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: ip.AsSlice()}
	case "CNAME":
		return &dns.CNAME{Hdr: h(dns.TypeCNAME), Target: dns.Fqdn(d[0])}
	case "MX":
		return &dns.MX{Hdr: h(dns.TypeMX), Preference: u16(d[0]), Mx: dns.Fqdn(d[1])}
	case "TXT":
		// miekg/dns reads Txt as presentation text: escape backslashes so
		// that the configured bytes go on the wire as they are.
		txt := make([]string, len(d))
		for i, s := range d {
			txt[i] = strings.ReplaceAll(s, `\`, `\\`)
		}
		return &dns.TXT{Hdr: h(dns.TypeTXT), Txt: txt}
	case "SRV":
		return &dns.SRV{Hdr: h(dns.TypeSRV), Priority: u16(d[0]), Weight: u16(d[1]), Port: u16(d[2]), Target: dns.Fqdn(d[3])}
	case "PTR":
		return &dns.PTR{Hdr: h(dns.TypePTR), Ptr: dns.Fqdn(d[0])}
	}
	return nil
}
