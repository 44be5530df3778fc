package shell

import (
	"encoding/json"
	"testing"

	"github.com/gslbd/gslbd/internal/nsconf"
)

// TestTranslate: each CLI command becomes the NITRO request the
// appliance's documentation gives for it (docs §4.3, §4.8).
func TestTranslate(t *testing.T) {
	for _, c := range []struct{ line, method, path, body string }{
		{"add gslb vserver gv HTTP -lbMethod ROUNDROBIN", "POST", "config/gslbvserver", `{"gslbvserver":{"lbmethod":"ROUNDROBIN","name":"gv","servicetype":"HTTP"}}`},
		{"add gslb service s1 10.0.0.10 HTTP 80 -siteName site1", "POST", "config/gslbservice", `{"gslbservice":{"ip":"10.0.0.10","port":80,"servicename":"s1","servicetype":"HTTP","sitename":"site1"}}`},
		{"set gslb vserver gv -lbMethod LEASTCONNECTION", "PUT", "config/gslbvserver/gv", `{"gslbvserver":{"lbmethod":"LEASTCONNECTION","name":"gv"}}`},
		{"set gslb parameter -ldnsEntryTimeout 60", "PUT", "config/gslbparameter", `{"gslbparameter":{"ldnsentrytimeout":60}}`},
		{"unset gslb vserver gv -lbMethod", "POST", "config/gslbvserver?action=unset", `{"gslbvserver":{"lbmethod":true,"name":"gv"}}`},
		{"disable gslb vserver gv", "POST", "config/gslbvserver?action=disable", `{"gslbvserver":{"name":"gv"}}`},
		{"rename gslb vserver gv gw", "POST", "config/gslbvserver?action=rename", `{"gslbvserver":{"name":"gv","newname":"gw"}}`},
		{"rm gslb vserver gv", "DELETE", "config/gslbvserver/gv", ``},
		{"rm lb monitor m1 HTTP", "DELETE", "config/lbmonitor/m1?args=type%3AHTTP", ``},
		{"bind gslb vserver gv -serviceName s1 -weight 20", "POST", "config/gslbvserver_gslbservice_binding", `{"gslbvserver_gslbservice_binding":{"name":"gv","servicename":"s1","weight":20}}`},
		{"bind gslb vserver gv -domainName www.example.com -TTL 5", "POST", "config/gslbvserver_domain_binding", `{"gslbvserver_domain_binding":{"domainname":"www.example.com","name":"gv","ttl":5}}`},
		{"unbind gslb vserver gv -serviceName s1", "DELETE", "config/gslbvserver_gslbservice_binding/gv?args=servicename%3As1", ``},
		{"unbind gslb vserver gv -domainName www.example.com -backupIP", "DELETE", "config/gslbvserver_domain_binding/gv?args=domainname%3Awww.example.com%2Cbackupipflag%3Atrue", ``},
		{"bind gslb service s1 -monitorName m1 -weight 2", "POST", "config/gslbservice_lbmonitor_binding", `{"gslbservice_lbmonitor_binding":{"monitor_name":"m1","servicename":"s1","weight":2}}`},
		{"bind gslb serviceGroup sg 10.0.0.21 80 -weight 5", "POST", "config/gslbservicegroup_gslbservicegroupmember_binding", `{"gslbservicegroup_gslbservicegroupmember_binding":{"ip":"10.0.0.21","port":80,"servicegroupname":"sg","weight":5}}`},
		{"add gslb vserver \"web 1\" HTTP", "POST", "config/gslbvserver", `{"gslbvserver":{"name":"web 1","servicetype":"HTTP"}}`},
		{"rm gslb vserver \"web 1\"", "DELETE", "config/gslbvserver/web%201", ``},
	} {
		cmd, err := nsconf.ParseLine(c.line)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		r, err := translate(cmd)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		body := ""
		if r.body != nil {
			b, _ := json.Marshal(r.body)
			body = string(b)
		}
		if r.method != c.method || r.path != c.path || body != c.body {
			t.Errorf("%s:\n got %s %s %s\nwant %s %s %s", c.line, r.method, r.path, body, c.method, c.path, c.body)
		}
	}
}
