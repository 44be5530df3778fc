package gslb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gslbd/gslbd/internal/config"
	"github.com/gslbd/gslbd/internal/health"
)

const incConf = `add service adns 127.0.0.1 ADNS 53
add gslb site s1 127.0.0.1
add gslb service a1 192.0.2.1 HTTP 80 -siteName s1
add gslb service a2 192.0.2.2 HTTP 80 -siteName s1
add gslb service a3 192.0.2.3 HTTP 80 -siteName s1
add gslb service a4 192.0.2.4 HTTP 80 -siteName s1 -maxClient 10
add gslb service a5 192.0.2.5 HTTP 80 -siteName s1
add gslb service a6 192.0.2.6 HTTP 80 -siteName s1
add gslb vserver rr HTTP -lbMethod ROUNDROBIN
add gslb vserver lc HTTP -lbMethod LEASTCONNECTION
set gslb vserver lc -backupVServer rr
add gslb vserver hash HTTP -lbMethod SOURCEIPHASH
add gslb vserver pri HTTP -lbMethod ROUNDROBIN -disablePrimaryOnDown ENABLED
add gslb vserver bak HTTP -lbMethod ROUNDROBIN
set gslb vserver pri -backupVServer bak
add gslb vserver mc HTTP -lbMethod ROUNDROBIN -MIR ENABLED
add gslb vserver edr HTTP -lbMethod ROUNDROBIN -EDR ENABLED
add gslb vserver c1 HTTP -lbMethod ROUNDROBIN
add gslb vserver c2 HTTP -lbMethod LEASTCONNECTION
add gslb vserver c3 HTTP -lbMethod ROUNDROBIN
set gslb vserver c1 -backupVServer c2
set gslb vserver c2 -backupVServer c3
bind gslb vserver c1 -serviceName a4
bind gslb vserver c2 -serviceName a5
bind gslb vserver c3 -serviceName a6
bind gslb vserver c1 -domainName c1.example.test
bind gslb vserver rr -serviceName a1
bind gslb vserver rr -serviceName a2 -weight 3
bind gslb vserver lc -serviceName a3
bind gslb vserver lc -serviceName a4
bind gslb vserver hash -serviceName a1
bind gslb vserver hash -serviceName a3
bind gslb vserver pri -serviceName a5
bind gslb vserver bak -serviceName a6
bind gslb vserver mc -serviceName a2
bind gslb vserver mc -serviceName a4
bind gslb vserver edr -serviceName a5
bind gslb vserver rr -domainName rr.example.test
bind gslb vserver lc -domainName lc.example.test -backupIP 192.0.2.99
bind gslb vserver hash -domainName hash.example.test
bind gslb vserver pri -domainName pri.example.test
bind gslb vserver mc -domainName mc.example.test
bind gslb vserver edr -domainName edr.example.test
add dns soaRec example.test -originServer ns1.example.test -contact h.example.test
`

