package nitro

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gslbd/gslbd/internal/events"
	"github.com/gslbd/gslbd/internal/schema"
)

// JSON types of NITRO fields as the appliance sends them: S a string
// (<String>, and the <Double> integers: weights, TTLs, timeouts,
// counters, which the appliance sends as strings of digits), N a number
// (<Integer>: ports, monitor times and retries, codes), A an array of
// strings, B a boolean. From the NITRO reference (12.0 markdown, the
// 14.1 Go structs, the Java SDK's Long/Integer), checked against what the
// Terraform provider and Ansible read. g marks gslbd's own fields.
var nitroTypes = map[string]map[string]string{
	"gslbsite": {"sitename": "S", "sitetype": "S", "siteipaddress": "S", "publicip": "S", "metricexchange": "S",
		"nwmetricexchange": "S", "sessionexchange": "S", "triggermonitor": "S", "parentsite": "S", "clip": "S",
		"publicclip": "S", "naptrreplacementsuffix": "S", "backupparentlist": "A", "sitepassword": "S", "location": "g:S"},
	"gslbservice": {"servicename": "S", "cnameentry": "S", "ip": "S", "servername": "S", "servicetype": "S", "port": "N",
		"publicip": "S", "publicport": "N", "maxclient": "S", "healthmonitor": "S", "sitename": "S", "state": "S",
		"cip": "S", "cipheader": "S", "sitepersistence": "S", "cookietimeout": "S", "siteprefix": "S", "clttimeout": "S",
		"svrtimeout": "S", "maxbandwidth": "S", "downstateflush": "S", "maxaaausers": "S", "monthreshold": "S",
		"hashid": "S", "comment": "S", "appflowlog": "S", "naptrreplacement": "S", "naptrorder": "S",
		"naptrservices": "S", "naptrdomainttl": "S", "naptrpreference": "S", "ipaddress": "S", "viewname": "S",
		"viewip": "S", "weight": "S", "monitor_name_svc": "S", "td": "S",
		"location": "g:S", "loadsource": "g:S", "loadurl": "g:S", "loadfilter": "g:A", "loadinterval": "g:N", "loadintervalunits": "g:S"},
	"gslbvserver": {"name": "S", "servicetype": "S", "iptype": "S", "dnsrecordtype": "S", "lbmethod": "S",
		"backupsessiontimeout": "S", "backuplbmethod": "S", "netmask": "S", "v6netmasklen": "S", "tolerance": "S",
		"persistencetype": "S", "persistenceid": "S", "persistmask": "S", "v6persistmasklen": "S", "timeout": "S",
		"edr": "S", "ecs": "S", "ecsaddrvalidation": "S", "mir": "S", "disableprimaryondown": "S", "dynamicweight": "S",
		"state": "S", "considereffectivestate": "S", "comment": "S", "somethod": "S", "sopersistence": "S",
		"sopersistencetimeout": "S", "sothreshold": "S", "sobackupaction": "S", "appflowlog": "S", "backupvserver": "S",
		"servicename": "S", "weight": "S", "domainname": "S", "ttl": "S", "backupip": "S", "cookie_domain": "S",
		"cookietimeout": "S", "sitedomainttl": "S", "rule": "S", "toggleorder": "S", "orderthreshold": "S"},
	"gslbparameter": {"ldnsentrytimeout": "S", "rtttolerance": "S", "ldnsmask": "S", "v6ldnsmasklen": "S",
		"ldnsprobeorder": "A", "dropldnsreq": "S", "gslbsvcstatedelaytime": "S", "automaticconfigsync": "S",
		"svcstatelearningtime": "S", "mepkeepalivetimeout": "S", "gslbsyncinterval": "S", "gslbsyncmode": "S",
		"gslbsynclocfiles": "S", "gslbconfigsyncmonitor": "S", "gslbsyncsaveconfigcommand": "S", "undefaction": "S",
		"incarnation": "S", "defaultmonitors": "g:S", "explainfrom": "g:A"},
	"gslbservicegroup": {"servicegroupname": "S", "servicetype": "S", "maxclient": "S", "cip": "S", "cipheader": "S",
		"healthmonitor": "S", "clttimeout": "S", "svrtimeout": "S", "maxbandwidth": "S", "monthreshold": "S",
		"state": "S", "downstateflush": "S", "comment": "S", "appflowlog": "S", "autoscale": "S", "sitename": "S",
		"sitepersistence": "S", "siteprefix": "S"},
	"gslbvserver_gslbservice_binding": {"name": "S", "servicename": "S", "weight": "S", "domainname": "S", "order": "S"},
	"gslbvserver_domain_binding": {"name": "S", "domainname": "S", "ttl": "S", "backupip": "S", "cookie_domain": "S",
		"cookietimeout": "S", "sitedomainttl": "S", "order": "S", "cookiedomain": "g:S"},
	"gslbvserver_gslbservicegroup_binding": {"name": "S", "servicegroupname": "S", "order": "S"},
	"gslbservice_lbmonitor_binding":        {"servicename": "S", "monitor_name": "S", "monstate": "S", "weight": "S"},
	"gslbservice_dnsview_binding":          {"servicename": "S", "viewname": "S", "viewip": "S"},
	"gslbservicegroup_gslbservicegroupmember_binding": {"servicegroupname": "S", "ip": "S", "servername": "S",
		"port": "N", "weight": "S", "hashid": "S", "publicip": "S", "publicport": "N", "siteprefix": "S", "state": "S",
		"order": "S"},
	"gslbservicegroup_lbmonitor_binding": {"servicegroupname": "S", "monitor_name": "S", "monstate": "S", "weight": "S", "passive": "B"},
	"lbmonitor_metric_binding":           {"monitorname": "S", "metric": "S", "metricthreshold": "S", "metricweight": "S"},
	"lbmetrictable":                      {"metrictable": "S"},
	"dnsview":                            {"viewname": "S"},
	"gslbwebhook":                        {"name": "g:S", "url": "g:S", "events": "g:A"},
	"dnsaction": {"actionname": "S", "actiontype": "S", "viewname": "S", "ipaddress": "A", "ttl": "S",
		"preferredloclist": "A", "dnsprofilename": "S"},
	"dnspolicy": {"name": "S", "rule": "S", "actionname": "S", "viewname": "S", "preferredlocation": "S",
		"preferredloclist": "A", "drop": "S", "cachebypass": "S", "logaction": "S"},
	"dnsglobal_dnspolicy_binding": {"policyname": "S", "priority": "N", "gotopriorityexpression": "S", "type": "S"},
	"location":                    {"ipfrom": "S", "ipto": "S", "preferredlocation": "S", "longitude": "N", "latitude": "N"},
	"locationparameter": {"context": "S", "q1label": "S", "q2label": "S", "q3label": "S", "q4label": "S", "q5label": "S",
		"q6label": "S", "matchwildcardtoany": "S"},
	"dnsparameter": {"nxdomainratelimitthreshold": "S", "rrlresponsespersecond": "g:S", "rrlnxdomainspersecond": "g:S",
		"rrlerrorspersecond": "g:S", "rrlwindow": "g:S", "rrlslip": "g:S", "rrlipv4prefixlength": "g:S", "rrlipv6prefixlength": "g:S",
		"rrllogonly": "g:S", "rrlexempt": "g:A"},
	"locationfile":                 {"Locationfile": "S", "format": "S"},
	"locationfile6":                {"Locationfile": "S", "format": "S"},
	"lbmetrictable_metric_binding": {"metrictable": "S", "metric": "S", "Snmpoid": "S"},
	"lbmonitor": {"monitorname": "S", "type": "S", "action": "S", "respcode": "A", "httprequest": "S",
		"customheaders": "S", "send": "S", "recv": "S", "query": "S", "querytype": "S", "lrtm": "S", "deviation": "S",
		"units1": "S", "interval": "N", "units3": "S", "resptimeout": "N", "units4": "S", "resptimeoutthresh": "S",
		"retries": "N", "failureretries": "N", "alertretries": "N", "successretries": "N", "downtime": "N",
		"units2": "S", "destip": "S", "destport": "N", "state": "S", "reverse": "S", "transparent": "S",
		"iptunnel": "S", "tos": "S", "tosid": "S", "secure": "S", "ipaddress": "A", "Snmpoid": "S",
		"snmpcommunity": "S", "snmpthreshold": "S", "snmpversion": "S", "metrictable": "S", "storename": "S",
		"storefrontacctservice": "S", "storefrontcheckbackendservices": "S", "trofscode": "S", "trofsstring": "S",
		"sslprofile": "S", "netprofile": "S", "sslverify": "g:S", "sslservername": "g:S",
		"username": "S", "radnasid": "S", "radnasip": "S"}, // password and radkey: never returned
	"service":     {"name": "S", "ip": "S", "servername": "S", "servicetype": "S", "port": "N", "state": "S", "comment": "S", "td": "S"},
	"dnszone":     {"zonename": "S", "proxymode": "S", "dnssecoffload": "S", "nsec": "S"},
	"dnssoarec":   {"domain": "S", "originserver": "S", "contact": "S", "serial": "S", "refresh": "S", "retry": "S", "expire": "S", "minimum": "S", "ttl": "S"},
	"dnsnsrec":    {"domain": "S", "nameserver": "S", "ttl": "S"},
	"dnsaddrec":   {"hostname": "S", "ipaddress": "S", "ttl": "S"},
	"dnsaaaarec":  {"hostname": "S", "ipv6address": "S", "ttl": "S"},
	"dnscnamerec": {"aliasname": "S", "canonicalname": "S", "ttl": "S"},
	"dnsmxrec":    {"domain": "S", "mx": "S", "pref": "S", "ttl": "S"},
	"dnstxtrec":   {"domain": "S", "String": "A", "ttl": "S", "recordid": "S"},
	"dnssrvrec":   {"domain": "S", "target": "S", "priority": "S", "weight": "S", "port": "S", "ttl": "S"},
	"dnsptrrec":   {"reversedomain": "S", "domain": "S", "ttl": "S"},
}

