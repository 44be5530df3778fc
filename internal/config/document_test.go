package config

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// docBase is written the way a 13.1 appliance saves a file: header, system
// lines, servers and services, lb and GSLB vservers with the set line that
// repeats their settings, sites, GSLB services and bindings, DNS records,
// built-in and added monitors, their bindings, then routes and ssl lines.
// Lines gslbd does not manage sit between managed ones; some of them are
// needed by managed lines after them (the view, the GSLB site IP).
const docBase = `#NS13.1 Build 37.38
# Last modified by ` + "`save config`" + `, Mon May  3 12:34:56 2025
set ns config -IPAddress 10.0.0.10 -netmask 255.255.255.0
enable ns feature LB GSLB
add ns ip 10.0.1.60 255.255.255.255 -type GSLBsiteIP -vServer DISABLED
add server srv_a 10.0.2.10
add service svc_adns 10.0.1.53 ADNS 53 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport NO -sp OFF -cltTimeout 120 -svrTimeout 120 -CKA NO -TCPB NO -CMP NO
add dns view internal
add lb vserver lb_web HTTP 10.0.2.100 80 -persistenceType NONE -cltTimeout 180
add gslb vserver gv HTTP -backupLBMethod ROUNDROBIN -tolerance 0 -appflowLog DISABLED
set gslb vserver gv -backupLBMethod ROUNDROBIN -tolerance 0 -appflowLog DISABLED
add gslb site dc1 10.0.1.60 -publicIP 203.0.113.60
add gslb site dc2 10.100.1.60 -publicIP 198.51.100.60
add gslb service gs1 srv_a HTTP 80 -publicIP 203.0.113.10 -publicPort 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs2 10.100.2.10 HTTP 80 -publicIP 198.51.100.10 -publicPort 80 -maxClient 0 -siteName dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
bind gslb vserver gv -serviceName gs1
bind gslb vserver gv -serviceName gs2
bind gslb vserver gv -domainName www.example.com -TTL 5
add dns soaRec example.com -originServer ns1.example.com -contact hostmaster.example.com
add dns addRec ns1.example.com 203.0.113.53
add dns addRec multi.example.com 192.0.2.1 192.0.2.2
set lb monitor ldns-dns LDNS-DNS -query . -queryType Address -deviation 0 -interval 6 -resptimeout 3 -downTime 20
add lb monitor mon_http HTTP -respCode 200 -httpRequest "HEAD /" -customHeaders "Host: www.example.com\r\n" -LRTM DISABLED
bind gslb service gs1 -monitorName mon_http
bind gslb service gs1 -viewName internal 10.0.2.10
add route 0.0.0.0 0.0.0.0 10.0.0.1
set ssl service nshttps-127.0.0.1-443 -sslProfile ns_default_ssl_profile_frontend
`

