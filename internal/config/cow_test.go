package config

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// cowBase has every kind of entity a change can touch.
const cowBase = `enable ns feature GSLB
add ns ip 10.0.0.1 255.255.255.0
add server srv1 192.0.2.9
add service adns1 10.0.0.1 ADNS 53
set gslb parameter -ldnsEntryTimeout 90
add gslb site s1 10.0.0.1
add gslb site s2 REMOTE 10.0.0.2 -metricExchange DISABLED
add gslb site c1 REMOTE 10.0.0.3 -parentSite s2
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s2
add gslb service c srv1 HTTP 80 -siteName s1 -maxClient 7
add gslb serviceGroup g HTTP -siteName s1
bind gslb serviceGroup g 192.0.2.50 80 -weight 3
add lb monitor m1 TCP
add lb monitor m2 HTTP -respCode 200-299
add lb metricTable t1
bind lb metricTable t1 m1 1.3.6.1.4.1.1
add lb monitor l1 LOAD -metricTable t1
bind lb monitor l1 -metric m1 -metricThreshold 100
bind gslb service a -monitorName m1 -weight 2
bind gslb serviceGroup g -monitorName m2 -weight 4
add gslb vserver gv HTTP
add gslb vserver gv2 HTTP
set gslb vserver gv2 -backupVServer gv
bind gslb vserver gv -serviceName a -weight 5
bind gslb vserver gv -serviceName b
bind gslb vserver gv2 -serviceName c
bind gslb vserver gv2 -serviceGroupName g
bind gslb vserver gv -domainName x.test -TTL 5 -backupIP 192.0.2.200
add dns zone test -proxyMode NO
add dns soaRec test -originServer ns1.test -contact admin.test -refresh 600
add dns nsRec test ns1.test
add dns addRec www.test 192.0.2.7 192.0.2.8
add dns txtRec txt.test "one" "two"
add dns mxRec test -mx mail.test -pref 10
`

// everyChange holds a command for every kind of change to cowBase.
var everyChange = []string{
	"disable ns feature GSLB",
	"add ns ip 10.0.0.9 255.255.255.0",
	"rm server srv1", // refused later by Build, but applied to the clone
	"set service adns1 -comment x",
	"disable service adns1",
	"set gslb parameter -ldnsEntryTimeout 100",
	"unset gslb parameter -ldnsEntryTimeout",
	"set gslb site s1 -triggerMonitor MEPDOWN",
	"unset gslb site s2 -metricExchange",
	"rename gslb site s2 s2x",
	"set gslb service a -weight 7 m1",
	"set gslb service a -publicIP 192.0.2.101",
	"unset gslb service c -maxClient",
	"disable gslb service b",
	"disable gslb service c",
	"rename gslb service a a2",
	"rm gslb service b",
	"bind gslb service b -monitorName m2",
	"unbind gslb service a -monitorName m1",
	"add dns view v1\nbind gslb service a -viewName v1 192.0.2.77",
	"bind lb monitor m2 b",
	"set gslb serviceGroup g -maxClient 9",
	"bind gslb serviceGroup g 192.0.2.51 80",
	"unbind gslb serviceGroup g 192.0.2.50 80",
	"unbind gslb serviceGroup g -monitorName m2",
	"rename gslb serviceGroup g g2",
	"rm gslb serviceGroup g",
	"disable gslb serviceGroup g",
	"set gslb vserver gv -serviceName a -weight 9",
	"set gslb vserver gv -domainName x.test -TTL 99",
	"set gslb vserver gv -lbMethod ROUNDROBIN",
	"unset gslb vserver gv2 -backupVServer",
	"rename gslb vserver gv zz",
	"rm gslb vserver gv2",
	"disable gslb vserver gv",
	"bind gslb vserver gv2 -serviceName a",
	"bind gslb vserver gv -domainName x.test -backupIP 192.0.2.201",
	"unbind gslb vserver gv -domainName x.test -backupIP",
	"unbind gslb vserver gv -serviceName b",
	"unbind gslb vserver gv2 -serviceGroupName g",
	"set lb monitor m2 HTTP -interval 9",
	"unset lb monitor m2 HTTP -respCode",
	"disable lb monitor m1",
	"set lb monitor ping PING -interval 3", // a built-in becomes stored
	"bind lb monitor l1 -metric m2 -metricThreshold 5",
	"unbind lb monitor l1 -metric m1",
	"bind lb metricTable t1 m2 1.3.6.1.4.1.2",
	"set lb metricTable t1 m1 1.3.6.1.4.1.9",
	"unbind lb metricTable t1 m1",
	"set dns zone test -proxyMode YES",
	"set dns soaRec test -serial 9",
	"unset dns soaRec test -refresh",
	"rm dns addRec www.test 192.0.2.7",
	"rm dns addRec www.test",
	"rm dns txtRec txt.test",
	"set dns mxRec test -mx mail.test -pref 20",
	"rm dns nsRec test ns1.test",
}