// live are the read-only fields the running gslbd adds to GETs of a
// resource and to its stat (state, counters, reasons).
var live = map[string]map[string]string{
	"gslbservice": {"svrstate": "S", "svreffgslbstate": "S", "statereason": "g:S", "healthsource": "g:S", "vsvrservicehits": "S",
		"responsetime": "S", "curclntconnections": "S", "curload": "S"},
	"gslbvserver": {"curstate": "S", "actsvcs": "S", "inactsvcs": "S", "lbrrreason": "N", "lbrrreasontext": "g:S",
		"vslbhealth": "S", "tothits": "S", "totvserverdownbackuphits": "S"},
}

// jsonType names the JSON type of a decoded value as nitroTypes does.
func jsonType(v any) string {
	switch x := v.(type) {
	case string:
		return "S"
	case float64, int64, int:
		return "N"
	case bool:
		return "B"
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return "array of non-strings"
			}
		}
		return "A"
	}
	return fmt.Sprintf("%T", v)
}

// TestNITROFieldTypes checks every field against the reference: each
// argument of the schema (what a GET can return) renders as its NITRO
// type, and a GET of a configuration that sets nearly everything returns
// every field with the type the appliance gives it.
func TestNITROFieldTypes(t *testing.T) {
	// Every named argument of every group a resource serves is in the
	// reference table, and value() renders a sample of it as that type.
	groups := map[string][]string{}
	for res, rs := range resources {
		groups[rs.group] = append(groups[rs.group], res)
	}
	for group, ress := range groups {
		slices.Sort(ress)
		for _, verb := range []string{"add", "set", "bind"} {
			c := schema.Lookup(verb, group)
			if c == nil {
				continue
			}
			for _, a := range append(slices.Clone(c.Pos), c.Opts...) {
				if a.Kind == schema.Flag || a.Secret {
					continue // secrets are never returned
				}
				want, extra := "", a.Extra == nil || a.Extra.NITRO == "units"
				for _, res := range ress {
					if w, ok := nitroTypes[res][a.NITRO]; ok {
						want = strings.TrimPrefix(w, "g:")
					}
					if a.Extra != nil {
						if _, ok := nitroTypes[res][a.Extra.NITRO]; ok {
							extra = true
						}
					}
				}
				if want != "" && !extra {
					t.Errorf("%s %s: -%s's extra %s is not in the reference table", verb, group, a.Name, a.Extra.NITRO)
				}
				if want == "" {
					if group == "gslb vserver" && verb == "bind" || group == "gslb service" && verb == "bind" ||
						group == "lb monitor" && verb == "bind" {
						continue // binding arguments: in the binding resources' tables
					}
					t.Errorf("%s %s: -%s (%s) is not in the reference table of %v: add it with its NITRO type", verb, group, a.Name, a.NITRO, ress)
					continue
				}
				sample := map[schema.Kind]string{schema.Int: "7", schema.Port: "80", schema.IP: "192.0.2.1", schema.Mask: "255.255.255.0"}[a.Kind]
				if sample == "" {
					sample = "x"
				}
				if a.Kind == schema.String && a.Number {
					sample = "-12.5" // location -longitude
				}
				got := jsonType(value(&a, sample))
				perValue := group == "dns addRec" || group == "dns aaaaRec" || group == "dns ptrRec" // one object per value
				if a.List && !perValue {
					got = "A"
				}
				if got != want {
					t.Errorf("%s %s: -%s (%s) renders as %s, NITRO has %s", verb, group, a.Name, a.NITRO, got, want)
				}
			}
		}
	}

	// What GETs return for a configuration with most arguments set.
	s, _ := testServer(t)
	if _, err := s.backend.Change(events.Origin{Via: "seed"}, typesSeed); err != nil {
		t.Fatal(err)
	}
	for res := range nitroTypes {
		out := call(t, s, "GET", "/nitro/v1/config/"+res, "", 200)
		objs := list(t, out, res)
		if len(objs) == 0 {
			t.Errorf("GET %s: nothing listed (the seed should set one)", res)
		}
		for _, o := range objs {
			for k, v := range o {
				want, ok := nitroTypes[res][k]
				if !ok {
					want, ok = live[res][k]
				}
				if !ok {
					t.Errorf("GET %s: field %q (%v) is not in the reference table", res, k, v)
					continue
				}
				if str, _ := v.(string); strings.Contains(str, "-secret") {
					t.Errorf("GET %s: a secret in %s", res, k)
				}
				if got := jsonType(v); got != strings.TrimPrefix(want, "g:") {
					t.Errorf("GET %s: %s = %v is %s, NITRO has %s", res, k, v, got, want)
				}
			}
		}
	}
}

