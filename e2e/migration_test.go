package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/health"
)

// migratedConf is a DC1 appliance file as saved (13.1): the GSLB services
// have no monitor (the appliance takes their state from the local LB
// vserver), one of them is an LB vserver's VIP with two services behind
// it, one a plain address; the DC2 service is remote. The addresses are
// real listeners of the test; the monitors' timings are short so the test
// is quick (tcp-default included: gslbd lets a built-in monitor be set).
func migratedConf(web1, web2, plain *backend) string {
	return fmt.Sprintf(`#NS13.1 Build 37.38
# Last modified by `+"`save config`"+`, Mon May  3 12:34:56 2025
set ns config -IPAddress 127.0.0.10 -netmask 255.0.0.0
enable ns feature LB GSLB
add ns ip 127.0.0.1 255.0.0.0 -type SNIP -vServer DISABLED
add server web01 %s
add server web02 %s
add service svc_web01 web01 HTTP %s -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add service svc_web02 web02 HTTP %s -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO
add lb vserver lb_web HTTP 127.0.4.100 80 -persistenceType NONE -cltTimeout 180
add gslb vserver gv_web HTTP -lbMethod ROUNDROBIN -backupLBMethod ROUNDROBIN -tolerance 0 -MIR ENABLED -appflowLog DISABLED
add gslb vserver gv_plain HTTP -lbMethod ROUNDROBIN -backupLBMethod ROUNDROBIN -tolerance 0 -MIR ENABLED -appflowLog DISABLED
add gslb site dc1 127.0.0.1 -publicIP 127.0.0.1
add gslb site dc2 127.0.0.2 -publicIP 127.0.0.2
bind lb vserver lb_web svc_web01
bind lb vserver lb_web svc_web02
add gslb service gs_web_dc1 127.0.4.100 HTTP 80 -publicIP 127.0.4.100 -publicPort 80 -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_web_dc2 127.0.5.100 HTTP 80 -publicIP 127.0.5.100 -publicPort 80 -maxClient 0 -siteName dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_plain_dc1 %s HTTP %s -maxClient 0 -siteName dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
add gslb service gs_plain_dc2 127.0.5.101 HTTP 80 -maxClient 0 -siteName dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED
bind gslb vserver gv_web -serviceName gs_web_dc1
bind gslb vserver gv_web -serviceName gs_web_dc2
bind gslb vserver gv_plain -serviceName gs_plain_dc1
bind gslb vserver gv_plain -serviceName gs_plain_dc2
bind gslb vserver gv_web -domainName www.migrated.test -TTL 5
bind gslb vserver gv_plain -domainName plain.migrated.test -TTL 5
add dns soaRec migrated.test -originServer ns1.migrated.test -contact hostmaster.migrated.test
set lb monitor tcp-default TCP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 200 MSEC
add lb monitor mon_web HTTP -respCode 200 -httpRequest "GET /" -LRTM DISABLED -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 200 MSEC
bind service svc_web01 -monitorName mon_web
bind lb monitor mon_web svc_web02
add route 0.0.0.0 0.0.0.0 127.0.0.1
`, web1.IP(), web2.IP(), web1.Port(), web2.Port(), plain.IP(), plain.Port())
}

// TestMigratedHealth: with no monitor bound, the local GSLB service on the
// LB vserver's VIP follows that vserver's services (probed with their own
// monitors), and the one on a plain address is probed with tcp-default;
// each leaves the answers when what it follows fails and comes back.
func TestMigratedHealth(t *testing.T) {
	web1, web2, plain := newBackend(t, "127.0.4.11"), newBackend(t, "127.0.4.12"), newBackend(t, "127.0.4.13")
	d, _ := startFile(t, migratedConf(web1, web2, plain))
	state := func(svc string) health.State {
		for _, s := range d.Engine().ServiceStatus() {
			if s.Name == svc {
				return s.State
			}
		}
		return health.Unknown
	}
	waitFor(t, "local services UP", 10*time.Second, func() bool {
		return state("gs_web_dc1") == health.Up && state("gs_plain_dc1") == health.Up
	})
	wait := func(name, want string) {
		t.Helper()
		waitFor(t, name+" answering "+want, 10*time.Second, func() bool { return answerSet(t, d, name) == want })
	}
	both := "127.0.4.100,127.0.5.100"
	wait("www.migrated.test", both)
	web1.Kill()
	wait("www.migrated.test", both) // one service of the vserver is enough
	web2.Kill()
	wait("www.migrated.test", "127.0.5.100")
	web2.Start()
	wait("www.migrated.test", both)

	wait("plain.migrated.test", plain.IP()+",127.0.5.101")
	plain.Kill()
	wait("plain.migrated.test", "127.0.5.101")
	plain.Start()
	wait("plain.migrated.test", plain.IP()+",127.0.5.101")

	// Visible: where the state comes from, with the reason.
	st := d.Stat("gslbservice")
	if got := fmt.Sprint(st["gs_web_dc1"]["healthsource"]); !strings.Contains(got, "vserver: lb vserver lb_web") {
		t.Errorf("gs_web_dc1 health source %q", got)
	}
	if got := fmt.Sprint(st["gs_plain_dc1"]["healthsource"]); !strings.Contains(got, "default monitor tcp-default") {
		t.Errorf("gs_plain_dc1 health source %q", got)
	}
	if got := fmt.Sprint(st["gs_web_dc1"]["statereason"]); !strings.Contains(got, "of 2 services UP") {
		t.Errorf("gs_web_dc1 reason %q", got)
	}
}
