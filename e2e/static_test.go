package e2e

import (
	"encoding/pem"
	"net"
	"os"
	"os/exec"
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
	b, conf := docBlock(t, "../docs/proximity.md", func(block string) bool {
		return strings.Contains(block, "STATICPROXIMITY") && !strings.Contains(block, "add locationFile")
	})
	if conf == "" || !strings.Contains(b, "-location-file geo.csv -location-format\nnetscaler") {
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

// TestLocationCommandsOverSockets: static proximity configured the
// appliance's way, in ns.conf: `add locationFile` (a path relative to the
// configuration) and `add location` custom ranges, which win over the
// file's. Answers over UDP and TCP follow them; gslbctl shows the
// database (`show locationParameter` with the file's figures, `show
// location`) and changes it (`add/rm location`, `add locationFile`), each
// change moving the answers at once; a location file that does not read
// is named by show locationParameter, and custom ranges keep working.
func TestLocationCommandsOverSockets(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "geo.csv"), []byte("NSGEO1.0\nStart\n127.62.0.0,127.62.255.255,AS,JP\n10.62.1.0,10.62.1.255,AS,JP\n10.62.2.0,10.62.2.255,NA,US\n"), 0o644)
	conf := filepath.Join(dir, "ns.conf")
	os.WriteFile(conf, []byte(staticE2EConf+"add locationFile geo.csv\nadd location 127.62.5.0 127.62.5.255 NA.US\n"), 0o640)
	d := startPath(t, conf)
	srv := apiServer(t, d, newUsers(t))
	check := func(when string, want map[string]string) {
		t.Helper()
		for _, proto := range []string{"udp", "tcp"} {
			for from, w := range want {
				if got := answersFrom(t, dnstest.Proto(proto), from, addr(d, proto), "near.test"); got != w {
					t.Fatalf("%s: %s from %s: %s, want %s", when, proto, from, got, w)
				}
			}
		}
	}
	check("as loaded", map[string]string{"127.62.1.5": "10.62.1.10", "127.62.5.5": "10.62.2.10"})

	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	bin := built(t, "gslbctl")
	ctl := func(c string) string {
		t.Helper()
		cmd := exec.Command(bin, "-url", srv.URL, "-cacert", ca, "-c", c)
		cmd.Env = append(os.Environ(), "GSLBCTL_PASSWORD="+nitroPassword)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Done") {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
		return string(out)
	}
	if out := ctl("show locationParameter"); !strings.Contains(out, filepath.Join(dir, "geo.csv")) || !strings.Contains(out, "entries: 3") ||
		!strings.Contains(out, "Static: 4") || !strings.Contains(out, "custom: 1") || !strings.Contains(out, "context: geographic") {
		t.Fatalf("show locationParameter:\n%s", out)
	}
	if out := ctl("show location"); !strings.Contains(out, "127.62.5.0") || !strings.Contains(out, "NA.US") {
		t.Fatalf("show location:\n%s", out)
	}
	ctl("add location 127.62.1.0 127.62.1.255 NA.US.CO")
	ctl("rm location 127.62.5.0 127.62.5.255")
	check("after add/rm location", map[string]string{"127.62.1.5": "10.62.2.10", "127.62.5.5": "10.62.1.10"})

	// The services' own ranges, so that they keep a location without
	// the file.
	ctl("add location 10.62.1.0 10.62.1.255 AS.JP")
	ctl("add location 10.62.2.0 10.62.2.255 NA.US")
	missing := filepath.Join(dir, "nope.csv")
	ctl("add locationFile " + missing)
	if out := ctl("show locationParameter"); !strings.Contains(out, missing) || !strings.Contains(out, "no such file") {
		t.Fatalf("show locationParameter with a missing file:\n%s", out)
	}
	// The file's ranges are gone; the custom ones stay; a client the file
	// held is answered by the backup method (both services).
	check("with a missing file", map[string]string{"127.62.1.5": "10.62.2.10"})
	seen := map[string]bool{}
	for range 4 {
		seen[answersFrom(t, dnstest.UDP, "127.62.5.5", d.UDPAddr(), "near.test")] = true
	}
	if !seen["10.62.1.10"] || !seen["10.62.2.10"] {
		t.Fatalf("a client without a location: %v, want round robin over both", seen)
	}
	ctl("save ns config")
	b, _ := os.ReadFile(conf)
	if !strings.Contains(string(b), "add locationFile "+missing+"\n") || !strings.Contains(string(b), "add location 127.62.1.0 127.62.1.255 NA.US.CO\n") ||
		strings.Contains(string(b), "127.62.5.0") {
		t.Fatalf("saved:\n%s", b)
	}
}

// TestLocationCommandsAsDocumented: docs/proximity.md's ns.conf with
// `add locationFile geo.csv` and `add location` lines, run by the gslbd
// binary with no flag for the database: the file beside the
// configuration locates the clients, the custom ranges the services.
func TestLocationCommandsAsDocumented(t *testing.T) {
	_, conf := docBlock(t, "../docs/proximity.md", func(block string) bool { return strings.Contains(block, "add locationFile geo.csv") })
	if conf == "" || !strings.Contains(conf, "add location 198.51.100.0") {
		t.Fatal("docs/proximity.md lost its example of the location commands")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ns.conf")
	os.WriteFile(path, []byte(conf), 0o644)
	os.WriteFile(filepath.Join(dir, "geo.csv"), []byte("NSGEO1.0\nStart\n127.63.1.0,127.63.1.255,AS,JP,Tokyo\n127.63.2.0,127.63.2.255,NA,US,CO\n"), 0o644)
	listen := "127.0.0.1:" + freePortOn(t, "127.0.0.1")
	p := &site2{t: t, args: []string{"run", "-config", path, "-listen", listen, "-api", ""}}
	t.Cleanup(p.kill)
	p.start()
	for from, want := range map[string]string{"127.63.1.5": "203.0.113.80", "127.63.2.5": "198.51.100.80"} {
		var got string
		waitFor(t, from+" answered by its location", 10*time.Second, func() bool {
			got = answersFrom(t, dnstest.UDP, from, listen, "www.gslb.example.com")
			return got == want
		})
	}
}

// docBlock reads a page and returns its text and the last ns.conf block
// that want picks ("": none).
func docBlock(t *testing.T, page string, want func(string) bool) (text, block string) {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range nsconfBlock.FindAllStringSubmatch(string(b), -1) {
		if want(m[1]) {
			block = m[1]
		}
	}
	return string(b), block
}
