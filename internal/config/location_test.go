package config

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// locationConf is how a 13.1 appliance with static proximity saves its
// location settings: the parameter and files after set gslb parameter,
// the custom entries after the DNS records.
const locationConf = `#NS13.1 Build 49.15
# Last modified by ` + "`save config`" + `, Tue Oct  6 11:02:31 2026
set ns config -IPAddress 10.0.0.10 -netmask 255.255.255.0
enable ns feature LB GSLB
set gslb parameter -ldnsMask 255.255.255.0
set locationParameter -context geographic -q1label Continent -q2label Country
add locationFile /var/netscaler/locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv4 -format netscaler
add locationFile6 locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv6 -format netscaler6
add gslb vserver gv HTTP -lbMethod STATICPROXIMITY -backupLBMethod ROUNDROBIN
add gslb site tokyo 10.0.0.10
add gslb service tk 10.0.0.80 HTTP 80 -siteName tokyo
bind gslb vserver gv -serviceName tk
bind gslb vserver gv -domainName www.example.test -TTL 5
add location 10.0.0.0 10.0.255.255 "AS.JP.Tokyo.*.*.*" -longitude 139.69 -latitude 35.68
add location 10.1.0.0 10.1.0.255 "NA.US.CA.\"San Jose\".*.*"
add location 2001:db8:: 2001:db8::ffff EU.DE
`

// TestLocationEntities: an appliance's location settings load into the
// model (custom ranges with coordinates, the files with their formats,
// a relative file beside the configuration), are written back byte for
// byte, and a change writes what it means at the place it belongs.
func TestLocationEntities(t *testing.T) {
	c, s, _, err := Load("/etc/gslbd/ns.conf", strings.NewReader(locationConf))
	if err != nil {
		t.Fatal(err)
	}
	li := s.Locations
	if li.File != "/var/netscaler/locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv4" || li.Format != "netscaler" ||
		li.File6 != filepath.Join("/etc/gslbd", "locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv6") || li.Format6 != "netscaler6" {
		t.Errorf("files %+v", li)
	}
	if li.Context != "geographic" || li.Labels[0] != "Continent" || li.Labels[1] != "Country" || li.Labels[2] != "" {
		t.Errorf("parameter %q %q", li.Context, li.Labels)
	}
	if len(li.Custom) != 3 {
		t.Fatalf("custom %+v", li.Custom)
	}
	tk := li.Custom[0]
	if tk.From != netip.MustParseAddr("10.0.0.0") || tk.To != netip.MustParseAddr("10.0.255.255") || tk.Loc.String() != "AS.JP.Tokyo.*.*.*" ||
		!tk.Loc.HasCoords || tk.Loc.Lon != 139.69 || tk.Loc.Lat != 35.68 {
		t.Errorf("tokyo %+v", tk)
	}
	if sj := li.Custom[1].Loc; sj.Q[3] != "San Jose" || sj.HasCoords {
		t.Errorf("san jose %+v", sj)
	}
	checkWritten(t, c, c.String())
	if got := c.String(); got != locationConf {
		t.Errorf("written back:\n%s\nwant:\n%s", got, locationConf)
	}
	for _, tc := range []struct{ change, has, hasNot string }{
		{"rm location 10.1.0.0 10.1.0.255", "", `"NA.US.CA.\"San Jose\".*.*"`},
		{"add location 192.0.2.0 192.0.2.255 OC.AU", "add location 2001:db8:: 2001:db8::ffff EU.DE\nadd location 192.0.2.0 192.0.2.255 OC.AU\n", ""},
		{"set locationParameter -q3label State", "set locationParameter -context geographic -q1label Continent -q2label Country\nset locationParameter -q3label State\nadd locationFile ", ""},
		{"unset locationParameter -q2label", "set locationParameter -context geographic -q1label Continent\n", "Country"},
		{"add locationFile /srv/geo.csv -format ip-country", "set locationParameter -context geographic -q1label Continent -q2label Country\nadd locationFile /srv/geo.csv -format ip-country\nadd locationFile6", "InBuilt_GeoIP_DB_IPv4"},
		{"rm locationFile6", "", "locationFile6"},
	} {
		ns := expectWritten(t, c, tc.change, tc.has, tc.hasNot)
		if tc.change == "rm locationFile6" && ns != nil && ns.Locations.File6 != "" {
			t.Errorf("rm locationFile6: still %q", ns.Locations.File6)
		}
	}
	if got := c.String(); got != locationConf {
		t.Errorf("a change changed the configuration it was made from:\n%s", got)
	}
}