// TestChangeLeavesParentUntouched: configurations share entities until one
// is edited (copy-on-write), so every command that changes something is
// applied to a clone and the original must stay exactly what it was loaded
// as, down to positions and binding arguments.
func TestChangeLeavesParentUntouched(t *testing.T) {
	parent, _, _, err := Load("t.conf", strings.NewReader(cowBase))
	if err != nil {
		t.Fatal(err)
	}
	want, _, _, err := Load("t.conf", strings.NewReader(cowBase))
	if err != nil {
		t.Fatal(err)
	}
	before := parent.String()
	for _, line := range everyChange {
		n := parent.Clone()
		f, err := nsconf.Parse("change", strings.NewReader(line))
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if errs := n.ApplyFile(f); len(errs) > 0 {
			t.Errorf("%q: %v", line, errs)
			continue
		}
		if n.String() == before {
			t.Errorf("%q changed nothing in the clone", line)
		}
		if diff := modelDiff(parent, want); diff != "" {
			t.Fatalf("%q changed the parent configuration: %s", line, diff)
		}
	}
}

// modelDiff compares two configurations field by field (tables by their
// entities in order), ignoring copy-on-write bookkeeping.
func modelDiff(a, b *Config) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		x, y := va.Field(i), vb.Field(i)
		if strings.HasPrefix(f.Type.Name(), "Table[") {
			x = x.Addr().MethodByName("All").Call(nil)[0]
			y = y.Addr().MethodByName("All").Call(nil)[0]
		}
		if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			return f.Name + " differs"
		}
	}
	return ""
}

// TestIncrementalBuildMatchesFull: a Build that reuses its parent's
// snapshot gives exactly what a full Build of the same configuration
// gives (or the same errors), change after change, each result the parent
// of the next.
func TestIncrementalBuildMatchesFull(t *testing.T) {
	steps := []string{
		"add gslb service d 192.0.2.4 HTTP 80 -siteName s2",
		"bind gslb vserver gv -serviceName d -weight 3",
		"set gslb vserver gv -serviceName d -weight 4",
		"set gslb service d -publicIP 198.51.100.4",
		"add gslb service e 192.0.2.5 HTTP 80 -siteName s2 -publicIP 198.51.100.4", // public IP in use
		"bind gslb vserver gv2 -domainName y.test -TTL 30",
		"add dns addRec y.test 192.0.2.99", // static A on a GSLB domain
		"add dns addRec z.test 192.0.2.98",
		"bind gslb vserver gv2 -domainName x.test", // bound to gv already
		"unbind gslb vserver gv -domainName x.test",
		"bind gslb vserver gv2 -domainName other.example",
		"add gslb vserver gv3 HTTP -persistenceType SOURCEIP -persistenceId 1",
		"add gslb vserver gv4 HTTP -persistenceType SOURCEIP -persistenceId 1", // id in use
		"set gslb vserver gv -backupVServer gv2",                               // loop gv -> gv2 -> gv
		"set gslb vserver gv -backupVServer gv3",
		"rm gslb vserver gv3", // still gv's backup
		"bind gslb serviceGroup g 192.0.2.52 80",
		"set gslb serviceGroup g -maxClient 5",
		"rename gslb service a a2",
		"disable gslb service b",
		"rm gslb service d",
		"set lb monitor m1 TCP -interval 7", // a full build
		"set gslb vserver gv2 -lbMethod ROUNDROBIN",
		"add gslb vserver cn HTTP -dnsRecordType CNAME -lbMethod ROUNDROBIN",
		"add gslb service cs -cnameEntry c.example -siteName s1",
		"bind gslb vserver cn -serviceName cs",
		"bind gslb vserver cn -serviceName b", // not a CNAME service
		"add dns zone example -proxyMode NO",
	}
	parent, _, _, err := Load("t.conf", strings.NewReader(cowBase))
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, line := range steps {
		f, err := nsconf.Parse("change", strings.NewReader(line))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		n := parent.Clone()
		if errs := n.ApplyFile(f); len(errs) > 0 {
			t.Fatalf("%q: %v", line, errs)
		}
		full := *n
		full.parent, full.snap = nil, nil
		want, werr := Build(&full)
		got, gerr := Build(n)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("%q: incremental build error %v, full build %v", line, gerr, werr)
		}
		if werr != nil {
			t.Logf("%q rejected: %v", line, werr)
			continue // the parent stays
		}
		got.Config, want.Config = nil, nil
		// Indexes compare by content, not by their layers.
		got.Domains, want.Domains = flat(got.Domains), flat(want.Domains)
		got.vsIndex, want.vsIndex = flat(got.vsIndex), flat(want.vsIndex)
		got.lb, want.lb = nil, nil // a cache of the kept lines, read when needed
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: the incremental snapshot differs from a full build", line)
		}
		parent = n
		applied++
	}
	if applied < len(steps)/2 {
		t.Fatalf("only %d of %d steps applied", applied, len(steps))
	}
}