// without returns text without the lines that start with one of prefixes.
func without(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		drop := false
		for _, p := range prefixes {
			drop = drop || strings.HasPrefix(l, p)
		}
		if !drop {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// after returns text with line inserted after the line that starts with at.
func after(text, at, line string) string {
	var out []string
	done := false
	for _, l := range strings.SplitAfter(text, "\n") {
		out = append(out, l)
		if !done && strings.HasPrefix(l, at) {
			out = append(out, line+"\n")
			done = true
		}
	}
	if !done {
		panic("no line " + at)
	}
	return strings.Join(out, "")
}

// replace returns text with the line that starts with at replaced.
func replace(text, at, line string) string { return withoutFirst(after(text, at, line), at) }

func withoutFirst(text, at string) string {
	i := strings.Index(text, at)
	if i < 0 || (i > 0 && text[i-1] != '\n') {
		panic("no line " + at)
	}
	j := strings.IndexByte(text[i:], '\n')
	return text[:i] + text[i+j+1:]
}

// TestWriteKeepsTheFile: what a configuration loaded from a file writes is
// that file, changed only where the configuration changed: unchanged
// entities keep their own lines (spelling and defaults included), a
// changed one is written in canonical form where its lines were, a new one
// after what it depends on; lines gslbd does not manage and comments stay
// where they were.
func TestWriteKeepsTheFile(t *testing.T) {
	cases := []struct {
		name   string
		source string // the file (docBase when empty)
		change string // applied through Change after the load
		want   string
	}{
		{name: "unchanged", want: docBase},
		{
			name:   "set on a vserver: the new value on its add line, as the appliance writes it; its other lines as they were",
			change: "set gslb vserver gv -comment \"new comment\"",
			want: replace(docBase, "add gslb vserver gv ",
				`add gslb vserver gv HTTP -backupLBMethod ROUNDROBIN -tolerance 0 -comment "new comment" -appflowLog DISABLED`),
		},
		{
			name:   "a new service after the last service, its binding after the last binding",
			change: "add gslb service gs3 10.100.2.11 HTTP 80 -siteName dc2\nbind gslb vserver gv -serviceName gs3 -weight 2",
			want: after(after(docBase, "add gslb service gs2 ", "add gslb service gs3 10.100.2.11 HTTP 80 -siteName dc2"),
				"bind gslb vserver gv -serviceName gs2", "bind gslb vserver gv -serviceName gs3 -weight 2"),
		},
		{
			name:   "a removed service takes its lines and its binding away",
			change: "rm gslb service gs2",
			want:   without(docBase, "add gslb service gs2 ", "bind gslb vserver gv -serviceName gs2"),
		},
		{
			name:   "a line that changes another entity in the file makes that entity canonical",
			source: docBase + "rm gslb service gs2\n",
			want:   without(docBase, "add gslb service gs2 ", "bind gslb vserver gv -serviceName gs2"),
		},
		{
			name:   "a built-in monitor set again",
			change: "set lb monitor ldns-dns LDNS-DNS -interval 10",
			want: after(replace(docBase, "set lb monitor ldns-dns ",
				"set lb monitor ldns-dns LDNS-DNS -deviation 0 -resptimeout 3 -downTime 20 -query . -queryType Address"),
				"set lb monitor ldns-dns ", "set lb monitor ldns-dns LDNS-DNS -interval 10"),
		},
		{
			name:   "one address of a record removed: the rest in place",
			change: "rm dns addRec multi.example.com 192.0.2.1",
			want:   replace(docBase, "add dns addRec multi.example.com ", "add dns addRec multi.example.com 192.0.2.2"),
		},
		{
			name:   "an unset on the add line's value",
			change: "unset gslb service gs2 -publicIP",
			want: replace(docBase, "add gslb service gs2 ",
				"add gslb service gs2 10.100.2.10 HTTP 80 -siteName dc2 -publicPort 80 -maxClient 0 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED"),
		},
		{
			name:   "a new site named as a backup parent comes before the set line that names it",
			change: "add gslb site dc3 REMOTE 10.200.1.60\nset gslb site dc2 -backupParentlist dc3",
			want: after(after(docBase, "add gslb site dc2 ", "add gslb site dc3 REMOTE 10.200.1.60"),
				"add gslb site dc3 ", "set gslb site dc2 -backupParentlist dc3"),
		},
		{
			name:   "a new vserver as backup of an old one",
			change: "add gslb vserver gv_dr HTTP\nset gslb vserver gv -backupVServer gv_dr",
			want: after(after(docBase, "add gslb vserver gv ", "add gslb vserver gv_dr HTTP"),
				"set gslb vserver gv ", "set gslb vserver gv -backupVServer gv_dr"),
		},
		{
			name:   "a renamed service: its lines and the binding where they were",
			change: "rename gslb service gs2 gs2b",
			want: replace(replace(docBase, "add gslb service gs2 ",
				"add gslb service gs2b 10.100.2.10 HTTP 80 -siteName dc2 -publicIP 198.51.100.10 -publicPort 80 -maxClient 0 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED"),
				"bind gslb vserver gv -serviceName gs2", "bind gslb vserver gv -serviceName gs2b"),
		},
		{
			name:   "from nothing: canonical order with gslbd's header",
			source: "-",
			change: "add gslb vserver v2 HTTP\nadd gslb vserver v1 HTTP\nset gslb vserver v1 -backupVServer v2\nadd gslb site s 10.0.0.1\nadd gslb service a 192.0.2.1 HTTP 80 -siteName s\nbind gslb vserver v1 -serviceName a",
			want: Header + "\nadd gslb vserver v2 HTTP\nadd gslb vserver v1 HTTP\nset gslb vserver v1 -backupVServer v2\n" +
				"add gslb site s 10.0.0.1\nadd gslb service a 192.0.2.1 HTTP 80 -siteName s\nbind gslb vserver v1 -serviceName a\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source
			if src == "" {
				src = docBase
			}
			c := &Config{}
			if src != "-" {
				var err error
				c, _, _, err = Load("ns.conf", strings.NewReader(src))
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.change != "" {
				var err error
				if c, _, _, err = c.Change("api", tc.change); err != nil {
					t.Fatal(err)
				}
			}
			got := c.String()
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			checkWritten(t, c, got)
		})
	}
}

// checkWritten checks what an appliance reading a written file would see:
// the same configuration (the written file loads to the same canonical
// form), every line after the lines it refers to (the appliance applies a
// file line by line and refuses a reference to what does not exist yet),
// and a fixed point (loaded and written again, the file is the same).
func checkWritten(t *testing.T, c *Config, text string) {
	t.Helper()
	again, _, _, err := Load("written.conf", strings.NewReader(text))
	if err != nil {
		t.Fatalf("the written file does not load: %v\n%s", err, text)
	}
	if got, want := again.Canonical(), c.Canonical(); got != want {
		t.Errorf("the written file means something else:\n%s\nwant:\n%s", got, want)
	}
	if got := again.String(); got != text {
		t.Errorf("written again, the file changed:\n%s\nwas:\n%s", got, text)
	}
	if err := dependencyOrder(text, c); err != nil {
		t.Errorf("%v in:\n%s", err, text)
	}
}

// dependencyOrder reports the first line of text that refers to an entity
// no earlier line made: servers, sites, services, groups, vservers,
// monitors, metric tables and DNS views, and the NS IP or ADNS service that
// makes a site without a type local.
func dependencyOrder(text string, c *Config) error {
	made := map[string]bool{}
	for _, b := range builtinMonitors {
		made["monitor "+b.name] = true
	}
	isIP := func(s string) bool { _, err := netip.ParseAddr(s); return err == nil }
	views := map[string]bool{} // gslbd keeps views only as lines: one no line makes is not checked
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "add dns view ") {
			views[strings.ToLower(strings.Fields(l)[3])] = true
		}
	}
	for i, l := range strings.Split(text, "\n") {
		need := func(kind, name string) error {
			if kind == "view" && !views[strings.ToLower(name)] {
				return nil
			}
			if name != "" && !made[kind+" "+strings.ToLower(name)] {
				return fmt.Errorf("line %d %q: %s %q is not made before", i+1, l, kind, name)
			}
			return nil
		}
		if strings.HasPrefix(l, "add dns view ") {
			made["view "+strings.ToLower(strings.Fields(l)[3])] = true
			continue
		}
		if strings.HasPrefix(l, "add ns ip") {
			made["owned "+strings.SplitN(strings.Fields(l)[3], "/", 2)[0]] = true
			continue
		}
		cmd, err := nsconf.ParseLine(l)
		if err != nil || cmd == nil || cmd.Spec == nil {
			continue
		}
		g, verb := cmd.Spec.Group, cmd.Spec.Verb
		var errs []error
		switch {
		case g == "server" && verb == "add":
			made["server "+strings.ToLower(cmd.Get("name"))] = true
		case g == "service" && verb == "add":
			made["owned "+cmd.Get("IP")] = true
			// LB and GSLB services share one name space on the appliance.
			made["service "+strings.ToLower(cmd.Get("name"))] = true
		case g == "gslb site" && verb == "add":
			errs = append(errs, need("site", cmd.Get("parentSite")))
			if cmd.Get("siteType") == "" && c.snap != nil {
				for _, s := range c.snap.Sites {
					if strings.EqualFold(s.Name, cmd.Get("siteName")) && s.Local {
						errs = append(errs, need("owned", cmd.Get("siteIPAddress")))
					}
				}
			}
			made["site "+strings.ToLower(cmd.Get("siteName"))] = true
		case g == "gslb site":
			errs = append(errs, need("site", cmd.Get("siteName")))
		case g == "gslb service" && verb == "add":
			if ip := cmd.Get("IP"); ip != "" && !isIP(ip) {
				errs = append(errs, need("server", ip))
			}
			errs = append(errs, need("site", cmd.Get("siteName")))
			made["service "+strings.ToLower(cmd.Get("serviceName"))] = true
		case g == "gslb service":
			errs = append(errs, need("service", cmd.Get("serviceName")), need("monitor", cmd.Get("monitorName")), need("view", cmd.Get("viewName")))
		case g == "gslb serviceGroup" && verb == "add":
			errs = append(errs, need("site", cmd.Get("siteName")))
			made["group "+strings.ToLower(cmd.Get("serviceGroupName"))] = true
		case g == "gslb serviceGroup":
			errs = append(errs, need("group", cmd.Get("serviceGroupName")), need("monitor", cmd.Get("monitorName")))
			if ip := cmd.Get("IP"); ip != "" && !isIP(ip) {
				errs = append(errs, need("server", ip))
			}
		case g == "gslb vserver" && verb == "add":
			made["vserver "+strings.ToLower(cmd.Get("name"))] = true
		case g == "gslb vserver":
			errs = append(errs, need("vserver", cmd.Get("name")), need("vserver", cmd.Get("backupVServer")),
				need("service", cmd.Get("serviceName")), need("group", cmd.Get("serviceGroupName")))
		case g == "lb metricTable" && verb == "add":
			made["table "+strings.ToLower(cmd.Get("metricTable"))] = true
		case g == "lb metricTable":
			errs = append(errs, need("table", cmd.Get("metricTable")))
		case g == "lb monitor" && verb == "add":
			errs = append(errs, need("table", cmd.Get("metricTable")))
			made["monitor "+strings.ToLower(cmd.Get("monitorName"))] = true
		case g == "lb monitor":
			errs = append(errs, need("monitor", cmd.Get("monitorName")), need("table", cmd.Get("metricTable")), need("service", cmd.Get("serviceName")))
		}
		if v := cmd.Arg("backupParentlist"); v != nil {
			for _, p := range v.Values {
				errs = append(errs, need("site", p))
			}
		}
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// TestEveryChangeWritesWhatItMeans applies each mutating command (and all
// of them in a row) to a configuration loaded from a file, then checks
// the written file as an appliance would read it.
func TestEveryChangeWritesWhatItMeans(t *testing.T) {
	base, _, _, err := Load("t.conf", strings.NewReader(cowBase))
	if err != nil {
		t.Fatal(err)
	}
	all := base
	for _, line := range everyChange {
		n, _, _, err := base.Change("api", line)
		if err != nil {
			continue // refused by Build (rm server still used): nothing to write
		}
		t.Run(line, func(t *testing.T) { checkWritten(t, n, n.String()) })
		if next, _, _, err := all.Change("api", line); err == nil {
			all = next
		}
	}
	t.Run("all in a row", func(t *testing.T) { checkWritten(t, all, all.String()) })
}

// TestEmptyFeatureName: `enable ns feature ""` (found by FuzzConfig) adds
// no feature, so the written form stays a command that parses.
func TestEmptyFeatureName(t *testing.T) {
	c, _, _, err := Load("f.conf", strings.NewReader("enable ns feature \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Features) != 0 {
		t.Fatalf("features %q", c.Features)
	}
	if got := c.Canonical(); got != Header+"\n" {
		t.Fatalf("canonical form %q", got)
	}
}

// TestFeatureNameNotUTF8: a feature name with bytes that are not UTF-8
// (found by FuzzConfig) is upper-cased byte for byte: strings.ToUpper
// turned each such byte into U+FFFD (three bytes), so 3,000 of them
// were written as a value over the 8,191-character limit that no longer
// parsed.
func TestFeatureNameNotUTF8(t *testing.T) {
	name := "lb" + strings.Repeat("\xfe", 3000)
	c, _, _, err := Load("f.conf", strings.NewReader("enable ns feature \""+name+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "LB" + strings.Repeat("\xfe", 3000); len(c.Features) != 1 || c.Features[0] != want {
		t.Fatalf("features %q", c.Features)
	}
	if _, _, _, err := Load("out.conf", strings.NewReader(c.String())); err != nil {
		t.Fatalf("written form does not load: %v", err)
	}
}
