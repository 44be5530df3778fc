package nitro

import (
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/events"
)

// TestLocationResources: the location database's resources as a NITRO
// client drives them: custom ranges added, listed by ipfrom and deleted
// with ?args=ipto:, the parameter set and unset by PUT and ?action=unset,
// a location file added and removed without a key; each change is the
// CLI line it means in the saved configuration.
func TestLocationResources(t *testing.T) {
	s, _ := testServer(t)
	call(t, s, "POST", "/nitro/v1/config/location", `{"location":{"ipfrom":"10.0.0.0","ipto":"10.0.255.255","preferredlocation":"AS.JP.Tokyo.*.*.*","longitude":139.69,"latitude":35}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/location", `{"location":[{"ipfrom":"2001:db8::","ipto":"2001:db8::ffff","preferredlocation":"EU.DE"},{"ipfrom":"10.0.0.0","ipto":"10.0.0.255","preferredlocation":"AS.JP.Osaka"}]}`, 201)
	got := list(t, call(t, s, "GET", "/nitro/v1/config/location/10.0.0.0", "", 200), "location")
	if len(got) != 2 || got[0]["ipto"] != "10.0.255.255" || got[0]["preferredlocation"] != "AS.JP.Tokyo.*.*.*" ||
		got[0]["longitude"] != 139.69 || got[0]["latitude"] != float64(35) || got[1]["preferredlocation"] != "AS.JP.Osaka" {
		t.Errorf("GET location/10.0.0.0: %v", got)
	}
	if all := list(t, call(t, s, "GET", "/nitro/v1/config/location", "", 200), "location"); len(all) != 3 {
		t.Errorf("GET location: %v", all)
	}
	call(t, s, "POST", "/nitro/v1/config/location", `{"location":{"ipfrom":"10.0.0.0","ipto":"10.0.255.255","preferredlocation":"x"}}`, 409)
	call(t, s, "POST", "/nitro/v1/config/location", `{"location":{"ipfrom":"10.1.0.0","ipto":"::1","preferredlocation":"x"}}`, 599)
	call(t, s, "DELETE", "/nitro/v1/config/location/10.0.0.0?args=ipto:10.0.0.255", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/location/2001:db8::?args=ipto:2001:db8::ffff", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/location/10.9.0.0?args=ipto:10.9.0.255", "", 404)

	call(t, s, "PUT", "/nitro/v1/config/locationparameter", `{"locationparameter":{"context":"custom","q1label":"Region"}}`, 200)
	p := list(t, call(t, s, "GET", "/nitro/v1/config/locationparameter", "", 200), "locationparameter")
	if len(p) != 1 || p[0]["context"] != "custom" || p[0]["q1label"] != "Region" || p[0]["matchwildcardtoany"] != "NO" {
		t.Errorf("GET locationparameter: %v", p)
	}
	call(t, s, "POST", "/nitro/v1/config/locationparameter?action=unset", `{"locationparameter":{"context":true}}`, 200)

	// dns parameter: its rate limits through NITRO, written as set dns parameter.
	call(t, s, "PUT", "/nitro/v1/config/dnsparameter", `{"dnsparameter":{"rrlresponsespersecond":20,"rrlexempt":["10.0.0.0/8"],"nxdomainratelimitthreshold":500}}`, 200)
	dp := list(t, call(t, s, "GET", "/nitro/v1/config/dnsparameter", "", 200), "dnsparameter")
	if len(dp) != 1 || dp[0]["rrlresponsespersecond"] != "20" || dp[0]["rrlslip"] != "2" || dp[0]["nxdomainratelimitthreshold"] != "500" {
		t.Errorf("GET dnsparameter: %v", dp)
	}
	if conf := s.backend.Config().String(); !strings.Contains(conf, "set dns parameter -NXDOMAINRateLimitThreshold 500 -rrlResponsesPerSecond 20 -rrlExempt 10.0.0.0/8\n") &&
		!strings.Contains(conf, "set dns parameter -rrlResponsesPerSecond 20 -rrlExempt 10.0.0.0/8 -NXDOMAINRateLimitThreshold 500\n") {
		t.Errorf("no set dns parameter line:\n%s", conf)
	}
	call(t, s, "PUT", "/nitro/v1/config/dnsparameter", `{"dnsparameter":{"rrlslip":11}}`, 599)

	call(t, s, "POST", "/nitro/v1/config/locationfile", `{"locationfile":{"Locationfile":"/var/netscaler/locdb/geo.csv","format":"ip-country"}}`, 201)
	f := list(t, call(t, s, "GET", "/nitro/v1/config/locationfile", "", 200), "locationfile")
	if len(f) != 1 || f[0]["Locationfile"] != "/var/netscaler/locdb/geo.csv" || f[0]["format"] != "ip-country" {
		t.Errorf("GET locationfile: %v", f)
	}
	call(t, s, "POST", "/nitro/v1/config/locationfile6", `{"locationfile6":{"Locationfile":"/var/netscaler/locdb/geo6.csv"}}`, 201)
	conf := s.backend.Config().String()
	for _, want := range []string{"add location 10.0.0.0 10.0.255.255 AS.JP.Tokyo.*.*.* -longitude 139.69 -latitude 35\n",
		"set locationParameter -q1label Region\n", "add locationFile /var/netscaler/locdb/geo.csv -format ip-country\n",
		"add locationFile6 /var/netscaler/locdb/geo6.csv\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %q:\n%s", want, conf)
		}
	}
	call(t, s, "DELETE", "/nitro/v1/config/locationfile", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/locationfile", "", 404)
	if conf := s.backend.Config().String(); strings.Contains(conf, "add locationFile ") || !strings.Contains(conf, "add locationFile6 ") {
		t.Errorf("after DELETE locationfile:\n%s", conf)
	}
	if got := call(t, s, "GET", "/nitro/v1/config/locationfile", "", 200); len(list(t, got, "locationfile")) != 0 {
		t.Errorf("GET locationfile after DELETE: %v", got)
	}
}

// TestDNSViewResources: split horizon through NITRO as a script drives
// it: a view, an action, a policy bound globally (deleted with
// ?args=policyname:,type: and no key), a service's view address; each
// object reads back with its fields and the configuration holds the CLI
// lines they mean.
func TestDNSViewResources(t *testing.T) {
	s, _ := testServer(t)
	s.backend.Change(events.Origin{Via: "seed"}, seedText)
	call(t, s, "POST", "/nitro/v1/config/dnsview", `{"dnsview":{"viewname":"inside"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/dnsaction", `{"dnsaction":{"actionname":"act_in","actiontype":"ViewName","viewname":"inside"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/dnspolicy", `{"dnspolicy":{"name":"p_in","rule":"CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)","actionname":"act_in"}}`, 201)
	call(t, s, "POST", "/nitro/v1/config/dnspolicy", `{"dnspolicy":{"name":"p_bad","rule":"HTTP.REQ.URL.EQ(\"/\")","viewname":"inside"}}`, 201)
	call(t, s, "PUT", "/nitro/v1/config/dnsglobal_dnspolicy_binding", `{"dnsglobal_dnspolicy_binding":{"policyname":"p_in","priority":100,"gotopriorityexpression":"END","type":"REQ_DEFAULT"}}`, 200)
	// Bound, a view policy's rule must be one gslbd evaluates.
	out := call(t, s, "PUT", "/nitro/v1/config/dnsglobal_dnspolicy_binding", `{"dnsglobal_dnspolicy_binding":{"policyname":"p_bad","priority":110}}`, 599)
	if msg, _ := out["message"].(string); !strings.Contains(msg, "HTTP.REQ.URL.EQ: not a function gslbd evaluates") {
		t.Errorf("binding an unsupported rule: %v", out)
	}
	call(t, s, "POST", "/nitro/v1/config/gslbservice_dnsview_binding", `{"gslbservice_dnsview_binding":{"servicename":"a","viewname":"inside","viewip":"10.9.9.9"}}`, 201)
	p := list(t, call(t, s, "GET", "/nitro/v1/config/dnspolicy/p_in", "", 200), "dnspolicy")
	if len(p) != 1 || p[0]["rule"] != "CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)" || p[0]["actionname"] != "act_in" {
		t.Errorf("GET dnspolicy/p_in: %v", p)
	}
	b := list(t, call(t, s, "GET", "/nitro/v1/config/dnsglobal_dnspolicy_binding", "", 200), "dnsglobal_dnspolicy_binding")
	if len(b) != 1 || b[0]["policyname"] != "p_in" || b[0]["priority"] != float64(100) || b[0]["type"] != "REQ_DEFAULT" {
		t.Errorf("GET dnsglobal_dnspolicy_binding: %v", b)
	}
	conf := s.backend.Config().String()
	for _, want := range []string{"add dns view inside\n", "add dns action act_in ViewName -viewName inside\n",
		`add dns policy p_in "CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)" act_in` + "\n", "bind dns global p_in 100 -gotoPriorityExpression END -type REQ_DEFAULT\n",
		"bind gslb service a -viewName inside 10.9.9.9\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %q:\n%s", want, conf)
		}
	}
	call(t, s, "DELETE", "/nitro/v1/config/dnsview/inside", "", 599) // in use
	call(t, s, "DELETE", "/nitro/v1/config/dnsglobal_dnspolicy_binding?args=policyname:p_in,type:REQ_DEFAULT", "", 200)
	call(t, s, "DELETE", "/nitro/v1/config/dnspolicy/p_in", "", 200)
	if conf := s.backend.Config().String(); strings.Contains(conf, "p_in") {
		t.Errorf("after DELETE:\n%s", conf)
	}
}
