package gslb

import (
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/health"
	"github.com/miekg/dns"
)

// TestFailover: what a vserver answers when its services are down or it
// is disabled: a backup vserver's services (the first in the chain with
// one UP), the domain's -backupIP, nothing (EDR), or NetScaler's fail-open
// answer with every enabled service; CNAME vservers one CNAME.
func TestFailover(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    string // the vserver v is bound to v.test
		down    []string
		want    reply
		serving string
		state   string
	}{
		{name: "backup chain", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bak1 HTTP -lbMethod ROUNDROBIN
add gslb vserver bak2 HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bak1
set gslb vserver bak1 -backupVServer bak2
bind gslb vserver v -serviceName a
bind gslb vserver bak1 -serviceName b
bind gslb vserver bak2 -serviceName d`,
			down: []string{"a", "b"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.4"}, serving: "bak2", state: "DOWN"},
		{name: "backup disabled", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bak1 HTTP -lbMethod ROUNDROBIN
add gslb vserver bak2 HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bak1
set gslb vserver bak1 -backupVServer bak2
bind gslb vserver v -serviceName a
bind gslb vserver bak1 -serviceName b
bind gslb vserver bak2 -serviceName d
disable gslb vserver bak1`,
			down: []string{"a"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.4"}, serving: "bak2", state: "DOWN"},
		{name: "backup down too: fail open", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bak HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bak
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver bak -serviceName d`,
			down: []string{"a", "b", "d"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.1\nv.test. 5 IN A 192.0.2.2"}, state: "DOWN"},
		{name: "fail open without disabled services", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -serviceName d
disable gslb service b`,
			down: []string{"a", "d"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.1\nv.test. 5 IN A 192.0.2.4"}, state: "DOWN"},
		{name: "fail open, every service disabled", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
disable gslb service a`,
			want: reply{aa: true, ns: negSOA}, state: "DOWN"},
		{name: "backup IP", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
bind gslb vserver v -domainName v.test -backupIP 192.0.2.99`,
			down: []string{"a"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.99"}, state: "DOWN"},
		{name: "EDR", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN -EDR ENABLED
bind gslb vserver v -serviceName a`,
			down: []string{"a"}, want: reply{aa: true, ns: negSOA}, state: "DOWN"},
		{name: "CNAME fail open: one CNAME", conf: `add gslb service c1 -cnameEntry dc1.example.net -siteName s1
add gslb service c2 -cnameEntry dc2.example.net -siteName s1
add gslb vserver v ANY -dnsRecordType CNAME -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName c1
bind gslb vserver v -serviceName c2`,
			down: []string{"c1", "c2"}, want: reply{aa: true, answer: "v.test. 5 IN CNAME dc1.example.net."}, state: "DOWN"},
		{name: "MIR: every service in one answer", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN -MIR ENABLED
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -serviceName d`,
			down: []string{"b"}, want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.1\nv.test. 5 IN A 192.0.2.4"}, serving: "v", state: "UP"},
		{name: "disabled: nothing", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName a
disable gslb vserver v`,
			want: reply{aa: true, ns: negSOA}, state: "OUT OF SERVICE"},
		{name: "disabled: its backup", conf: `add gslb vserver v HTTP -lbMethod ROUNDROBIN
add gslb vserver bak HTTP -lbMethod ROUNDROBIN
set gslb vserver v -backupVServer bak
bind gslb vserver v -serviceName a
bind gslb vserver bak -serviceName d
disable gslb vserver v`,
			want: reply{aa: true, answer: "v.test. 5 IN A 192.0.2.4"}, serving: "bak", state: "OUT OF SERVICE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := methodServices + tc.conf + "\n"
			if !strings.Contains(conf, "-domainName") {
				conf += "bind gslb vserver v -domainName v.test\n"
			}
			e := engine(t, conf)
			for _, s := range tc.down {
				e.Report(health.Report{Service: s, State: health.Down})
			}
			addrs := listen(t, e)
			for _, proto := range dnstest.Protos {
				for range 2 {
					if got := replyOf(ask(t, proto, addrs[proto], dnstest.Msg("v.test", dns.TypeA))); got != tc.want {
						t.Fatalf("%s: got\n%v\nwant\n%v", proto, got, tc.want)
					}
				}
			}
			for _, st := range e.Status() {
				if st.Name == "v" && (st.Serving != tc.serving || st.State != tc.state) {
					t.Errorf("status %+v, want serving %q, state %s", st, tc.serving, tc.state)
				}
			}
		})
	}
}

// negSOA is the SOA gslbd makes for v.test, a zone of its own (RFC 2308:
// the lesser of its TTL and MINIMUM).
const negSOA = "v.test. 5 IN SOA ns1.v.test. hostmaster.v.test. 100 3600 3 3600 5"

// TestDisablePrimaryOnDown: once its backup took over, the primary stays
// switched off when its services come back, across reloads that do not
// enable it, until `enable gslb vserver`; it is not switched off when no
// backup took over; removed while switched off, it is forgotten.
func TestDisablePrimaryOnDown(t *testing.T) {
	c, s, _, err := config.Load("t.conf", strings.NewReader(methodServices+`add gslb vserver pri HTTP -lbMethod ROUNDROBIN -disablePrimaryOnDown ENABLED
add gslb vserver bak HTTP -lbMethod ROUNDROBIN
set gslb vserver pri -backupVServer bak
bind gslb vserver pri -serviceName a
bind gslb vserver bak -serviceName d
bind gslb vserver pri -domainName v.test
`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{})
	defer e.Close()
	e.Load(s)
	addrs := listen(t, e)
	change := func(line string) {
		t.Helper()
		n, s, _, err := c.Change("t", line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		c = n
		e.Load(s)
	}
	expect := func(step, want string) {
		t.Helper()
		for _, proto := range dnstest.Protos {
			if got := strings.Join(dnstest.Addrs(ask(t, proto, addrs[proto], dnstest.Msg("v.test", dns.TypeA))), " "); got != want {
				t.Fatalf("%s, %s: answered %q, want %q", step, proto, got, want)
			}
		}
	}
	report := func(svc string, st health.State) { e.Report(health.Report{Service: svc, State: st}) }
	expect("at start", "192.0.2.1")
	report("a", health.Down)
	expect("primary down", "192.0.2.4")
	report("a", health.Up)
	expect("primary up again", "192.0.2.4")
	change("add gslb vserver other HTTP")
	expect("after a reload", "192.0.2.4")
	change("enable gslb vserver pri")
	expect("enabled", "192.0.2.1")
	// The backup is down too: nothing took over, so nothing is switched off.
	report("d", health.Down)
	report("a", health.Down)
	report("a", health.Up)
	expect("back without a failover", "192.0.2.1")
	// Switched off, then removed: forgotten.
	report("d", health.Up)
	report("a", health.Down)
	report("a", health.Up)
	expect("switched off again", "192.0.2.4")
	change("unbind gslb vserver pri -domainName v.test")
	change("rm gslb vserver pri")
	change("add gslb vserver pri HTTP -lbMethod ROUNDROBIN")
	change("bind gslb vserver pri -serviceName a")
	change("bind gslb vserver pri -domainName v.test")
	expect("added again", "192.0.2.1")
}

// TestSourceIPHashFailover: a client keeps its service while it is UP;
// when a service goes down no client gets it, and only its clients move.
func TestSourceIPHashFailover(t *testing.T) {
	e := engine(t, methodServices+`add gslb vserver v HTTP -lbMethod SOURCEIPHASH
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -serviceName d
bind gslb vserver v -domainName v.test
`)
	q := pack(t, dnstest.Msg("v.test", dns.TypeA))
	answers := func() map[string]string {
		out := map[string]string{}
		for i := range 64 {
			client := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			m := new(dns.Msg)
			if err := m.Unpack(e.ServeDNS(nil, q, dnsserver.Request{Src: client, Now: time.Now()})); err != nil || len(m.Answer) != 1 {
				t.Fatalf("client %s: %v %v", client, m, err)
			}
			out[client.String()] = m.Answer[0].(*dns.A).A.String()
		}
		return out
	}
	before := answers()
	if again := answers(); len(again) != 64 {
		t.Fatal("clients missing")
	} else {
		for c, a := range again {
			if before[c] != a {
				t.Fatalf("client %s: %s, then %s", c, before[c], a)
			}
		}
	}
	per := map[string]int{}
	for _, a := range before {
		per[a]++
	}
	if len(per) != 3 {
		t.Fatalf("64 clients spread over %v, want all three services", per)
	}
	e.Report(health.Report{Service: "b", State: health.Down})
	for c, a := range answers() {
		switch {
		case a == "192.0.2.2":
			t.Fatalf("client %s answered the DOWN service", c)
		case before[c] != "192.0.2.2" && before[c] != a:
			t.Fatalf("client %s moved from %s to %s though its service stayed UP", c, before[c], a)
		}
	}
}

// TestRebuildRecomputesWhatChanged: a configuration change or a health
// report recomputes only the vservers it touches.
func TestRebuildRecomputesWhatChanged(t *testing.T) {
	c, s, _, err := config.Load("t.conf", strings.NewReader(methodServices+`add gslb vserver v1 HTTP -lbMethod ROUNDROBIN
add gslb vserver v2 HTTP -lbMethod ROUNDROBIN
add gslb vserver v3 HTTP -lbMethod ROUNDROBIN
bind gslb vserver v1 -serviceName a
bind gslb vserver v2 -serviceName b
bind gslb vserver v3 -serviceName d
bind gslb vserver v1 -domainName v1.test
bind gslb vserver v2 -domainName v2.test
bind gslb vserver v3 -domainName v3.test
`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{})
	defer e.Close()
	e.Load(s)
	recomputed := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.recomputed
	}
	if n := recomputed(); n != 3 {
		t.Fatalf("first load recomputed %d vservers, want 3", n)
	}
	n, s, _, err := c.Change("t", "set gslb vserver v2 -lbMethod LEASTCONNECTION")
	if err != nil {
		t.Fatal(err)
	}
	e.Load(s)
	if n := recomputed(); n != 1 {
		t.Fatalf("a change to v2 recomputed %d vservers, want 1", n)
	}
	e.Report(health.Report{Service: "d", State: health.Down})
	if n := recomputed(); n != 1 {
		t.Fatalf("a report for v3's service recomputed %d vservers, want 1", n)
	}
	_, s, _, err = n.Change("t", "add dns addRec www.example.test 192.0.2.80")
	if err != nil {
		t.Fatal(err)
	}
	e.Load(s)
	if n := recomputed(); n != 3 {
		t.Fatalf("a zone change recomputed %d vservers, want all 3 (their negative answers come from the zones)", n)
	}
}

// TestMetricsExpire: a load figure applies within MetricRefresh without a
// Flush and stops counting once older than MetricMaxAge, with no report
// in between: a service over its -maxClient is answered again when its
// connection count goes stale. (Both services have a -maxClient: a round
// robin vserver reads figures for them alone.)
func TestMetricsExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := engine(t, methodServices+`add gslb service e 192.0.2.5 HTTP 80 -siteName s1 -maxClient 10
add gslb vserver v HTTP -lbMethod ROUNDROBIN
bind gslb vserver v -serviceName c
bind gslb vserver v -serviceName e
bind gslb vserver v -domainName v.test
`)
		active := func() int { return e.Status()[0].ActiveServices }
		m := health.Metrics{At: time.Now()}.With(health.Connections, 10)
		e.Report(health.Report{Service: "c", Metrics: &m})
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if n := active(); n != 1 {
			t.Fatalf("after MetricRefresh: %d active services, want 1 (c at its -maxClient)", n)
		}
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if n := active(); n != 2 {
			t.Fatalf("after MetricMaxAge: %d active services, want 2 (the figure is stale)", n)
		}
	})
}

// TestMetricRefreshBoundary: a figure reported MetricRefresh after the
// last rebuild applies at once.
func TestMetricRefreshBoundary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := engine(t, methodServices+`add gslb vserver v HTTP -lbMethod LEASTCONNECTION
bind gslb vserver v -serviceName a
bind gslb vserver v -serviceName b
bind gslb vserver v -domainName v.test
`)
		time.Sleep(500 * time.Millisecond)
		now := time.Now()
		ma := health.Metrics{At: now}.With(health.Connections, 1)
		mb := health.Metrics{At: now}.With(health.Connections, 2)
		e.Report(health.Report{Service: "a", Metrics: &ma}, health.Report{Service: "b", Metrics: &mb})
		if st := e.Status()[0]; st.Method != "LEASTCONNECTION" || st.LBRRReason != 0 {
			t.Fatalf("figures reported MetricRefresh after the rebuild: %+v, want them applied", st)
		}
	})
}

// TestPersistenceSweep: every 1024th entry put in a shard sweeps the
// expired ones out; an entry is alive up to its expiry instant, included.
func TestPersistenceSweep(t *testing.T) {
	pt := newPersistTable()
	// Keys differing only in bytes 10 and 12 of the address share a shard.
	key := func(i int) persistKey {
		var b [16]byte
		b[0], b[1], b[10], b[12] = 0x20, 0x01, byte(i>>8), byte(i)
		return persistKey{vs: "v", ip: netip.AddrFrom16(b)}
	}
	t0 := time.Unix(1000, 0)
	sweep := t0.Add(10 * time.Second)
	pt.put(key(0), "live", t0, time.Hour)
	pt.put(key(1), "edge", t0, 10*time.Second) // expires at the sweep
	for i := 2; i < 1023; i++ {
		pt.put(key(i), "short", t0, time.Second)
	}
	s := pt.shard(key(0))
	if n := len(s.m); n != 1023 {
		t.Fatalf("%d entries before the sweep, want 1023", n)
	}
	pt.put(key(1023), "last", sweep, time.Hour) // the 1024th put
	if n := len(s.m); n != 3 {
		t.Fatalf("%d entries after the sweep, want 3 (live, edge, last)", n)
	}
	if n := pt.Len(sweep); n != 3 {
		t.Fatalf("Len at the edge's expiry: %d, want 3", n)
	}
	if svc, _, _, ok := pt.get(key(1), sweep, 10*time.Second); !ok || svc != "edge" {
		t.Fatalf("at its expiry instant: %q %v, want edge", svc, ok)
	}
	if _, _, _, ok := pt.get(key(1), sweep.Add(10*time.Second+time.Nanosecond), 10*time.Second); ok {
		t.Fatal("past its (refreshed) expiry: still alive")
	}
}

// TestPersistSharedNewerWins: a session learnt from another site replaces
// a live one here only when it is a newer choice (the client was re-chosen
// there); the same choice extends the expiry (a refresh); an older one is
// ignored. A session used here is told to the other sites again once the
// expiry they know is half a timeout behind.
func TestPersistSharedNewerWins(t *testing.T) {
	pt := newPersistTable()
	k := persistKey{vs: "v", ip: netip.MustParseAddr("192.0.2.1")}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const ttl = 10 * time.Minute
	pt.put(k, "a", t0, ttl)
	created := time.Unix(0, createdAt(t0))
	get := func(now time.Time) string {
		t.Helper()
		svc, _, _, ok := pt.get(k, now, ttl)
		if !ok {
			return ""
		}
		return svc
	}
	pt.putUntil(k, "b", created.Add(-time.Second), t0.Add(ttl), t0)
	if got := get(t0); got != "a" {
		t.Errorf("an older choice from another site replaced ours: %q", got)
	}
	pt.putUntil(k, "a", created, t0.Add(3*ttl), t0) // its refresh of our session
	if _, _, _, ok := pt.get(k, t0.Add(2*ttl), ttl); !ok {
		t.Error("a refresh from another site did not extend the session")
	}
	pt.putUntil(k, "c", created.Add(time.Minute), t0.Add(3*ttl), t0.Add(2*ttl))
	if got := get(t0.Add(2 * ttl)); got != "c" {
		t.Errorf("a newer choice from another site (re-chosen there) did not replace ours: %q", got)
	}

	// Refreshes to tell: none right after the choice, one past a third of
	// the timeout, then none until the next third.
	k2 := persistKey{vs: "v", ip: netip.MustParseAddr("192.0.2.2")}
	pt.put(k2, "a", t0, ttl)
	tell := func(now time.Time) bool {
		_, _, tl, _ := pt.get(k2, now, ttl)
		return tl
	}
	if tell(t0.Add(time.Minute)) {
		t.Error("told a refresh one minute after the choice")
	}
	if !tell(t0.Add(4 * time.Minute)) {
		t.Error("no refresh told past a third of the timeout")
	}
	if tell(t0.Add(5 * time.Minute)) {
		t.Error("a refresh told again a minute later")
	}
}

// TestServiceTransitions: state changes are counted after the first
// known state (the metric gslbd_service_transitions_total); a report of
// the same state is none.
func TestServiceTransitions(t *testing.T) {
	e := engine(t, testConf)
	for _, st := range []health.State{health.Up, health.Up, health.Down, health.Up, health.Up} {
		e.Report(health.Report{Service: "a1", State: st})
	}
	for _, s := range e.ServiceStatus() {
		if s.Name == "a1" && s.Transitions != 2 {
			t.Errorf("a1: %d transitions, want 2", s.Transitions)
		}
		if s.Name == "a2" && s.Transitions != 0 {
			t.Errorf("a2: %d transitions, want 0", s.Transitions)
		}
	}
}