// TestIncrementalBuildReuses: a change to one vserver reuses every service
// and every other vserver of the parent's snapshot (the point of the
// incremental build), and a monitor change rebuilds them.
func TestIncrementalBuildReuses(t *testing.T) {
	parent, ps, _, err := Load("t.conf", strings.NewReader(cowBase))
	if err != nil {
		t.Fatal(err)
	}
	change := func(line string) *Snapshot {
		t.Helper()
		n, s, _, err := parent.Change("change", line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		parent = n
		return s
	}
	s := change("bind gslb vserver gv2 -serviceName b")
	if &s.Services[0] != &ps.Services[0] {
		t.Error("services were typed again for a vserver binding")
	}
	if s.VServer("gv") != ps.VServer("gv") || s.VServer("gv2") == ps.VServer("gv2") {
		t.Error("want gv reused and gv2 rebuilt")
	}
	if !reflect.DeepEqual(s.Zones, ps.Zones) || &s.Zones[0] != &ps.Zones[0] {
		t.Error("zones were built again though no domain changed")
	}
	s2 := change("set lb monitor m1 TCP -interval 7")
	if s2.svcIndex["a"] == s.svcIndex["a"] || s2.VServer("gv") == s.VServer("gv") {
		t.Error("a monitor change must rebuild the services that use it and their vservers")
	}
}

// TestLongChangeChain: 150 changes in a row, each on the configuration
// the one before made (the index overlay of edited entities is folded
// into a new index on the way): every configuration keeps what it had
// when the next one was made from it, and the last has every change.
func TestLongChangeChain(t *testing.T) {
	var b strings.Builder
	b.WriteString("add gslb site s1 10.0.0.1\nadd gslb service a 192.0.2.1 HTTP 80 -siteName s1\n")
	for i := range 150 {
		fmt.Fprintf(&b, "add gslb vserver v%d HTTP\n", i)
	}
	c, _, _, err := Load("t.conf", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		c    *Config
		text string
	}
	var chain []kept
	for i := range 150 {
		chain = append(chain, kept{c, c.String()})
		n, _, _, err := c.Change("change", fmt.Sprintf("bind gslb vserver v%d -serviceName a\nset gslb vserver v%d -comment c%d", i, (i+7)%150, i))
		if err != nil {
			t.Fatal(err)
		}
		c = n
	}
	for i, k := range chain {
		if got := k.c.String(); got != k.text {
			t.Fatalf("configuration %d changed after later changes", i)
		}
	}
	for i := range 150 {
		v, _ := c.VServers.Get(fmt.Sprintf("v%d", i))
		if len(v.Services) != 1 || v.Args.Get("comment") != fmt.Sprintf("c%d", (i+150-7)%150) {
			t.Fatalf("v%d: %+v", i, v)
		}
	}
}

// flat is x with every key in one layer.
func flat[V comparable](x Index[V]) Index[V] { return IndexOf(maps.Collect(x.All())) }
