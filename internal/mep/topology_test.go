package mep

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/config"
)

// TestFromSnapshot: parents form a mesh where the lower address dials,
// a parent dials its children, a child waits for its parent, another
// parent's child is not linked, -metricExchange DISABLED leaves a site
// out, and the plain port needs -sitePassword and AllowPlain.
func TestFromSnapshot(t *testing.T) {
	const text = `add gslb site p1 10.0.0.1 -sitePassword pw1
add gslb site p2 10.0.0.2 -publicIP 192.0.2.2
add gslb site p3 9.0.0.3
add gslb site p4 10.0.0.4 -metricExchange DISABLED
add gslb site c1 10.0.1.1 -parentSite p1
add gslb site c2 10.0.1.2 -parentSite p2
`
	load := func(self string) *config.Snapshot {
		t.Helper()
		_, s, _, err := config.LoadAs("ns.conf", strings.NewReader(text), self)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	describe := func(cfg Config) string {
		var b []string
		for _, p := range cfg.Peers {
			d := "waits"
			if p.Dial {
				d = "dials"
			}
			b = append(b, p.Name+":"+p.Role.String()+":"+d+":"+p.Addr.String())
		}
		return strings.Join(b, " ")
	}
	for _, tc := range []struct {
		self string
		want string
	}{
		// p1 (10.0.0.1) is below p2's public 192.0.2.2 but above p3's 9.0.0.3.
		{"p1", "p2:PARENT:dials:192.0.2.2:3009 p3:PARENT:waits:9.0.0.3:3009 c1:CHILD:dials:10.0.1.1:3009"},
		{"p3", "p1:PARENT:dials:10.0.0.1:3009 p2:PARENT:dials:192.0.2.2:3009"},
		{"c1", "p1:PARENT:waits:10.0.0.1:3009"},
		{"p2", "p1:PARENT:waits:10.0.0.1:3009 p3:PARENT:waits:9.0.0.3:3009 c2:CHILD:dials:10.0.1.2:3009"},
	} {
		cfg, ok := FromSnapshot(load(tc.self), DefaultPorts)
		if !ok {
			t.Fatalf("%s: no exchange", tc.self)
		}
		if got := describe(cfg); got != tc.want {
			t.Errorf("%s: %s\nwant %s", tc.self, got, tc.want)
		}
		if cfg.PlainListen.IsValid() {
			t.Errorf("%s: the plain port opens without AllowPlain", tc.self)
		}
		// Another parent's child is learnt through that parent.
		want := map[string]map[string][]string{"p1": {"c2": {"p2"}}, "p2": {"c1": {"p1"}}, "p3": {"c1": {"p1"}, "c2": {"p2"}}}[tc.self]
		if !maps.EqualFunc(cfg.Relayed, want, slices.Equal) {
			t.Errorf("%s: relayed %v, want %v", tc.self, cfg.Relayed, want)
		}
	}
	if cfg, _ := FromSnapshot(load("c1"), DefaultPorts); cfg.Role.String() != "CHILD" || cfg.Listen.String() != "10.0.1.1:3009" {
		t.Errorf("c1: role %s, listen %s", cfg.Role, cfg.Listen)
	}
	if cfg, _ := FromSnapshot(load("p1"), DefaultPorts); cfg.KeepAlive != 0 || cfg.Learning != 0 {
		t.Errorf("p1 without gslb parameters: keep-alive %v, learning %v, want the Timers' (0)", cfg.KeepAlive, cfg.Learning)
	}
	_, s, _, err := config.LoadAs("ns.conf", strings.NewReader(text+"set gslb parameter -MEPKeepAliveTimeout 4 -SvcStateLearningTime 3\n"), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := FromSnapshot(s, DefaultPorts); cfg.KeepAlive != 4*time.Second || cfg.Learning != 3*time.Second {
		t.Errorf("with gslb parameters: keep-alive %v, learning %v, want 4s, 3s", cfg.KeepAlive, cfg.Learning)
	}
	if _, ok := FromSnapshot(load("p4"), DefaultPorts); ok {
		t.Error("p4 (-metricExchange DISABLED) runs an exchange")
	}
	plain := Ports{TLS: 3009, Plain: 3011, AllowPlain: true}
	cfg, _ := FromSnapshot(load("p1"), plain)
	if cfg.PlainListen.String() != "10.0.0.1:3011" || string(cfg.PSK) != "pw1" || !cfg.Plain || cfg.Peers[0].Addr.Port() != 3011 {
		t.Errorf("p1 with the plain port: %+v", cfg)
	}
	if cfg, _ := FromSnapshot(load("p2"), plain); cfg.PlainListen.IsValid() {
		t.Error("p2 has no -sitePassword but listens on the plain port")
	}
}

// TestFromSnapshotBackupParents: a child's backup parents may adopt it (in
// rank order), every parent believes relays of it from its parent and then
// its backups, and the child waits for all of them.
func TestFromSnapshotBackupParents(t *testing.T) {
	const text = `add gslb site p1 10.0.0.1
add gslb site p2 10.0.0.2
add gslb site p3 10.0.0.3
add gslb site c1 10.0.1.1 -parentSite p1
set gslb site c1 -backupParentlist p3 p2
`
	load := func(self string) Config {
		t.Helper()
		_, s, _, err := config.LoadAs("ns.conf", strings.NewReader(text), self)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := FromSnapshot(s, DefaultPorts)
		return cfg
	}
	p3, p2 := load("p3"), load("p2")
	if len(p3.Adoptable) != 1 || p3.Adoptable[0].Child.Name != "c1" || p3.Adoptable[0].Parent != "p1" || len(p3.Adoptable[0].Before) != 0 ||
		!p3.Adoptable[0].Child.Dial || p3.Adoptable[0].Child.Addr.String() != "10.0.1.1:3009" {
		t.Errorf("p3 (first backup): %+v", p3.Adoptable)
	}
	if len(p2.Adoptable) != 1 || !slices.Equal(p2.Adoptable[0].Before, []string{"p3"}) {
		t.Errorf("p2 (second backup): %+v", p2.Adoptable)
	}
	if got := p2.Relayed["c1"]; !slices.Equal(got, []string{"p1", "p3", "p2"}) {
		t.Errorf("p2 believes relays of c1 from %v", got)
	}
	if p1 := load("p1"); len(p1.Adoptable) != 0 {
		t.Errorf("the parent itself adopts: %+v", p1.Adoptable)
	}
	var names []string
	for _, p := range load("c1").Peers {
		names = append(names, p.Name)
		if p.Dial {
			t.Errorf("the child dials %s", p.Name)
		}
	}
	if !slices.Equal(names, []string{"p1", "p2", "p3"}) {
		t.Errorf("the child waits for %v, want its parent and both backups", names)
	}
}

// TestDigest: one file read as each of its sites gives one digest (which
// site is LOCAL, passwords and kept lines do not count); a service more,
// a binding's weight or a site's parent makes another.
func TestDigest(t *testing.T) {
	const base = `add gslb site dc1 10.0.0.1 -sitePassword one
add gslb site dc2 10.0.0.2 -sitePassword two
add gslb vserver gv HTTP -lbMethod ROUNDROBIN
add gslb service s1 192.0.2.1 HTTP 80 -siteName dc1
add gslb service s2 192.0.2.2 HTTP 80 -siteName dc2
bind gslb vserver gv -serviceName s1
bind gslb vserver gv -serviceName s2 -weight 2
bind gslb vserver gv -domainName www.example.test
`
	digest := func(self, text string) string {
		t.Helper()
		_, s, _, err := config.LoadAs("ns.conf", strings.NewReader(text), self)
		if err != nil {
			t.Fatal(err)
		}
		cfg, ok := FromSnapshot(s, DefaultPorts)
		if !ok || cfg.Digest == nil {
			t.Fatalf("%s: no exchange configuration or no digest", self)
		}
		return string(cfg.Digest())
	}
	d1 := digest("dc1", base)
	if d2 := digest("dc2", base); d1 != d2 {
		t.Error("dc1 and dc2 reading one file have different digests")
	}
	if d := digest("dc1", "add lb vserver lb1 HTTP 10.0.0.9 80\n"+strings.Replace(base, "-sitePassword one", "-sitePassword other", 1)); d != d1 {
		t.Error("a kept lb line or another password changed the digest")
	}
	for what, text := range map[string]string{
		"a service more": base + "add gslb service s3 192.0.2.3 HTTP 80 -siteName dc2\n",
		"a weight":       strings.Replace(base, "-weight 2", "-weight 3", 1),
		"a parent":       base + "add gslb site c1 10.0.1.1 -parentSite dc2\n",
		"another domain": strings.Replace(base, "www.example.test", "web.example.test", 1),
	} {
		if digest("dc1", text) == d1 {
			t.Errorf("%s: same digest", what)
		}
	}
}
