package config

import (
	"fmt"
	"strings"
	"testing"
)

// lbBase is a 13.1-style appliance file of one data centre: servers,
// services and a service group behind LB vservers, a CS vserver in front
// of two of them, a Gateway VPN vserver, monitors bound to the services
// the way the appliance writes them (bind service, the legacy bind lb
// monitor, bind serviceGroup -monitorName), and GSLB services on the VIPs.
const lbBase = `#NS13.1 Build 37.38
enable ns feature LB CS SSL GSLB SSLVPN
add ns ip 10.0.1.60 255.255.255.0 -type SNIP -vServer DISABLED
add server web01 10.0.2.11
add server web02 10.0.2.12
add server sf01 10.0.3.21
add server sf02 10.0.3.22
add service svc_web01 web01 HTTP 80 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add service svc_web02 web02 HTTP 80 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add service svc_dns 10.0.5.53 DNS 53 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport NO -sp OFF -cltTimeout 120 -svrTimeout 120 -CKA NO -TCPB NO -CMP NO
add service svc_off 10.0.2.13 HTTP 80 -gslb NONE -maxClient 0 -state DISABLED
add serviceGroup sg_storefront SSL -maxClient 0 -maxReq 0 -cip ENABLED X-Forwarded-For -usip NO -useproxyport YES -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add lb vserver lb_web HTTP 10.0.2.100 80 -persistenceType NONE -cltTimeout 180
add lb vserver lb_sf SSL 0.0.0.0 0 -persistenceType COOKIEINSERT -timeout 0 -cltTimeout 180
add lb vserver lb_dns DNS 10.0.5.100 53 -persistenceType NONE -cltTimeout 120
add lb vserver lb_down HTTP 10.0.2.101 80 -persistenceType NONE -cltTimeout 180 -state DISABLED
add lb vserver lb_empty HTTP 10.0.2.102 80 -persistenceType NONE -cltTimeout 180
add cs vserver cs_sf SSL 10.0.3.100 443 -cltTimeout 180 -Listenpolicy None
add vpn vserver gw_vpn SSL 10.0.4.10 443 -icaOnly ON -Listenpolicy NONE -tcpProfileName nstcp_default_XA_XD_profile
add cs action cs_act_sf -targetLBVserver lb_sf
add cs policy cs_pol_sf -rule "HTTP.REQ.URL.PATH.STARTSWITH(\"/Citrix/\")" -action cs_act_sf
add gslb site dc1 10.0.1.60 -publicIP 203.0.113.60
add gslb site dc2 10.100.1.60 -publicIP 198.51.100.60
bind lb vserver lb_web svc_web01
bind lb vserver lb_web svc_web02
bind lb vserver lb_web svc_off
bind lb vserver lb_sf sg_storefront
bind lb vserver lb_dns svc_dns
bind cs vserver cs_sf -policyName cs_pol_sf -priority 100
add gslb service gs_web 10.0.2.100 HTTP 80 -publicIP 203.0.113.100 -publicPort 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_sf 10.0.3.100 SSL 443 -publicIP 203.0.113.101 -publicPort 443 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_gw 10.0.4.10 SSL 443 -publicIP 203.0.113.10 -publicPort 443 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_dns 10.0.5.100 UDP 53 -maxClient 0 -siteName dc1 -cltTimeout 120 -svrTimeout 120 -downStateFlush DISABLED
add gslb service gs_down 10.0.2.101 HTTP 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_empty 10.0.2.102 HTTP 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_plain 10.0.6.10 HTTP 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_udp 10.0.6.11 UDP 5060 -maxClient 0 -siteName dc1 -cltTimeout 120 -svrTimeout 120 -downStateFlush DISABLED
add gslb service gs_nomon 10.0.6.12 HTTP 80 -maxClient 0 -healthMonitor NO -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_remote 10.100.2.100 HTTP 80 -publicIP 198.51.100.100 -publicPort 80 -maxClient 0 -siteName dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_mon 10.0.6.13 HTTP 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
set lb monitor stasecure CITRIX-STA-SERVICE -deviation 0 -interval 2 MIN -resptimeout 4 -downTime 5
add lb monitor mon_web HTTP -respCode 200 -httpRequest "GET /health" -LRTM DISABLED
add lb monitor mon_sf HTTP-ECV -send "GET /Citrix/Store/discovery" -recv Citrix -LRTM DISABLED -secure YES
bind service svc_web01 -monitorName mon_web
bind lb monitor mon_web svc_web02
bind serviceGroup sg_storefront sf01 443
bind serviceGroup sg_storefront sf02 443 -state DISABLED
bind serviceGroup sg_storefront -monitorName mon_sf
bind gslb service gs_mon -monitorName mon_web
`

