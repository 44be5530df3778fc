package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nserr"
)

// TestApplianceLinesLoad: lines that saved appliance files contain (13.1
// and 14.1 saves, Gateway boxes) load, are written back as they were, and
// mean what they mean on the appliance. Each was an error before.
func TestApplianceLinesLoad(t *testing.T) {
	cases := []struct {
		name  string
		lines string
		check func(t *testing.T, c *Config, s *Snapshot)
		warn  string // a warning that must be given ("" none)
	}{
		{
			name: "built-in services are set, never added",
			lines: "set service nshttpd-gui-127.0.0.1-80 -cip ENABLED\nset service nshttpd-vpn-127.0.0.1-81 -cip ENABLED\n" +
				"set service nshttps-127.0.0.1-443 -cip ENABLED\nset service nshttps-::1l-443 -cip ENABLED\n" +
				"disable service nsrpcs-10.0.1.53-3008\n",
			check: func(t *testing.T, c *Config, _ *Snapshot) {
				s, ok := c.AppServices.Get("nshttpd-gui-127.0.0.1-80")
				if !ok || !s.Builtin || s.Type != "HTTP" || s.Port != 80 || s.Target != "127.0.0.1" {
					t.Errorf("nshttpd-gui: %+v", s)
				}
				if s, _ := c.AppServices.Get("nshttps-::1l-443"); s == nil || s.Target != "::1" || s.Type != "SSL" {
					t.Errorf("nshttps on ::1: %+v", s)
				}
				if s, _ := c.AppServices.Get("nsrpcs-10.0.1.53-3008"); s == nil || s.Args.Get("state") != "DISABLED" {
					t.Errorf("nsrpcs: %+v", s)
				}
			},
		},
		{
			name: "built-in monitors, as 12.0, 13.1 and 14.1 write them",
			lines: "set lb monitor ldns-dns LDNS-DNS -query . -queryType Address -deviation 0 -interval 6 -resptimeout 3 -downTime 20\n" +
				"set lb monitor stasecure CITRIX-STA-SERVICE -deviation 0 -interval 2 MIN -resptimeout 4 -downTime 5\n" +
				"set lb monitor sta CITRIX-STA-SERVICE -interval 2 MIN\n" +
				"set lb monitor http2direct HTTP2 -deviation 0 -interval 5 -resptimeout 2 -downTime 30 -grpcStatusCode 12\n" +
				"set lb monitor http2ssl HTTP2 -deviation 0 -interval 5 -resptimeout 2 -downTime 30 -grpcStatusCode 12\n" +
				"set lb monitor xdm CITRIX-XDM -userName Administrator -password 42c993cc3478b894 -encrypted -encryptmethod ENCMTHD_4 -kek -suffix 2025_11_06_18_57_25 -deviation 0 -interval 5 -resptimeout 2 -downTime 30 -sitePath \"/zdm\"\n" +
				"set lb monitor xnc CITRIX-XNC-ECV -userName user1 -password 153f4718c496 -encrypted -encryptmethod ENCMTHD_4 -kek -suffix 2025_11_06_18_57_25 -deviation 0 -interval 5 -resptimeout 2 -downTime 30\n" +
				"set lb monitor ping PING -LRTM DISABLED -interval 1 MIN\n" +
				"add gslb service gs 192.0.2.9 SSL 443 -siteName s1\nbind gslb service gs -monitorName https\n",
			check: func(t *testing.T, _ *Config, s *Snapshot) {
				if m := s.Monitors["stasecure"]; m == nil || m.Interval.String() != "2m0s" || !m.Secure || m.Type != "CITRIX-STA-SERVICE" {
					t.Errorf("stasecure: %+v", m)
				}
				if m := s.Monitors["ping"]; m == nil || m.Interval.String() != "1m0s" || m.LRTM {
					t.Errorf("ping: %+v", m)
				}
				svc := s.Service("gs")
				if len(svc.Monitors) != 1 || svc.Monitors[0].Monitor.Name != "https" || !svc.Monitors[0].Monitor.Secure || svc.Monitors[0].Monitor.Type != "HTTP" {
					t.Errorf("the built-in https monitor: %+v", svc.Monitors)
				}
				for _, name := range []string{"tcp-default", "ping-default", "tcps", "https-ecv", "mqtt-tls", "quic-default", "dtls"} {
					if s.Monitors[name] == nil {
						t.Errorf("built-in monitor %s missing", name)
					}
				}
			},
		},
		{
			name:  "set gslb parameter -incarnation (13.x writes it on every save)",
			lines: "set gslb parameter -incarnation 278\n",
			check: func(t *testing.T, c *Config, _ *Snapshot) {
				if c.Parameter.Get("incarnation") != "278" {
					t.Errorf("incarnation %q", c.Parameter.Get("incarnation"))
				}
			},
		},
		{
			name:  "-recv is a string, not a pattern",
			lines: "add lb monitor tcp_redis TCP-ECV -send \"PING\\r\\n\" -recv \"+PONG\" -destPort 6379\nadd lb monitor couch HTTP-ECV -send \"GET /\" -recv \"\\\"couchdb\\\":\\\"Welcome\\\"\"\n",
			check: func(t *testing.T, _ *Config, s *Snapshot) {
				if got := s.Monitors["tcp_redis"].Recv; got != "+PONG" {
					t.Errorf("recv %q", got)
				}
				if got := s.Monitors["tcp_redis"].Send; got != "PING\r\n" {
					t.Errorf("send %q", got)
				}
				if got := s.Monitors["couch"].Recv; got != `"couchdb":"Welcome"` {
					t.Errorf("recv %q", got)
				}
			},
		},
		{
			name: "-respCode follows the monitor type",
			lines: "add lb monitor mfa RADIUS -respCode 2-3 -userName probe -password 0f1e2d -encrypted -encryptmethod ENCMTHD_3 -radKey 9a8b -encrypted -encryptmethod ENCMTHD_3 -resptimeout 4\n" +
				"add lb monitor dnsmon DNS -query example.com -queryType Address -respCode 0 3\n" +
				"add lb monitor sip SIP-UDP -respCode 200 401 407\n",
			check: func(t *testing.T, _ *Config, s *Snapshot) {
				if got := fmt.Sprint(s.Monitors["mfa"].RespCodes); got != "[[2 3]]" {
					t.Errorf("RADIUS codes %s", got)
				}
				if got := fmt.Sprint(s.Monitors["dnsmon"].RespCodes); got != "[[0 0] [3 3]]" {
					t.Errorf("DNS codes %s", got)
				}
			},
		},
		{
			name:  "SSL services bound to an HTTP vserver (a real 10.1 save)",
			lines: "add gslb service ctx1 192.0.2.20 SSL 443 -siteName s1\nbind gslb vserver gv -serviceName ctx1\n",
			check: func(t *testing.T, _ *Config, s *Snapshot) {
				if v := s.VServer("gv"); len(v.Bindings) != 1 {
					t.Errorf("bindings %+v", v.Bindings)
				}
			},
			warn: `service "ctx1" is SSL but the vserver is HTTP: accepted`,
		},
		{
			name: "more than 25 addresses for a name",
			lines: func() string {
				var b strings.Builder
				b.WriteString("add dns soaRec big.test -originServer ns1.big.test -contact h.big.test\n")
				for i := range 30 {
					fmt.Fprintf(&b, "add dns addRec www.big.test 192.0.2.%d\n", i+1)
				}
				return b.String()
			}(),
			check: func(t *testing.T, _ *Config, s *Snapshot) {
				n := 0
				for _, z := range s.Zones {
					for _, r := range z.Records {
						if r.Type == "A" && r.Name == "www.big.test" {
							n++
						}
					}
				}
				if n != 30 {
					t.Errorf("%d A records served, want 30", n)
				}
			},
			warn: "more than 25 addresses for one name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := base + tc.lines
			c, s, _, err := Load("ns.conf", strings.NewReader(src))
			if err != nil {
				t.Fatalf("does not load: %v", err)
			}
			tc.check(t, c, s)
			var warnings []string
			for _, w := range s.Warnings {
				warnings = append(warnings, w.Error())
			}
			if tc.warn != "" && !strings.Contains(strings.Join(warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", warnings, tc.warn)
			}
			if got := c.String(); got != src {
				t.Errorf("written back:\n%s\nwant:\n%s", got, src)
			}
		})
	}
}

