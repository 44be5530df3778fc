// Command confgen writes a large NetScaler configuration the way an
// appliance saves one: a 13.1 header, system settings, then lb, cs, ssl,
// rewrite and responder sections (which gslbd keeps verbatim), a GSLB
// section (sites, vservers, services, domains, monitors) and DNS records,
// in the appliance's save order. bench/config.sh uses it to measure load
// time and memory at 10k, 100k and 1M lines.
//
//	go run ./bench/confgen -lines 100000 > big.conf
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	lines := flag.Int("lines", 100000, "about how many lines to write")
	gslbShare := flag.Float64("gslb", 0.02, "share of the lines that are GSLB configuration")
	net := flag.Int("net", 10, "first octet of every private address (127: all on loopback, for a daemon that probes them)")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	write(w, *lines, *gslbShare, *net)
}

// write emits about n lines, every private address in net.0.0.0/8. The LB part repeats a unit of 20 lines per
// application (servers, services, a service group, an lb and a cs
// vserver, policies, ssl bindings); the GSLB part a unit of 10 lines per
// GSLB vserver (two services, their bindings, a domain, a monitor binding).
func write(w *bufio.Writer, n int, gslbShare float64, net int) {
	p := func(format string, args ...any) {
		fmt.Fprintf(w, strings.ReplaceAll(format, "10.", strconv.Itoa(net)+".")+"\n", args...)
	}
	apps := max(1, int(float64(n)*(1-gslbShare))/20)
	gslb := max(1, int(float64(n)*gslbShare)/10)
	ip := func(i, host int) string { return fmt.Sprintf("%d.%d.%d.%d", net, 1+i/250%250, i%250, host) }
	p("#NS13.1 Build 37.38")
	p("# Last modified by `save config`, Mon May  3 12:34:56 2025")
	p("set ns config -IPAddress 10.0.0.10 -netmask 255.255.255.0")
	p("enable ns feature WL LB CS SSL GSLB REWRITE RESPONDER")
	p("enable ns mode FR L3 USNIP PMTUD")
	p("set system parameter -doppler DISABLED")
	p("set ns hostName adc-dc1")
	p("add ns ip 10.0.1.53 255.255.255.0 -type SNIP -vServer DISABLED -mgmtAccess ENABLED")
	p("add ns ip 10.0.1.60 255.255.255.0 -type GSLBsiteIP -vServer DISABLED -telnet DISABLED -ftp DISABLED -gui DISABLED -ssh DISABLED -snmp DISABLED")
	p("set ns encryptionParams -method AES256 -keyValue 0702864d94261ab0576b57cea0eb5e35 -encrypted -encryptmethod ENCMTHD_3 -kek -suffix 2025_05_03_12_34_56")
	for i := range apps {
		p("add server srv%d_a %s", i, ip(i, 1))
		p("add server srv%d_b %s", i, ip(i, 2))
	}
	p("set service nshttpd-gui-127.0.0.1-80 -cip ENABLED")
	p("add service svc_ADNS 10.0.1.53 ADNS 53 -gslb NONE -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport NO -sp OFF -cltTimeout 120 -svrTimeout 120 -CKA NO -TCPB NO -CMP NO")
	for i := range apps {
		p("add service svc%d_a srv%d_a HTTP 80 -gslb NONE -maxClient 0 -maxReq 0 -cip ENABLED X-Forwarded-For -usip NO -useproxyport YES -sp OFF -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO", i, i)
		p("add serviceGroup sg%d SSL -maxClient 0 -maxReq 0 -cip DISABLED -usip NO -useproxyport YES -cltTimeout 180 -svrTimeout 360 -CKA NO -TCPB NO -CMP NO", i)
	}
	p("add ssl certKey ns-server-certificate -cert ns-server.cert -key ns-server.key")
	for i := range apps {
		p("add ssl certKey app%d_cert -cert app%d.crt -key app%d.key -expiryMonitor ENABLED -notificationPeriod 30", i, i, i)
	}
	p("set lb parameter -sessionsThreshold 150000")
	for i := range apps {
		p("add lb vserver lb%d_web HTTP %s 80 -persistenceType NONE -cltTimeout 180", i, ip(i, 100))
		p("add lb vserver lb%d_ssl SSL 0.0.0.0 0 -persistenceType COOKIEINSERT -timeout 0 -cltTimeout 180", i)
		p("add cs vserver cs%d SSL %s 443 -cltTimeout 180 -Listenpolicy None", i, ip(i, 101))
	}
	for i := range apps {
		p("add cs action cs%d_act -targetLBVserver lb%d_ssl", i, i)
		p("add cs policy cs%d_pol -rule \"HTTP.REQ.URL.PATH.STARTSWITH(\\\"/app%d/\\\")\" -action cs%d_act", i, i, i)
		p("add rewrite action rw%d_hsts insert_http_header Strict-Transport-Security \"\\\"max-age=157680000\\\"\"", i)
		p("add responder policy rs%d_pol \"HTTP.REQ.IS_VALID.NOT\" DROP", i)
	}
	for i := range apps {
		p("bind lb vserver lb%d_web svc%d_a", i, i)
		p("bind lb vserver lb%d_ssl sg%d", i, i)
		p("bind cs vserver cs%d -policyName cs%d_pol -priority 100", i, i)
	}
	p("add gslb site site_dc1 10.0.1.60 -publicIP 203.0.113.60")
	p("add gslb site site_dc2 10.100.1.60 -publicIP 198.51.100.60")
	for i := range gslb {
		p("add gslb service gs%d_dc1 %s SSL 443 -publicIP %s -publicPort 443 -maxClient 0 -siteName site_dc1 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED", i, ip(i, 101), ip(i, 101))
		p("add gslb service gs%d_dc2 %s SSL 443 -publicIP %s -publicPort 443 -maxClient 0 -siteName site_dc2 -cltTimeout 180 -svrTimeout 360 -downStateFlush DISABLED", i, ip(i+100000, 101), ip(i+100000, 101))
	}
	for i := range gslb {
		p("add gslb vserver gv%d SSL -lbMethod ROUNDROBIN -backupLBMethod ROUNDROBIN -tolerance 0 -appflowLog DISABLED", i)
	}
	for i := range gslb {
		p("bind gslb vserver gv%d -serviceName gs%d_dc1", i, i)
		p("bind gslb vserver gv%d -serviceName gs%d_dc2", i, i)
	}
	for i := range gslb {
		p("bind gslb vserver gv%d -domainName app%d.gslb.example.com -TTL 5", i, i)
	}
	p("add dns soaRec gslb.example.com -originServer ns1.gslb.example.com -contact hostmaster.example.com -serial 2025050301")
	p("add dns nsRec gslb.example.com ns1.gslb.example.com -TTL 3600")
	p("add dns addRec ns1.gslb.example.com 203.0.113.53")
	p("set lb monitor ldns-dns LDNS-DNS -query . -queryType Address -deviation 0 -interval 6 -resptimeout 3 -downTime 20")
	p("set lb monitor stasecure CITRIX-STA-SERVICE -deviation 0 -interval 2 MIN -resptimeout 4 -downTime 5")
	p("set lb monitor sta CITRIX-STA-SERVICE -deviation 0 -interval 2 MIN -resptimeout 4 -downTime 5")
	p("add lb monitor mon_https HTTP-ECV -send \"GET /health\" -recv \"+OK\" -LRTM DISABLED -secure YES")
	for i := range apps {
		p("bind serviceGroup sg%d srv%d_a 443", i, i)
		p("bind serviceGroup sg%d srv%d_b 443", i, i)
		p("bind serviceGroup sg%d -monitorName mon_https", i)
	}
	for i := range gslb {
		p("bind gslb service gs%d_dc1 -monitorName mon_https", i)
		p("bind gslb service gs%d_dc2 -monitorName mon_https", i)
	}
	p("add route 0.0.0.0 0.0.0.0 10.0.0.1")
	for i := range apps {
		p("set ssl vserver cs%d -sslProfile ns_default_ssl_profile_frontend", i)
		p("bind ssl vserver cs%d -certkeyName app%d_cert", i, i)
	}
	p("set ssl service nshttps-127.0.0.1-443 -sslProfile ns_default_ssl_profile_frontend")
	p("bind ssl service nshttps-127.0.0.1-443 -certkeyName ns-server-certificate")
}
