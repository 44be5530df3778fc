package config

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// load parses, applies and builds; it returns every error as text.
func load(t *testing.T, conf string) (*Config, *Snapshot, []string) {
	t.Helper()
	f, err := nsconf.Parse("t.conf", strings.NewReader(conf))
	var msgs []string
	if l, ok := nsconf.AsList(err); ok {
		for _, e := range l {
			msgs = append(msgs, e.Error())
		}
	}
	c := &Config{}
	for _, e := range c.ApplyFile(f) {
		msgs = append(msgs, e.Error())
	}
	s, err := Build(c)
	if l, ok := nsconf.AsList(err); ok {
		for _, e := range l {
			msgs = append(msgs, e.Error())
		}
	}
	return c, s, msgs
}

const base = `add gslb site s1 10.0.0.1
add gslb site s2 REMOTE 10.0.0.2
add gslb service a 192.0.2.1 HTTP 80 -siteName s1
add gslb service b 192.0.2.2 HTTP 80 -siteName s2
add gslb service v6 2001:db8::1 HTTP 80 -siteName s1
add gslb vserver gv HTTP
add gslb vserver gv2 HTTP
add gslb vserver gv6 HTTP -dnsRecordType AAAA
`

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name string
		conf string
		want []string // each must appear, in this order
	}{
		{"unknown site", "add gslb service c 192.0.2.3 HTTP 80 -siteName nosite\n",
			[]string{`t.conf:9:38: gslb service "c": unknown site "nosite"`}},
		{"domain bound to two vservers", "bind gslb vserver gv -domainName x.test\nbind gslb vserver gv2 -domainName x.test\n",
			[]string{`t.conf:10:1: gslb vserver "gv2": domain "x.test" is already bound to gslb vserver "gv"`}},
		{"weight out of range", "bind gslb vserver gv -serviceName a -weight 101\n",
			[]string{"t.conf:9:45: bind gslb vserver: -weight: 101 is above the maximum 100"}},
		{"backup IP of the wrong family", "bind gslb vserver gv -domainName x.test -backupIP 2001:db8::9\n",
			[]string{`t.conf:9:41: gslb vserver "gv": -backupIP 2001:db8::9 does not match record type A`}},
		{"IPv6 service on an A vserver", "bind gslb vserver gv -serviceName v6\n",
			[]string{`t.conf:9:1: gslb vserver "gv": service "v6" address 2001:db8::1 does not match record type A`}},
		{"unknown service", "bind gslb vserver gv -serviceName nosuch\n",
			[]string{`t.conf:9:1: gslb vserver "gv": unknown gslb service "nosuch"`}},
		{"backup loop through a chain", "set gslb vserver gv -backupVServer gv2\nset gslb vserver gv2 -backupVServer gv\n",
			[]string{`gslb vserver "gv": backup chain loops back to itself`, `gslb vserver "gv2": backup chain loops back to itself`}},
		{"backup to itself", "set gslb vserver gv -backupVServer gv\n", []string{`t.conf:9:21: gslb vserver "gv": backup chain loops back to itself`}},
		{"RRL exempt not a prefix", "set dns parameter -rrlExempt nonsense -cacheRecords NO\n",
			[]string{`t.conf:9:19: dns parameter: -rrlExempt "nonsense": not a prefix (10.0.0.0/8) or an address`}},
		{"a chain into a loop", "add gslb vserver gv3 HTTP\nset gslb vserver gv -backupVServer gv2\nset gslb vserver gv2 -backupVServer gv3\nset gslb vserver gv3 -backupVServer gv2\n",
			[]string{`gslb vserver "gv2": backup chain loops back to itself`, `gslb vserver "gv3": backup chain loops back to itself`}},
		{"backup record type", "set gslb vserver gv -backupVServer gv6\n",
			[]string{`gslb vserver "gv": backup vserver "gv6" has record type AAAA, not A`}},
		{"two local sites", "add gslb site s3 LOCAL 10.0.0.3\nadd gslb site s4 LOCAL 10.0.0.4\n",
			[]string{`t.conf:10:1: gslb site "s4": a local site already exists ("s3")`}},
		{"duplicate site IP", "add gslb site s3 10.0.0.1\n", []string{`gslb site "s3": site IP 10.0.0.1 is already used by site "s1"`}},
		{"persistence without id", "set gslb vserver gv -persistenceType SOURCEIP\n",
			[]string{`-persistenceType SOURCEIP needs -persistenceId`}},
		{"static A on a GSLB name", "bind gslb vserver gv -domainName x.test\nadd dns soaRec test -originServer ns.test -contact h.test\nadd dns addRec x.test 192.0.2.9\n",
			[]string{`t.conf:11:1: dns addRec "x.test": the name is a GSLB domain of gslb vserver "gv"`}},
		{"CNAME loop", "add dns soaRec test -originServer ns.test -contact h.test\nadd dns cnameRec a.test b.test\nadd dns cnameRec b.test a.test\n",
			[]string{`dns cnameRec "a.test": CNAME chain loops`, `dns cnameRec "b.test": CNAME chain loops`}},
		{"unknown argument", "add gslb vserver gv3 HTTP -lbmethod ROUNDROBIN -speed 9\n", []string{"t.conf:9:48: add gslb vserver: unknown argument -speed"}},
		{"ambiguous argument", "add gslb vserver gv3 HTTP -persist 2\n", []string{"ambiguous argument -persist: -persistenceType, -persistenceId, -persistMask"}},
		{"ambiguous value", "add gslb vserver gv3 HTTP -lbMethod LEAST\n", []string{"ambiguous value \"LEAST\""}},
		{"unmatched quote", "add gslb vserver gv3 HTTP -comment \"oops\n", []string{"t.conf:9:36: unmatched double quote"}},
		{"missing positional", "add gslb vserver\n", []string{"t.conf:9:1: add gslb vserver: missing name"}},
		{"bad IP", "add gslb site s9 10.0.0.300\n", []string{`t.conf:9:18: add gslb site: siteIPAddress: "10.0.0.300" is not an IP address`}},
		{"typo in the gslb family", "add gslb vsrvr x HTTP\n", []string{`t.conf:9:5: unknown command "add gslb vsrvr"`}},
		{"CNAME vserver with a dynamic method", "add gslb vserver gc ANY -dnsRecordType CNAME -lbMethod LEASTCONNECTION\n",
			[]string{`a CNAME vserver cannot use the dynamic method LEASTCONNECTION`}},
		{"ECS with MIR", "add gslb vserver gm HTTP -ECS ENABLED -MIR ENABLED\n", []string{"-ECS and -MIR are mutually exclusive"}},
		{"a UDP service on a TCP vserver", "add gslb service s 192.0.2.7 UDP 53 -siteName s1\nbind gslb vserver gv -serviceName s\n",
			[]string{`service "s" is UDP (over UDP) but the vserver is HTTP (over TCP)`}},
		{"already exists", "add gslb vserver gv HTTP\n", []string{`t.conf:9:1: gslb vserver "gv": already exists`}},
		{"rm of a site still in use", "rm gslb site s1\n", []string{`gslb site "s1": gslb service "a" still belongs to it`}},
		{"more than 32 peer sites", func() string {
			var b strings.Builder
			for i := 3; i <= 33; i++ {
				b.WriteString("add gslb site p" + itoa(i) + " REMOTE 10.1.0." + itoa(i) + "\n")
			}
			return b.String()
		}(), []string{"at most 32 parent/peer sites are allowed, found 33"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, got := load(t, base+tc.conf)
			all := strings.Join(got, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("errors lack %q; got:\n%s", w, all)
				}
			}
			if len(got) == 0 {
				t.Errorf("no error")
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestValidConfigHasNoErrors(t *testing.T) {
	_, s, errs := load(t, base+"bind gslb vserver gv -serviceName a\nbind gslb vserver gv -domainName x.test -TTL 5\n")
	if len(errs) > 0 || s == nil {
		t.Fatalf("got %v", errs)
	}
	if s.LocalSite != "" {
		t.Errorf("no ADNS or ns ip owns 10.0.0.1: local site got %q, want none", s.LocalSite)
	}
	if d, _ := s.Domains.Get("x.test"); d == nil || d.TTL != 5 || s.ZoneOf["x.test"] != "x.test" {
		t.Errorf("domain: got %+v", d)
	}
}

func TestCommandsApplyInOrder(t *testing.T) {
	c, s, errs := load(t, base+`bind gslb vserver gv -serviceName a -weight 5
set gslb vserver gv -serviceName a -weight 7
bind gslb vserver gv -domainName x.test -TTL 5
set gslb vserver gv -domainName x.test -TTL 30
rename gslb service a a_new
rename gslb vserver gv gv_new
disable gslb vserver gv_new
unset gslb vserver gv_new -lbMethod
rename gslb site s1 site_one
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	v := s.VServers[0]
	if v.Name != "gv_new" || !v.Disabled || v.Bindings[0].Service.Name != "a_new" || v.Bindings[0].Weight != 7 || v.Domains[0].TTL != 30 {
		t.Errorf("vserver: got %+v binding %+v", v, v.Bindings[0])
	}
	if v.Bindings[0].Service.Site != "site_one" {
		t.Errorf("rename of a site did not follow into its services: %q", v.Bindings[0].Service.Site)
	}
	out := c.String()
	for _, line := range []string{"add gslb vserver gv_new HTTP -state DISABLED", "bind gslb vserver gv_new -serviceName a_new -weight 7",
		"bind gslb vserver gv_new -domainName x.test -TTL 30", "add gslb service a_new 192.0.2.1 HTTP 80 -siteName site_one"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("written config lacks %q:\n%s", line, out)
		}
	}
}

func TestTenThousandErrors(t *testing.T) {
	var b strings.Builder
	for i := range 10000 {
		b.WriteString("add gslb vserver v" + strings.Repeat("x", i%5) + " HTTP -lbMethod NOPE\n")
	}
	_, _, errs := load(t, b.String())
	if len(errs) != 10000 {
		t.Fatalf("got %d errors, want 10000", len(errs))
	}
	if !strings.HasPrefix(errs[9999], "t.conf:10000:") {
		t.Fatalf("last error: %s", errs[9999])
	}
}

// TestFailedSetChangesNothing: a set that fails on one argument applies
// none of them.
func TestFailedSetChangesNothing(t *testing.T) {
	c, _, errs := load(t, base+"bind gslb vserver gv -serviceName a -weight 5\nbind gslb vserver gv -domainName x.test -TTL 5\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	before := c.String()
	for _, line := range []string{
		"set gslb vserver gv -serviceName a -weight 9 -domainName nosuch.test -TTL 9",
		"set gslb vserver gv -domainName x.test -TTL 9 -serviceName nosuch -weight 9",
		"set gslb vserver gv -domainName x.test -TTL 9 -dnsRecordType AAAA",
		"set gslb vserver gv -lbMethod ROUNDROBIN -weight 9",
	} {
		cmd, err := nsconf.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		if e := c.Apply(cmd); e == nil {
			t.Fatalf("%q: no error", line)
		}
		if after := c.String(); after != before {
			t.Fatalf("%q failed but changed the configuration:\n%s", line, after)
		}
	}
}

// TestSiteExchangeSettings: the settings the health store and the
// exchange read from a site, with NetScaler's defaults.
func TestSiteExchangeSettings(t *testing.T) {
	_, s, msgs := load(t, `add gslb site p1 10.0.0.1
add gslb site p2 10.0.0.2 -metricExchange DISABLED -triggerMonitor MEPDOWN_SVCDOWN
add gslb site p3 10.0.0.3 -nwMetricExchange DISABLED -sessionExchange DISABLED
add gslb site c1 10.0.0.4 -parentSite p2 -nwMetricExchange DISABLED -sessionExchange DISABLED
set gslb site c1 -backupParentlist p3 p1
`)
	if len(msgs) > 0 {
		t.Fatal(msgs)
	}
	want := map[string]SiteInfo{
		"p1": {TriggerMonitor: "ALWAYS", MetricExchange: true, NWMetricExchange: true, SessionExchange: true},
		"p2": {TriggerMonitor: "MEPDOWN_SVCDOWN", NWMetricExchange: true, SessionExchange: true},
		"p3": {TriggerMonitor: "ALWAYS", MetricExchange: true},
		"c1": {TriggerMonitor: "ALWAYS", MetricExchange: true, Parent: "p2", BackupParents: []string{"p3", "p1"}},
	}
	for _, si := range s.Sites {
		w := want[si.Name]
		if si.TriggerMonitor != w.TriggerMonitor || si.MetricExchange != w.MetricExchange || si.NWMetricExchange != w.NWMetricExchange ||
			si.SessionExchange != w.SessionExchange || si.Parent != w.Parent || strings.Join(si.BackupParents, " ") != strings.Join(w.BackupParents, " ") {
			t.Errorf("site %s: %+v, want %+v", si.Name, *si, w)
		}
	}
}

// TestLoadAsSite: with -site, the named site is local and every other
// remote, whatever -type says, and the services follow their site; a
// site the file does not have is an error naming it.
func TestLoadAsSite(t *testing.T) {
	const text = `add gslb site dc1 10.0.0.1 -sitePassword s3cret
add gslb site dc2 10.0.0.2
add gslb service s1 10.1.0.1 HTTP 80 -siteName dc1
add gslb service s2 10.2.0.1 HTTP 80 -siteName dc2
`
	for _, self := range []string{"dc1", "DC2"} {
		_, s, _, err := LoadAs("ns.conf", strings.NewReader(text), self)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(s.LocalSite, self) {
			t.Errorf("-site %s: local site %q", self, s.LocalSite)
		}
		for _, si := range s.Sites {
			if si.Local != strings.EqualFold(si.Name, self) {
				t.Errorf("-site %s: site %s local=%v", self, si.Name, si.Local)
			}
			if si.Name == "dc1" && si.Password != "s3cret" {
				t.Errorf("dc1's password %q", si.Password)
			}
		}
		for _, sv := range s.Services {
			if sv.Local != strings.EqualFold(sv.Site, self) {
				t.Errorf("-site %s: service %s of %s local=%v", self, sv.Name, sv.Site, sv.Local)
			}
		}
	}
	// A file that types dc1 LOCAL still serves dc2 with -site dc2.
	_, s, _, err := LoadAs("ns.conf", strings.NewReader(strings.Replace(text, "dc1 10.0.0.1", "dc1 LOCAL 10.0.0.1", 1)), "dc2")
	if err != nil {
		t.Fatalf("-site dc2 over a LOCAL dc1: %v", err)
	}
	if s.LocalSite != "dc2" {
		t.Errorf("-site dc2 over a LOCAL dc1: local %q", s.LocalSite)
	}
	// Each site serves the ADNS services at its own address, not those
	// at the other's; -triggerMonitor on a site local by -site is no
	// warning (the same file makes it remote elsewhere).
	adns := text + "add service adns1 10.0.0.1 ADNS 53\nadd service adns2 10.0.0.2 ADNS 53\nadd service adns3 10.9.0.1 ADNS 53\nset gslb site dc2 -triggerMonitor MEPDOWN\n"
	for self, want := range map[string]string{"dc1": "10.0.0.1:53 10.9.0.1:53", "dc2": "10.0.0.2:53 10.9.0.1:53"} {
		_, s, warns, err := LoadAs("ns.conf", strings.NewReader(adns), self)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range s.Listeners {
			got = append(got, l.Addr.String())
		}
		if strings.Join(got, " ") != want {
			t.Errorf("-site %s listens on %v, want %s", self, got, want)
		}
		for _, w := range warns {
			if strings.Contains(w.Msg, "triggerMonitor") {
				t.Errorf("-site %s: %v", self, w)
			}
		}
	}
	_, _, _, err = LoadAs("ns.conf", strings.NewReader(text), "dc9")
	if err == nil || !strings.Contains(err.Error(), `-site "dc9"`) {
		t.Errorf("-site of no site: %v", err)
	}
}

// BenchmarkBackupChain checks a configuration whose vservers each back
// up the next: linear in the chain's length (it was quadratic: 1.7 s at
// 4,000 vservers).
func BenchmarkBackupChain(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		var sb strings.Builder
		sb.WriteString("add gslb site s1 127.0.0.1\nadd gslb service a 192.0.2.1 HTTP 80 -siteName s1 -healthMonitor NO\n")
		for i := range n {
			sb.WriteString("add gslb vserver v" + strconv.Itoa(i) + " HTTP\n")
		}
		for i := range n - 1 {
			sb.WriteString("set gslb vserver v" + strconv.Itoa(i) + " -backupVServer v" + strconv.Itoa(i+1) + "\n")
		}
		sb.WriteString("bind gslb vserver v" + strconv.Itoa(n-1) + " -serviceName a\n")
		f, err := nsconf.Parse("chain.conf", strings.NewReader(sb.String()))
		if err != nil {
			b.Fatal(err)
		}
		c := &Config{}
		if errs := c.ApplyFile(f); len(errs) > 0 {
			b.Fatal(errs)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
