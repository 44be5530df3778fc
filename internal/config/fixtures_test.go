package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// fixtureChanges are changes an administrator makes to each appliance
// fixture of e2e/testdata (files written as NetScaler 12.1-14.1 save them).
var fixtureChanges = map[string][]string{
	"appliance-12.1-lb.conf": {
		"rm gslb vserver gv_web_ssl",
		"add gslb service gs_new_dc2 172.16.20.200 HTTP 80 -siteName gslb_site_dc2\nbind gslb vserver gv_web -serviceName gs_new_dc2",
		"set gslb vserver gv_api -lbMethod ROUNDROBIN",
		"unbind gslb vserver gv_web -serviceName gs_web_dc1",
		"rm gslb service gs_api_dc1",
		"set lb monitor mon_web_health HTTP -interval 7",
		"bind gslb service gs_web_dc2 -monitorName mon_web_health",
		"add gslb site gslb_site_dc3 172.16.30.60 -publicIP 192.0.2.60\nadd gslb service gs_web_dc3 172.16.30.100 HTTP 80 -siteName gslb_site_dc3",
		"rm dns addRec ns1.gslb.example.net 203.0.113.53",
		"set lb monitor ldns-dns LDNS-DNS -interval 10",
	},
	"appliance-13.1-gateway.conf": {
		"rm gslb vserver gv_storefront",
		"set gslb vserver gv_gateway -lbMethod LEASTCONNECTION",
		"unbind gslb service gs_gateway_dc1 -monitorName mon_gateway",
		"add lb monitor mon_new TCP -interval 10\nbind gslb service gs_storefront_dc1 -monitorName mon_new",
		"set gslb parameter -ldnsEntryTimeout 300",
		"rm gslb service gs_gateway_dc2",
		"set gslb site site_dc2 -sessionExchange DISABLED",
		"add dns addRec portal.gslb.example.com 203.0.113.80",
	},
	"appliance-14.1-gateway.conf": {
		"rm gslb service gs_gateway_dc2",
		"bind gslb vserver gv_gateway6 -domainName gw6b.example.org -TTL 10",
		"disable gslb vserver gv_storefront",
		"add dns aaaaRec www6.example.org 2001:db8::1",
		"set gslb vserver gv_gateway -backupVServer gv_storefront",
		"add gslb vserver gv_new SSL -lbMethod ROUNDROBIN\nbind gslb vserver gv_new -serviceName gs_storefront_dc3",
	},
	"appliance-full.conf": {
		"unbind gslb serviceGroup gsg_web 10.0.2.11 80",
		"rm gslb serviceGroup gsg_web",
		"set gslb site site_dc2 -metricExchange DISABLED",
		"rm gslb vserver gv_cname",
		"add gslb service gs_gw6_dc3 2001:db8:3::10 SSL 443 -siteName site_dc2\nbind gslb vserver gv_gateway6 -serviceName gs_gw6_dc3",
	},
}

// TestFixtureChangesWriteWhatTheyMean: each appliance fixture, changed as
// above one change at a time and all in a row, is written so that an
// appliance reads the same configuration (checkWritten: same meaning,
// every line after what it refers to, a fixed point), and every line that
// gslbd keeps verbatim is still there, in its order.
func TestFixtureChangesWriteWhatTheyMean(t *testing.T) {
	files, _ := filepath.Glob("../../e2e/testdata/appliance-*.conf")
	if len(files) != len(fixtureChanges) {
		t.Fatalf("%d appliance fixtures, %d with changes: give each fixture its changes", len(files), len(fixtureChanges))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			base, _, _, err := Load(f, strings.NewReader(string(src)))
			if err != nil {
				t.Fatal(err)
			}
			kept := verbatimLines(string(src))
			if len(kept) < 20 {
				t.Fatalf("only %d lines kept verbatim: not an appliance file", len(kept))
			}
			all := base
			changes := fixtureChanges[filepath.Base(f)]
			for _, change := range changes {
				n, _, _, err := base.Change("api", change+"\n")
				if err != nil {
					t.Errorf("%q refused: %v", change, err)
					continue
				}
				out := n.String()
				checkWritten(t, n, out)
				keepsInOrder(t, change, kept, out)
				if next, _, _, err := all.Change("api", change+"\n"); err == nil {
					all = next
				} else {
					t.Errorf("%q after the others refused: %v", change, err)
				}
			}
			out := all.String()
			checkWritten(t, all, out)
			keepsInOrder(t, "all changes", kept, out)
		})
	}
}

// verbatimLines are the lines of an ns.conf that gslbd does not manage:
// comments, blank lines and commands it keeps as written.
func verbatimLines(src string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		cmd, err := nsconf.ParseLine(l)
		if err != nil || cmd == nil || cmd.Spec == nil {
			out = append(out, l)
		}
	}
	return out
}

// keepsInOrder checks that kept is a subsequence of out's lines.
func keepsInOrder(t *testing.T, what string, kept []string, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, k := range kept {
		for i < len(lines) && lines[i] != k {
			i++
		}
		if i == len(lines) {
			t.Errorf("%s: the kept line %q is gone or out of order", what, k)
			return
		}
		i++
	}
}

// TestKeptLinesSayWhatIsRead: the warning about kept lb/cs lines says
// that gslbd reads them for health; other kept lines are "not applied".
func TestKeptLinesSayWhatIsRead(t *testing.T) {
	_, _, warns, err := Load("t.conf", strings.NewReader(`set ns config -IPAddress 10.0.0.10 -netmask 255.255.255.0
add service svc1 10.0.0.21 HTTP 80 -gslb NONE
add lb vserver lb1 HTTP 10.0.0.20 80
bind lb vserver lb1 svc1
add serviceGroup sg1 HTTP
bind serviceGroup sg1 10.0.0.22 80
add gslb site s1 10.0.0.1
add gslb service gs1 10.0.0.20 HTTP 80 -siteName s1
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		`"set ns config"`:     "1 line kept verbatim, not applied",
		`"add lb vserver"`:    "1 line kept verbatim, " + lbKindsNote,
		`"bind lb vserver"`:   "1 line kept verbatim, " + lbKindsNote,
		`"add servicegroup"`:  "1 line kept verbatim, " + lbKindsNote,
		`"bind servicegroup"`: "1 line kept verbatim, " + lbKindsNote,
	}
	for _, w := range warns {
		for kind, msg := range want {
			if strings.HasPrefix(w.Msg, kind+" ") {
				if !strings.HasSuffix(w.Msg, msg) {
					t.Errorf("warning %q, want it to end %q", w.Msg, msg)
				}
				delete(want, kind)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no warning for %v in %v", want, warns)
	}
}