// TestHealthOfMigratedServices: a local GSLB service without a monitor
// follows the LB vserver at its address (through a CS vserver too), each
// of that vserver's services probed with its own monitors or its default
// one; a Gateway VIP and a service with nothing behind it get the default
// monitor of their type.
func TestHealthOfMigratedServices(t *testing.T) {
	c, s, _, err := Load("ns.conf", strings.NewReader(lbBase))
	if err != nil {
		t.Fatal(err)
	}
	backends := func(svc string) string {
		var out []string
		for _, b := range s.Service(svc).Backends {
			var mons []string
			for _, m := range b.Monitors {
				mons = append(mons, m.Monitor.Name)
			}
			flags := ""
			if b.Disabled {
				flags = " disabled"
			}
			out = append(out, fmt.Sprintf("%s %s [%s]%s", b.Name, b.Addr, strings.Join(mons, " "), flags))
		}
		return strings.Join(out, "; ")
	}
	monitors := func(svc string) string {
		var out []string
		for _, m := range s.Service(svc).Monitors {
			out = append(out, m.Monitor.Name)
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		svc      string
		health   Health
		backends string
		monitors string
		note     string
	}{
		{"gs_web", HealthVServer, "svc_web01 10.0.2.11:80 [mon_web]; svc_web02 10.0.2.12:80 [mon_web]; svc_off 10.0.2.13:80 [tcp-default] disabled", "",
			"lb vserver lb_web: UP while one of its 3 services is UP"},
		{"gs_sf", HealthVServer, "sg_storefront:sf01:443 10.0.3.21:443 [mon_sf]; sg_storefront:sf02:443 10.0.3.22:443 [mon_sf] disabled", "",
			"cs vserver cs_sf: UP while one of its 2 services is UP"},
		{"gs_dns", HealthVServer, "svc_dns 10.0.5.53:53 [ping-default]", "", "lb vserver lb_dns"},
		{"gs_down", HealthVServer, "", "", "lb vserver lb_down is disabled"},
		{"gs_empty", HealthVServer, "", "", "lb vserver lb_empty: UP while one of its 0 services is UP"},
		{"gs_gw", HealthDefault, "", "tcp-default", "vpn vserver gw_vpn: probed with the default monitor tcp-default"},
		{"gs_plain", HealthDefault, "", "tcp-default", "no monitor bound: the default monitor tcp-default"},
		{"gs_udp", HealthDefault, "", "ping-default", "no monitor bound: the default monitor ping-default"},
		{"gs_nomon", HealthNone, "", "", "-healthMonitor NO"},
		{"gs_remote", HealthRemote, "", "", "a service of another site"},
		{"gs_mon", HealthMonitors, "", "mon_web", ""},
	}
	for _, tc := range cases {
		info := s.Service(tc.svc)
		if info.Health != tc.health || backends(tc.svc) != tc.backends || monitors(tc.svc) != tc.monitors || !strings.Contains(info.HealthNote, tc.note) {
			t.Errorf("%s: got %v %q, backends %q, monitors %q; want %v %q, backends %q, monitors %q", tc.svc,
				info.Health, info.HealthNote, backends(tc.svc), monitors(tc.svc), tc.health, tc.note, tc.backends, tc.monitors)
		}
	}
	if got := c.String(); got != lbBase {
		t.Errorf("written back:\n%s", got)
	}
	// Switched off for the whole configuration: nothing is probed by default.
	_, s2, _, err := Load("ns.conf", strings.NewReader(lbBase+"set gslb parameter -defaultMonitors DISABLED\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"gs_web", "gs_plain"} {
		if info := s2.Service(svc); info.Health != HealthOff || len(info.Monitors)+len(info.Backends) != 0 {
			t.Errorf("%s with default monitors off: %v %v %v", svc, info.Health, info.Monitors, info.Backends)
		}
	}
}

// TestBackupVServerChain: the services of an LB vserver's -backupVServer
// chain (written on the add line or on a later set line, as appliances
// save it) are the GSLB service's backends too, marked Backup, each once
// (a service bound to the vserver and its backup counts as the vserver's);
// a loop in the chain ends.
func TestBackupVServerChain(t *testing.T) {
	conf := `add service s1 10.0.9.1 HTTP 80 -gslb NONE
add service s2 10.0.9.2 HTTP 80 -gslb NONE
add service s3 10.0.9.3 HTTP 80 -gslb NONE
add lb vserver lb_b2 HTTP 0.0.0.0 0 -persistenceType NONE -backupVServer lb_main
add lb vserver lb_b1 HTTP 0.0.0.0 0 -persistenceType NONE -backupVServer lb_b2
add lb vserver lb_main HTTP 10.0.9.100 80 -persistenceType NONE
bind lb vserver lb_main s1
bind lb vserver lb_b1 s2
bind lb vserver lb_b1 s1
bind lb vserver lb_b2 s3
bind lb vserver lb_b2 s2
set lb vserver lb_main -backupVServer lb_b1
add gslb site dc1 LOCAL 10.0.0.1
add gslb service gs 10.0.9.100 HTTP 80 -siteName dc1
`
	_, s, _, err := Load("ns.conf", strings.NewReader(conf))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range s.Service("gs").Backends {
		got = append(got, fmt.Sprintf("%s backup=%v", b.Name, b.Backup))
	}
	if want := "s1 backup=false, s2 backup=true, s3 backup=true"; strings.Join(got, ", ") != want {
		t.Errorf("backends %q, want %q", strings.Join(got, ", "), want)
	}
	if n := s.Service("gs").HealthNote; !strings.Contains(n, "one of its 1 services") {
		t.Errorf("note %q counts the backups", n)
	}
}
