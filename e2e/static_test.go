package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/daemon"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/miekg/dns"
)

// cityMMDB writes a GeoIP2-City-shaped MMDB with mmdbwriter (no database
// is fetched): network -> continent, country, city.
func cityMMDB(t *testing.T, nets map[string][3]string) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, q := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{
			"continent": mmdbtype.Map{"code": mmdbtype.String(q[0])},
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(q[1])},
			"city":      mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(q[2])}},
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return p
}

const staticE2EConf = `add gslb site s1 127.0.62.1
add gslb service svc_jp 10.62.1.10 HTTP 80 -siteName s1 -healthMonitor NO
add gslb service svc_us 10.62.2.10 HTTP 80 -siteName s1 -healthMonitor NO
add gslb vserver near HTTP -lbMethod STATICPROXIMITY -backupLBMethod ROUNDROBIN -ECS ENABLED
bind gslb vserver near -serviceName svc_jp
bind gslb vserver near -serviceName svc_us
bind gslb vserver near -domainName near.test -TTL 5
add dns soaRec test -originServer ns1.test -contact h.test
`

// TestStaticProximityOverSockets: gslbd with an MMDB location database
// (gslbd run -location-file) answers each client, over UDP and TCP, with
// the service located where the client is; a client of another country
// on the same continent gets the same continent's; an ECS subnet is
// located instead of the resolver, the scope being the MMDB network's; a
// new file (NetScaler format) read on reload moves the answers; a file
// that does not read fails the start and keeps the old one on reload.
func TestStaticProximityOverSockets(t *testing.T) {
	mmdb := cityMMDB(t, map[string][3]string{
		"127.62.1.0/24": {"AS", "JP", "Tokyo"}, "127.62.2.0/24": {"NA", "US", "Denver"}, "127.62.3.0/24": {"NA", "CA", "Toronto"},
		"10.62.1.0/24": {"AS", "JP", "Tokyo"}, "10.62.2.0/24": {"NA", "US", "Denver"}, "198.18.0.0/15": {"AS", "JP", "Osaka"},
	})
	d := startWith(t, staticE2EConf, func(o *daemon.Options) { o.LocationFile = mmdb })
	for _, proto := range []string{"udp", "tcp"} {
		for from, want := range map[string]string{"127.62.1.5": "10.62.1.10", "127.62.2.5": "10.62.2.10", "127.62.3.9": "10.62.2.10"} {
			for range 3 {
				if got := answersFrom(t, dnstest.Proto(proto), from, addr(d, proto), "near.test"); got != want {
					t.Fatalf("%s from %s: %s, want %s", proto, from, got, want)
				}
			}
		}
	}
	// ECS: a subnet in Japan through a US resolver.
	q := dnstest.Msg("near.test", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.ParseIP("198.18.7.0")})
	r := dnstest.Exchange(t, dnstest.UDP, d.UDPAddr(), q)
	var scope uint8 = 255
	for _, o := range r.IsEdns0().Option {
		if s, ok := o.(*dns.EDNS0_SUBNET); ok {
			scope = s.SourceScope
		}
	}
	if got := strings.Join(dnstest.Addrs(r), ","); got != "10.62.1.10" || scope != 15 {
		t.Fatalf("ECS 198.18.7.0/24: %s scope %d, want Japan at the network's /15", got, scope)
	}

	// Reload with a NetScaler-format file: Tokyo's clients are now in the US.
	ns := filepath.Join(t.TempDir(), "geo.csv")
	os.WriteFile(ns, []byte("NSGEO1.0\nStart\n127.62.1.0,127.62.1.255,NA,US,Colorado\n10.62.1.0,10.62.1.255,AS,JP\n10.62.2.0,10.62.2.255,NA,US\n"), 0o644)
	d2 := startWith(t, staticE2EConf, func(o *daemon.Options) { o.LocationFile = ns })
	if got := answersFrom(t, dnstest.UDP, "127.62.1.5", d2.UDPAddr(), "near.test"); got != "10.62.2.10" {
		t.Fatalf("NetScaler-format file: %s", got)
	}
	os.WriteFile(ns, []byte("NSGEO1.0\nStart\n127.62.1.0,127.62.1.255,AS,JP\n10.62.1.0,10.62.1.255,AS,JP\n10.62.2.0,10.62.2.255,NA,US\n"), 0o644)
	if err := d2.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := answersFrom(t, dnstest.UDP, "127.62.1.5", d2.UDPAddr(), "near.test"); got != "10.62.1.10" {
		t.Fatalf("after reload: %s, want Japan", got)
	}
	os.Remove(ns)
	d2.Reload() // the file is gone: the database stays
	if got := answersFrom(t, dnstest.UDP, "127.62.1.5", d2.UDPAddr(), "near.test"); got != "10.62.1.10" {
		t.Fatalf("after a failed reload: %s, want the old database's Japan", got)
	}
	_, err := daemon.Start(daemon.Options{ConfigText: []byte(staticE2EConf), Listen: []string{"127.0.0.1:0"}, LocationFile: ns})
	if err == nil || !strings.Contains(err.Error(), ns) {
		t.Fatalf("start with a missing location file: %v", err)
	}
}

// TestLocationFileFlagAsDocumented: docs/proximity.md's static-proximity
// example, run as it says (`gslbd run -config ns.conf -location-file
// geo.csv -location-format netscaler`): a client located in Tokyo gets
// the Tokyo service, one in Denver the Denver service.
func TestLocationFileFlagAsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/proximity.md")
	if err != nil {
		t.Fatal(err)
	}
	var conf string
	for _, m := range nsconfBlock.FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "STATICPROXIMITY") {
			conf = m[1]
		}
	}
	if conf == "" || !strings.Contains(string(b), "-location-file geo.csv -location-format\nnetscaler") {
		t.Fatal("docs/proximity.md lost its static-proximity example or its command")
	}
	dir := t.TempDir()
	path, geo := filepath.Join(dir, "ns.conf"), filepath.Join(dir, "geo.csv")
	os.WriteFile(path, []byte(conf), 0o644)
	os.WriteFile(geo, []byte("NSGEO1.0\nStart\n"+
		"203.0.113.0,203.0.113.255,AS,JP,Tokyo\n198.51.100.0,198.51.100.255,NA,US,Colorado,Denver\n"+
		"127.63.1.0,127.63.1.255,AS,JP,Tokyo\n127.63.2.0,127.63.2.255,NA,US,Colorado\n"), 0o644)
	listen := "127.0.0.1:" + freePortOn(t, "127.0.0.1")
	p := &site2{t: t, args: []string{"run", "-config", path, "-listen", listen, "-api", "", "-location-file", geo, "-location-format", "netscaler"}}
	t.Cleanup(p.kill)
	p.start()
	for from, want := range map[string]string{"127.63.1.5": "203.0.113.80", "127.63.2.5": "198.51.100.80"} {
		var got string
		waitFor(t, from+" answered by its location", 10*time.Second, func() bool {
			got = answersFrom(t, dnstest.UDP, from, listen, "www.gslb.example.com")
			return got == want
		})
	}
	if !strings.Contains(p.out.String(), "location database loaded") {
		t.Errorf("no load line in the log:\n%s", p.out)
	}
}