// tableView is everything a table answers with, as text.
func tableView(t *table) string {
	var b strings.Builder
	for _, v := range t.vservers {
		d := &v.dec
		var names []string
		for _, c := range d.cands {
			names = append(names, c.svc.Name)
		}
		fmt.Fprintf(&b, "%+v mode=%d method=%s served=%s reason=%d cands=%v seq=%v hash=%v\n",
			v.status, d.mode, d.method, d.served, d.reason, names, d.seq, d.hash)
	}
	names := make([]string, 0, t.domains.Len())
	for n := range t.domains.All() {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		de, _ := t.domains.Get(n)
		fmt.Fprintf(&b, "%s vs=%s neg=%x", n, de.vs.info.Name, de.neg)
		for _, bl := range de.blocks {
			fmt.Fprintf(&b, " [%x]", bl.b)
		}
		if de.down != nil {
			fmt.Fprintf(&b, " down=[%x]", de.down.b)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "next expiry %v\n", t.nextExpiry)
	return b.String()
}

// TestIncrementalRebuildMatchesFull: after health reports, metrics, time
// passing, switch-offs and configuration changes in random order, the
// table that recomputed only what changed equals a table computed from
// nothing, and the recomputation is really partial.
func TestIncrementalRebuildMatchesFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _, err := config.Load("t.conf", strings.NewReader(incConf))
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{MetricMaxAge: 10 * time.Second})
		defer e.Close()
		e.Load(s)
		rnd := rand.New(rand.NewPCG(1, 2))
		svcs := []string{"a1", "a2", "a3", "a4", "a5", "a6"}
		changes := []string{"set gslb vserver rr -serviceName a2 -weight 1", "set gslb vserver rr -serviceName a2 -weight 3",
			"disable gslb vserver hash", "enable gslb vserver hash", "bind gslb vserver mc -serviceName a6",
			"unbind gslb vserver mc -serviceName a6", "disable gslb service a3", "enable gslb service a3",
			"add gslb vserver extra HTTP -lbMethod ROUNDROBIN", "bind gslb vserver extra -serviceName a1",
			"bind gslb vserver extra -domainName extra.example.test", "rm gslb vserver extra",
			"unbind gslb vserver edr -domainName edr.example.test", "bind gslb vserver extra -domainName edr.example.test",
			"bind gslb vserver edr -domainName edr.example.test", "unbind gslb vserver extra -domainName edr.example.test",
			// A chain c1 -> c2 -> c3 changed in the middle.
			"disable gslb vserver c2", "enable gslb vserver c2", "set gslb vserver c1 -backupVServer c3",
			"set gslb vserver c1 -backupVServer c2", "unset gslb vserver c2 -backupVServer", "set gslb vserver c2 -backupVServer c3",
			"set gslb vserver c3 -backupVServer rr", "unset gslb vserver c3 -backupVServer"}
		partial, applied := 0, 0
		for i := range 1500 {
			var op string
			switch r := rnd.IntN(10); {
			case r < 4:
				st := []health.State{health.Up, health.Down}[rnd.IntN(2)]
				svc := svcs[rnd.IntN(len(svcs))]
				op = fmt.Sprintf("%s %s", svc, st)
				e.Report(health.Report{Service: svc, State: st})
			case r < 7:
				svc := svcs[rnd.IntN(len(svcs))]
				m := health.Metrics{At: time.Now()}.With(health.Connections, uint64(rnd.IntN(20)))
				op = fmt.Sprintf("%s connections %d", svc, m.Connections)
				e.Report(health.Report{Service: svc, Metrics: &m})
			case r < 8:
				d := time.Duration(rnd.IntN(12)) * time.Second
				op = "sleep " + d.String()
				time.Sleep(d)
			case r < 9:
				// Turns a primary switched off by -disablePrimaryOnDown on.
				op = "enable gslb vserver pri"
				if n, s2, _, err := c.Change("change", op); err == nil {
					c = n
					e.Load(s2)
				}
			default:
				op = changes[rnd.IntN(len(changes))]
				// A toggle already in its state (bind of a bound service)
				// is refused and changes nothing.
				if n, s2, _, err := c.Change("change", op); err == nil {
					c = n
					e.Load(s2)
					applied++
				}
			}
			e.Flush()
			e.mu.Lock()
			before, recomputed := e.memo, e.recomputed
			got := tableView(e.table.Load())
			e.memo = map[string]*vsMemo{}
			want := tableView(e.buildTable(time.Now()))
			e.memo = before
			if recomputed < len(before) {
				partial++
			}
			e.mu.Unlock()
			if got != want {
				t.Fatalf("step %d (%s): incremental table\n%s\nfull table\n%s", i, op, got, want)
			}
		}
		if applied < 40 {
			t.Fatalf("only %d configuration changes applied", applied)
		}
		if partial < 750 {
			t.Fatalf("only %d of 1500 rebuilds were partial", partial)
		}
	})
}

// BenchmarkBackupChainReport is a health report for the one service at
// the end of a chain of vservers each backing up the next: every vserver
// answers from it, so every one is recomputed, each in constant time (it
// walked its whole chain: 1.65 s a report at 4,000).
func BenchmarkBackupChainReport(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		var sb strings.Builder
		sb.WriteString("add gslb site s1 10.0.0.1\nadd gslb service a 192.0.2.1 HTTP 80 -siteName s1\n")
		for i := range n {
			fmt.Fprintf(&sb, "add gslb vserver v%d HTTP\n", i)
		}
		for i := range n - 1 {
			fmt.Fprintf(&sb, "set gslb vserver v%d -backupVServer v%d\n", i, i+1)
		}
		fmt.Fprintf(&sb, "bind gslb vserver v%d -serviceName a\n", n-1)
		for i := range n {
			fmt.Fprintf(&sb, "bind gslb vserver v%d -domainName d%d.test\n", i, i)
		}
		_, s, _, err := config.Load("chain.conf", strings.NewReader(sb.String()))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			e := New(Options{})
			defer e.Close()
			e.Load(s)
			st := []health.State{health.Down, health.Up}
			i := 0
			for b.Loop() {
				e.Report(health.Report{Service: "a", State: st[i%2]})
				e.Flush()
				i++
			}
		})
	}
}
