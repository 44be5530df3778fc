package e2e

import (
	"fmt"
	"os"
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

// TestApplianceFixtureHealth runs testdata/appliance-12.1-lb.conf, a DC2
// appliance file as 12.1 saved it: its GSLB services bind no monitor, and
// the LB vservers at their addresses hold the services and the service
// group that the appliance monitors (mon_web_health bound the legacy way,
// mon_api_health on the group: HTTP-ECV to -destPort 8081 with a -recv
// string). The file runs unchanged but for two things: 172.16.0.0/16 moves
// to 127.16.0.0/16, where the test's backends listen, and two appended set
// lines shorten the monitors' timings so that the test is quick.
func TestApplianceFixtureHealth(t *testing.T) {
	src, err := os.ReadFile("testdata/appliance-12.1-lb.conf")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "172.16.", "127.16.") +
		"set lb monitor mon_web_health HTTP -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 200 MSEC\n" +
		"set lb monitor mon_api_health HTTP-ECV -interval 200 MSEC -resptimeout 100 MSEC -retries 1 -downTime 200 MSEC\n"
	web1, web2 := newBackendAt(t, "127.16.20.11:80"), newBackendAt(t, "127.16.20.12:80")
	api1, api2 := newBackendAt(t, "127.16.21.11:8081"), newBackendAt(t, "127.16.21.12:8081")
	for _, b := range []*backend{api1, api2} {
		b.SetBody(`{"status":"up","version":3}`)
	}
	d, _ := startFile(t, text)
	// state waits until svc is in state and then checks that the name's
	// answers (20 queries) hold its public IP exactly when it is UP.
	state := func(svc, want, name, ip string) {
		t.Helper()
		var got any
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if got = d.Stat("gslbservice")[svc]["state"]; got == want {
				break
			}
		}
		if got != want {
			t.Fatalf("%s is %v, want %s: %v", svc, got, want, d.Stat("gslbservice")[svc])
		}
		seen := map[string]bool{}
		for range 20 {
			for _, a := range strings.Split(answerSet(t, d, name), ",") {
				seen[a] = true
			}
		}
		if want == "DOWN" && seen[ip] || len(seen) == 0 || seen[""] {
			t.Fatalf("%s %s: %s answers %v", svc, want, name, seen)
		}
	}
	state("gs_web_dc2", "UP", "www.gslb.example.net", "198.51.100.100")
	state("gs_web_ssl_dc2", "UP", "secure.gslb.example.net", "198.51.100.100")
	state("gs_api_dc2", "UP", "api.gslb.example.net", "198.51.100.101")
	st := d.Stat("gslbservice")
	for svc, src := range map[string]string{
		"gs_web_dc2":     "vserver: lb vserver lb_web_dc2",
		"gs_web_ssl_dc2": "vserver: lb vserver lb_web_dc2_ssl",
		"gs_api_dc2":     "vserver: lb vserver lb_api_dc2",
		"gs_web_dc1":     "remote: no monitor bound",
	} {
		if got := fmt.Sprint(st[svc]["healthsource"]); !strings.Contains(got, src) {
			t.Errorf("%s health source %q, want %q", svc, got, src)
		}
	}

	// The reason follows each backend, not only the state changes.
	waitFor(t, "gs_web_dc2: 2 of 2 services UP", 10*time.Second, func() bool {
		return strings.HasSuffix(fmt.Sprint(d.Stat("gslbservice")["gs_web_dc2"]["statereason"]), ": 2 of 2 services UP")
	})

	// One web server failing its /health is not enough; both are, for
	// both vservers that hold them.
	web1.SetCode(503)
	waitFor(t, "svc_web_dc2_01 DOWN", 10*time.Second, func() bool {
		return strings.Contains(fmt.Sprint(d.Stat("gslbservice")["gs_web_dc2"]["statereason"]), "1 of 2 services UP")
	})
	state("gs_web_dc2", "UP", "www.gslb.example.net", "198.51.100.100")
	web2.Kill()
	state("gs_web_dc2", "DOWN", "www.gslb.example.net", "198.51.100.100")
	state("gs_web_ssl_dc2", "DOWN", "secure.gslb.example.net", "198.51.100.100")
	web2.Start()
	state("gs_web_dc2", "UP", "www.gslb.example.net", "198.51.100.100")

	// The ECV monitor looks for its -recv string in the body, on -destPort.
	api1.SetBody(`{"status":"down"}`)
	api2.SetBody(`{"status":"draining"}`)
	state("gs_api_dc2", "DOWN", "api.gslb.example.net", "198.51.100.101")
	api2.SetBody(`{"status":"up"}`)
	state("gs_api_dc2", "UP", "api.gslb.example.net", "198.51.100.101")
}