// TestRespCodeOutOfRange: -respCode is checked against the codes of the
// monitor's type.
func TestRespCodeOutOfRange(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"add lb monitor m HTTP -respCode 99", `-respCode "99" is not a HTTP status code or range of them (100-599)`},
		{"add lb monitor m RADIUS -respCode 2-300", `-respCode "2-300" is not a RADIUS code or range of them (1-255)`},
		{"add lb monitor m DNS -query x.test -respCode 5000", `-respCode "5000" is not a DNS response code or range of them (0-4095)`},
	} {
		_, _, msgs := load(t, tc.line+"\n")
		if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
			t.Errorf("%s: errors %q lack %q", tc.line, msgs, tc.want)
		}
	}
}

// TestServiceTypePairs: a pair the appliance takes is a warning (1820 as
// its code), a service of the other transport an error.
func TestServiceTypePairs(t *testing.T) {
	for _, tc := range []struct {
		svc, vs string
		err     bool
	}{
		{"SSL", "HTTP", false}, {"HTTP", "SSL", false}, {"SSL_BRIDGE", "TCP", false}, {"TCP", "SSL_TCP", false},
		{"RDP", "TCP", false}, {"SIP_UDP", "UDP", false}, {"UDP", "ANY", false},
		{"UDP", "HTTP", true}, {"TCP", "UDP", true}, {"RADIUS", "SSL", true},
	} {
		conf := fmt.Sprintf("add gslb site s1 10.0.0.1\nadd gslb service s 192.0.2.1 %s 80 -siteName s1\nadd gslb vserver v %s\nbind gslb vserver v -serviceName s\n", tc.svc, tc.vs)
		_, s, msgs := load(t, conf)
		switch {
		case tc.err && len(msgs) == 0:
			t.Errorf("%s on %s: accepted, want an error", tc.svc, tc.vs)
		case !tc.err && len(msgs) > 0:
			t.Errorf("%s on %s: %v", tc.svc, tc.vs, msgs)
		case !tc.err && tc.svc != tc.vs && tc.vs != "ANY":
			if len(s.Warnings) != 1 || s.Warnings[0].Code != nserr.TypeMismatch {
				t.Errorf("%s on %s: warnings %v", tc.svc, tc.vs, s.Warnings)
			}
		}
	}
}