// TestLocationErrors: every bad location command is refused with
// NetScaler's code, naming the entry and why, and changes nothing.
func TestLocationErrors(t *testing.T) {
	base := "add location 10.0.0.0 10.0.0.255 AS.JP\n"
	c, _, _, err := Load("f.conf", strings.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string
		code nserr.Code
		msg  string
	}{
		{"add location 10.0.0.0 10.0.0.255 EU", nserr.Exist, "already exists"},
		{"add location 10.0.0.0 2001:db8::1 EU", errLocationFamily, "different families"},
		{"add location 10.0.1.0 10.0.0.255 EU", nserr.Inval, "below"},
		{"add location 10.0.1.0 10.0.1.255 a.b.c.d.e.f.g", errLocationQualifiers, "more than 6"},
		{"add location 10.0.1.0 10.0.1.255 " + strings.Repeat("x", 257), errLocationLength, "256"},
		{"add location 10.0.1.0 10.0.1.255 'a.\"b'", nserr.ArgValBad, "unterminated"},
		{"add location 10.0.1.0 10.0.1.255 EU -longitude 10", errLocationCoords, "go together"},
		{"add location 10.0.1.0 10.0.1.255 EU -longitude 181 -latitude 0", nserr.ArgValBad, "-longitude"},
		{"add location 10.0.1.0 10.0.1.255 EU -longitude 1 -latitude north", nserr.ArgValBad, "-latitude"},
		{"rm location 10.0.1.0 10.0.1.255", errNoLocation, "no such custom location"},
		{"rm locationFile", nserr.NoEnt, "no such location file"},
		{"add locationFile /x -format geoip-planet", nserr.ArgValBad, "format"},
		{"add locationFile6 /x -format ip-country", nserr.ArgValBad, "format"},
		{"set locationParameter -context planetary", nserr.ArgValBad, "context"},
	} {
		expectRefused(t, c, tc.line, tc.code, tc.msg)
	}
	if got := c.String(); got != base {
		t.Errorf("refused changes changed the configuration:\n%s", got)
	}
}

// expectRefused applies change to c and checks that it is refused with
// code and a message holding msg.
func expectRefused(t *testing.T, c *Config, change string, code nserr.Code, msg string) {
	t.Helper()
	_, _, _, err := c.Change("api", change)
	var e *nsconf.Error
	if l, ok := nsconf.AsList(err); ok && len(l) > 0 {
		e = l[0]
	} else if !errors.As(err, &e) {
		t.Errorf("%s: error %v", change, err)
		return
	}
	if e.Code != code || !strings.Contains(e.Msg, msg) {
		t.Errorf("%s: %d %q, want %d with %q", change, e.Code, e.Msg, code, msg)
	}
}

// expectWritten applies change to c and checks the written file: it
// holds has and not hasNot ("": no check), and loads to the same. It
// returns the change's snapshot (nil: refused).
func expectWritten(t *testing.T, c *Config, change, has, hasNot string) *Snapshot {
	t.Helper()
	n, ns, _, err := c.Change("api", change)
	if err != nil {
		t.Errorf("%s: %v", change, err)
		return nil
	}
	out := n.String()
	if has != "" && !strings.Contains(out, has) || hasNot != "" && strings.Contains(out, hasNot) {
		t.Errorf("%s: written\n%s", change, out)
	}
	checkWritten(t, n, out)
	return ns
}
