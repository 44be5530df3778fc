package config

import (
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/nserr"
)

// viewConf is split horizon as a 13.1 appliance saves it: the views
// after the ADNS service, the action, policies and global bindings in
// the DNS section, the view addresses bound to the GSLB services last.
const viewConf = `#NS13.1 Build 49.15
set ns config -IPAddress 10.0.0.10 -netmask 255.255.255.0
enable ns feature LB GSLB
add service svc_adns 10.0.1.53 ADNS 53 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport NO -sp OFF -cltTimeout 120 -svrTimeout 120 -CKA NO -TCPB NO -CMP NO
add dns view view_internal
add dns view view_lab
add gslb vserver gv HTTP -backupLBMethod ROUNDROBIN -tolerance 0 -appflowLog DISABLED
add gslb site dc1 10.0.1.60 -publicIP 203.0.113.60
add gslb service gs1 10.0.2.10 HTTP 80 -publicIP 203.0.113.10 -publicPort 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
bind gslb vserver gv -serviceName gs1
bind gslb vserver gv -domainName www.example.com -TTL 5
add dns action act_internal ViewName -viewName view_internal
add dns policy pol_internal "CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)" act_internal
add dns policy pol_lab "CLIENT.IP.SRC.IN_SUBNET(10.9.0.0/16) && DNS.REQ.QUESTION.TYPE.EQ(A)" -viewName view_lab
add dns policy pol_cache "CLIENT.IP.SRC.IN_SUBNET(192.168.0.0/16)" dns_default_act_Cachebypass
bind dns global pol_internal 200 -gotoPriorityExpression END -type REQ_DEFAULT
bind dns global pol_lab 100 -gotoPriorityExpression END -type REQ_DEFAULT
bind dns global pol_cache 300 -gotoPriorityExpression END -type REQ_DEFAULT
add dns soaRec example.com -originServer ns1.example.com -contact hostmaster.example.com
bind gslb service gs1 -viewName view_internal 10.0.2.10
bind gslb service gs1 -viewName view_lab 10.0.9.10
`

// TestDNSViewEntities: an appliance's split-horizon configuration loads
// into views, compiled rules in priority order (the cache-bypass policy
// is not a view rule) and per-view service addresses, is written back
// byte for byte, and changes write what they mean.
func TestDNSViewEntities(t *testing.T) {
	c, s, _, err := Load("ns.conf", strings.NewReader(viewConf))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Views, ",") != "view_internal,view_lab" {
		t.Errorf("views %q", s.Views)
	}
	var rules []string
	for _, r := range s.ViewRules {
		rules = append(rules, r.Policy+">"+r.View)
	}
	if got := strings.Join(rules, " "); got != "pol_lab>view_lab pol_internal>view_internal" {
		t.Errorf("rules %s", got)
	}
	gs1 := s.Service("gs1")
	if len(gs1.ViewIPs) != 2 || gs1.ViewIPs[0].View != "view_internal" || gs1.ViewIPs[0].IP.String() != "10.0.2.10" || gs1.ViewIPs[1].IP.String() != "10.0.9.10" {
		t.Errorf("gs1 view addresses %+v", gs1.ViewIPs)
	}
	if got := c.String(); got != viewConf {
		t.Errorf("written back:\n%s\nwant:\n%s", got, viewConf)
	}
	checkWritten(t, c, c.String())
	for _, tc := range []struct{ change, has, hasNot string }{
		{"set dns policy pol_lab -rule \"CLIENT.IP.SRC.IN_SUBNET(10.8.0.0/16)\"", `add dns policy pol_lab "CLIENT.IP.SRC.IN_SUBNET(10.8.0.0/16)" -viewName view_lab`, "10.9.0.0"},
		{"unbind dns global pol_cache", "", "bind dns global pol_cache"},
		{"unbind gslb service gs1 -viewName view_lab\nunbind dns global pol_lab\nrm dns policy pol_lab", "", "view_lab 10.0.9.10"},
		{"add dns view view_guest\nadd dns policy pol_guest \"CLIENT.IPV6.SRC.IN_SUBNET(2001:db8::/32)\" -viewName view_guest\nbind dns global pol_guest 50 -type REQ_OVERRIDE",
			"add dns view view_guest\n", ""},
	} {
		expectWritten(t, c, tc.change, tc.has, tc.hasNot)
	}
}

// TestDNSViewErrors: what NetScaler refuses is refused, with the line
// and why; an expression gslbd cannot evaluate in a view policy is a
// check-time error naming the policy and the column.
func TestDNSViewErrors(t *testing.T) {
	c, _, _, err := Load("ns.conf", strings.NewReader(viewConf))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change string
		code   nserr.Code
		msg    string
	}{
		{"add dns view view_lab", nserr.Exist, "already exists"},
		{"rm dns view view_lab", nserr.Inval, `used by dns policy "pol_lab"`},
		{"rm dns view view_internal", nserr.Inval, `used by dns action "act_internal"`},
		{"rm dns view nosuch", nserr.NoEnt, "no such view"},
		{"bind gslb service gs1 -viewName nosuch 10.0.0.1", nserr.NoEnt, `no such dns view "nosuch"`},
		{"add dns policy p2 true -viewName nosuch", nserr.NoEnt, `no such dns view "nosuch"`},
		{"add dns policy p2 true act_internal -viewName view_lab", nserr.ArgsMutex, "mutually exclusive"},
		{"add dns policy p2 true nosuch_act", nserr.NoEnt, `no such dns action "nosuch_act"`},
		{"add dns action a2 ViewName", nserr.ArgMissing, "needs -viewName"},
		{"rm dns action act_internal", nserr.Inval, `used by dns policy "pol_internal"`},
		{"rm dns policy pol_lab", nserr.Inval, "bound to dns global"},
		{"bind dns global pol_lab 150", nserr.Exist, "already bound"},
		{"bind dns global nosuch 150", nserr.NoEnt, "no such dns policy"},
		{"add dns policy p2 true -viewName view_lab\nbind dns global p2 100", nserr.Exist, "priority 100 is taken"},
		{"unbind dns global pol_lab -type REQ_OVERRIDE", nserr.NoEnt, "not bound at REQ_OVERRIDE"},
		{"set dns policy pol_lab -rule \"CLIENT.IP.SRC.MATCHES_LOCATION(\\\"NA.US\\\")\"", nserr.ArgValBad, `dns policy "pol_lab": rule column 1: CLIENT.IP.SRC.MATCHES_LOCATION: gslbd evaluates IN_SUBNET and EQ`},
		{"set dns policy pol_lab -rule \"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/99)\"", nserr.ArgValBad, "column 25"},
		{"add dns policy p2 true -viewName view_lab\nbind dns global p2 150 -gotoPriorityExpression \"q.x\"", nserr.ArgValBad, "END and NEXT"},
		{"bind gslb service gs1 -viewName view_lab 2001:db8::1", nserr.MixedFamily, "different families"},
	} {
		expectRefused(t, c, tc.change, tc.code, tc.msg)
	}
	// A policy with another action is not compiled: an expression gslbd
	// does not evaluate is kept, not refused.
	if _, _, _, err := c.Change("api", "add dns policy p3 \"HTTP.REQ.URL.EQ(\\\"/\\\")\" dns_default_act_Drop\nbind dns global p3 400"); err != nil {
		t.Errorf("a drop policy with an HTTP expression: %v", err)
	}
}