// typesSeed sets nearly every argument gslbd stores.
const typesSeed = `add server srv1 192.0.2.90
add service adns1 10.0.0.1 ADNS 53 -comment "dns"
add gslb site s1 10.0.0.1 -publicIP 10.0.0.1 -metricExchange ENABLED -triggerMonitor ALWAYS -naptrReplacementSuffix x.test
add gslb site s2 REMOTE 10.0.0.2 -backupParentlist s1 -clip 10.0.0.22 10.0.0.23 -location EU.DE
add gslb service a 192.0.2.1 HTTP 80 -siteName s1 -publicIP 192.0.2.101 -publicPort 8080 -maxClient 10 -cip ENABLED X-Client -cookieTimeout 5 -sitePrefix pfx -cltTimeout 180 -svrTimeout 360 -maxBandwidth 100 -maxAAAUsers 5 -monThreshold 1 -hashId 3 -comment "svc a" -naptrOrder 2 -naptrServices x -naptrPreference 3 -naptrReplacement r.test -naptrDomainTTL 60 -td 0 -loadSource PROMETHEUS -loadURL http://192.0.2.1:9100/metrics -loadFilter connections=c -loadInterval 2 SEC
add gslb service b srv1 SSL 443 -siteName s2 -sitePersistence ConnectionProxy -location NA.US
add gslb service cn -cnameEntry c.example.test -siteName s1
add gslb serviceGroup sg HTTP -siteName s1 -maxClient 5 -cip ENABLED X-F -cltTimeout 10 -svrTimeout 20 -maxBandwidth 30 -monThreshold 1 -comment g -autoScale DISABLED -sitePersistence NONE -sitePrefix g
bind gslb serviceGroup sg 192.0.2.50 80 -weight 3 -hashId 9 -publicIP 192.0.2.150 -publicPort 81 -sitePrefix m -order 2
add gslb vserver gv HTTP -lbMethod ROUNDROBIN -backupLBMethod LEASTCONNECTION -netmask 255.255.255.0 -v6netmasklen 64 -tolerance 5 -persistenceType SOURCEIP -persistenceId 1 -persistMask 255.255.0.0 -v6persistmasklen 48 -timeout 10 -EDR ENABLED -ECS ENABLED -ecsAddrValidation ENABLED -disablePrimaryOnDown ENABLED -dynamicWeight SERVICECOUNT -considerEffectiveState STATE_ONLY -comment "v" -soMethod CONNECTION -soThreshold 10 -soPersistence ENABLED -soPersistenceTimeOut 5 -soBackupAction DROP -backupSessionTimeout 3 -toggleOrder DESCENDING -orderThreshold 50 -rule "true"
add gslb vserver gv2 HTTP
set gslb vserver gv -backupVServer gv2
bind gslb vserver gv -serviceName a -weight 5 -order 1
bind gslb vserver gv -serviceGroupName sg
bind gslb vserver gv -domainName www.test -TTL 30 -backupIP 192.0.2.200 -cookieDomain test -cookieTimeout 4 -sitedomainTTL 60
add lb metricTable mt
bind lb metricTable mt cpu 1.3.6.1.4.1.2021.11.9.0
add lb monitor m1 HTTP-ECV -send "GET /" -recv ok -respCode 200 -customHeaders "X: y\r\n" -LRTM ENABLED -deviation 10 -interval 10 -resptimeout 3 -resptimeoutThresh 50 -retries 2 -failureRetries 1 -alertRetries 2 -successRetries 2 -downTime 20 -destIP 192.0.2.9 -destPort 8080 -reverse NO -transparent NO -ipTunnel NO -tos YES -tosId 3 -secure YES -sslProfile p -netProfile n -trofscode 299 -trofsstring maint -sslVerify YES -sslServerName a.test
add lb monitor m2 HTTP -httpRequest "GET /h" -action LOG
add lb monitor m3 DNS -query x.test -queryType Address -IPAddress 192.0.2.1
add lb monitor m4 SNMP -snmpOID 1.3.6.1 -snmpCommunity public -snmpThreshold 80 -snmpVersion V2
add lb monitor m5 LOAD -metricTable mt
add lb monitor m7 RADIUS -userName u -password p1-secret -radKey k1-secret -radNASid nas1 -radNASip 10.0.0.5 -respCode 2-3
add lb monitor m6 STOREFRONT -storename s -storefrontacctservice NO -storefrontcheckbackendservices YES
bind lb monitor m5 -metric cpu -metricThreshold 80 -metricWeight 2
bind gslb service a -monitorName m1 -monState ENABLED -weight 2
add dns view v1
add gslb webhook wh https://hooks.example.test/gslb -secret wh-secret -events service site
add dns action act_v1 ViewName -viewName v1
add dns policy pol_v1 "CLIENT.IP.SRC.IN_SUBNET(10.0.0.0/8)" act_v1 -logAction lg
add dns policy pol_v2 "CLIENT.IP.SRC.IN_SUBNET(10.1.0.0/16)" -viewName v1 -preferredLocation NA.US -preferredLocList NA.US EU -drop NO -cacheBypass NO
bind dns global pol_v1 100 -gotoPriorityExpression END -type REQ_DEFAULT
bind gslb service a -viewName v1 192.0.2.77
bind gslb serviceGroup sg -monitorName m2 -weight 3
set gslb parameter -ldnsEntryTimeout 90 -RTTTolerance 6 -ldnsMask 255.255.255.0 -v6ldnsmasklen 64 -ldnsProbeOrder PING DNS -dropLdnsReq ENABLED -GSLBSvcStateDelayTime 5 -AutomaticConfigSync DISABLED -SvcStateLearningTime 4 -MEPKeepAliveTimeout 7 -GSLBSyncInterval 9 -GSLBSyncMode FullSync -incarnation 278
add dns zone test -proxyMode NO -dnssecOffload DISABLED -nsec DISABLED
add location 192.0.2.0 192.0.2.255 "NA.US.CA.\"San Jose\".*.*" -longitude -121.9 -latitude 37
set locationParameter -context custom -q1label a -q2label b -q3label c -q4label d -q5label e -q6label f -matchWildcardtoany YES
add locationFile /var/netscaler/locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv4 -format netscaler
add locationFile6 /var/netscaler/locdb/Citrix_Netscaler_InBuilt_GeoIP_DB_IPv6 -format netscaler6
add dns soaRec test -originServer ns1.test -contact h.test -serial 7 -refresh 60 -retry 5 -expire 600 -minimum 30 -TTL 300
add dns nsRec test ns1.test -TTL 300
add dns addRec ns1.test 192.0.2.53 192.0.2.54 -TTL 300
add dns aaaaRec ns1.test 2001:db8::53
add dns cnameRec w.test www.test
add dns mxRec test -mx mail.test -pref 10
add dns txtRec test "a" "b"
add dns srvRec _sip._tcp.test sip.test -priority 1 -weight 2 -port 5060
add dns ptrRec 53.2.0.192.in-addr.arpa ns1.test
`
