package schema

import (
	"strings"
)

// Kind is the type of an argument value.
type Kind uint8

const (
	String   Kind = iota // any token
	Name                 // entity name: letter/digit/_ first, then [A-Za-z0-9_#.:@=- ]
	Int                  // decimal integer within Min..Max
	Port                 // 1-65535, "*" means 65535
	Enum                 // one of Enum, case-insensitive, unique prefix allowed
	IP                   // IPv4 or IPv6 address
	IPOrStar             // IP address or "*"
	IPOrName             // IP address or an entity name (server)
	Mask                 // dotted IPv4 netmask
	FQDN                 // domain name
	Flag                 // no value (unset switches, bare flags)
)

// Ops says which verbs accept an argument.
type Ops uint16

const (
	OpAdd Ops = 1 << iota
	OpSet
	OpUnset
	OpBind
	OpUnbind
	OpRm
)

// Arg describes one positional or named argument.
type Arg struct {
	Name    string   // canonical CLI spelling, e.g. "lbMethod"
	NITRO   string   // JSON field name
	Kind    Kind     // value type
	Enum    []string // for Enum: allowed values in canonical spelling
	Min     int64    // for Int
	Max     int64    // for Int; 0 = no maximum
	Default string   // documented default ("" = none); the writer omits it
	List    bool     // takes several tokens, up to the next -option
	Ops     Ops      // verbs accepting it (named args only)
	// Extra is an optional value that may follow the main value as a
	// further positional token (NetScaler: -cip ENABLED <cipHeader>).
	Extra *Arg
	// Optional marks a positional that may be left out (gslb site type).
	Optional bool
	// Always makes the writer emit the value even when it equals the default
	// (NetScaler writes `-maxClient 0` on every GSLB service line).
	Always bool
	// Secret marks a password or key: written to ns.conf, never returned
	// by the API.
	Secret bool
	// Quoted values are written in double quotes even when plain (the
	// appliance quotes every policy rule).
	Quoted bool
	// Number marks an integer NITRO documents as <Integer>: sent as a JSON
	// number. The others (<Double> in the NITRO reference: weights,
	// timeouts, TTLs, counters) the appliance sends as strings of digits,
	// and clients (the Terraform provider) read them so. Ports are numbers.
	Number bool
}

// Command is a verb applied to a group, e.g. "add" + "gslb vserver".
type Command struct {
	Verb  string
	Group string
	Pos   []Arg // positional arguments in order
	Opts  []Arg // named arguments
	// Loose commands are appliance commands gslbd models only in part:
	// unknown named arguments are kept as given instead of rejected.
	Loose bool
}

// Key returns "verb group".
func (c *Command) Key() string { return c.Verb + " " + c.Group }

// Opt returns the named argument with exactly this canonical name (case-insensitive).
func (c *Command) Opt(name string) *Arg {
	for i := range c.Opts {
		if strings.EqualFold(c.Opts[i].Name, name) {
			return &c.Opts[i]
		}
	}
	return nil
}

var (
	enabledDisabled = []string{"ENABLED", "DISABLED"}
	yesNo           = []string{"YES", "NO"}
	// ServiceTypes are the GSLB service/vserver protocols (docs §3.2).
	ServiceTypes = []string{"HTTP", "FTP", "TCP", "UDP", "SSL", "SSL_BRIDGE", "SSL_TCP", "NNTP", "ANY",
		"SIP_UDP", "SIP_TCP", "SIP_SSL", "RADIUS", "RDP", "RTSP", "MYSQL", "MSSQL", "ORACLE"}
	// LBMethods are the GSLB selection methods (docs §3.4).
	LBMethods = []string{"ROUNDROBIN", "LEASTCONNECTION", "LEASTRESPONSETIME", "SOURCEIPHASH",
		"LEASTBANDWIDTH", "LEASTPACKETS", "STATICPROXIMITY", "RTT", "CUSTOMLOAD", "API"}
	// AppServiceTypes are the `add service` protocols (docs §3.7).
	AppServiceTypes = []string{"HTTP", "FTP", "TCP", "UDP", "SSL", "SSL_BRIDGE", "SSL_TCP", "DTLS", "NNTP",
		"RPCSVR", "DNS", "ADNS", "SNMP", "RTSP", "DHCPRA", "ANY", "SIP_UDP", "SIP_TCP", "SIP_SSL", "DNS_TCP",
		"ADNS_TCP", "MYSQL", "MSSQL", "ORACLE", "RADIUS", "RADIUSListener", "RDP", "DIAMETER", "SSL_DIAMETER",
		"TFTP", "SMPP", "PPTP", "GRE", "SYSLOGTCP", "SYSLOGUDP", "FIX", "SSL_FIX", "USER_TCP", "USER_SSL_TCP",
		"QUIC", "QUIC_BRIDGE", "HTTP_QUIC", "LOGSTREAM", "MONGO", "MONGO_TLS", "MQTT", "MQTT_TLS"}
)

const (
	aSUB = OpAdd | OpSet | OpUnset
	sU   = OpSet | OpUnset
)

func e(name, nitro string, ops Ops, def string, vals ...string) Arg {
	if len(vals) == 0 {
		vals = enabledDisabled
	}
	return Arg{Name: name, NITRO: nitro, Kind: Enum, Enum: vals, Ops: ops, Default: def}
}

func n(name, nitro string, ops Ops, min, max int64, def string) Arg {
	return Arg{Name: name, NITRO: nitro, Kind: Int, Min: min, Max: max, Ops: ops, Default: def}
}

// num is n for an <Integer> of the NITRO reference (a JSON number).
func num(name, nitro string, ops Ops, min, max int64, def string) Arg {
	a := n(name, nitro, ops, min, max, def)
	a.Number = true
	return a
}

func s(name, nitro string, ops Ops) Arg { return Arg{Name: name, NITRO: nitro, Kind: String, Ops: ops} }

func k(kind Kind, name, nitro string, ops Ops) Arg {
	return Arg{Name: name, NITRO: nitro, Kind: kind, Ops: ops}
}

func always(a Arg) Arg { a.Always = true; return a }

func pos(kind Kind, name, nitro string) Arg { return Arg{Name: name, NITRO: nitro, Kind: kind} }

// filter keeps the args that the verb accepts.
func filter(op Ops, args []Arg) []Arg {
	var out []Arg
	for _, a := range args {
		if a.Ops&op != 0 {
			out = append(out, a)
		}
	}
	return out
}

// Site arguments (docs §3.1).
var siteArgs = []Arg{
	k(IP, "publicIP", "publicip", OpAdd),
	e("metricExchange", "metricexchange", aSUB, "ENABLED"),
	e("nwMetricExchange", "nwmetricexchange", aSUB, "ENABLED"),
	e("sessionExchange", "sessionexchange", aSUB, "ENABLED"),
	e("triggerMonitor", "triggermonitor", aSUB, "ALWAYS", "ALWAYS", "MEPDOWN", "MEPDOWN_SVCDOWN"),
	k(Name, "parentSite", "parentsite", OpAdd),
	{Name: "backupParentlist", NITRO: "backupparentlist", Kind: Name, List: true, Ops: aSUB},
	{Name: "clip", NITRO: "clip", Kind: IP, Ops: OpAdd, Extra: &Arg{Name: "publicCLIP", NITRO: "publicclip", Kind: IP}},
	s("naptrReplacementSuffix", "naptrreplacementsuffix", aSUB),
	{Name: "sitePassword", NITRO: "sitepassword", Kind: String, Ops: aSUB, Secret: true},
	// gslbd: the site's location for static proximity (qualifiers, as
	// add location), used for its services whose address the database
	// does not place (docs/proximity.md).
	s("location", "location", aSUB),
}

// GSLB service arguments (docs §3.2).
var gslbServiceArgs = []Arg{
	// gslbd: the service's location for static proximity, before its
	// site's and its address's (docs/proximity.md).
	s("location", "location", aSUB),
	k(FQDN, "cnameEntry", "cnameentry", OpAdd),
	k(Name, "siteName", "sitename", OpAdd),
	k(IP, "IPAddress", "ipaddress", OpSet),
	k(IP, "publicIP", "publicip", aSUB),
	num("publicPort", "publicport", aSUB, 1, 65535, ""),
	{Name: "maxClient", NITRO: "maxclient", Kind: Int, Min: 0, Max: 4294967294, Ops: aSUB, Default: "0", Always: true},
	e("healthMonitor", "healthmonitor", aSUB, "YES", yesNo...),
	e("state", "state", OpAdd, "ENABLED"),
	{Name: "cip", NITRO: "cip", Kind: Enum, Enum: enabledDisabled, Ops: aSUB, Default: "DISABLED",
		Extra: &Arg{Name: "cipHeader", NITRO: "cipheader", Kind: String}},
	s("cipHeader", "cipheader", OpUnset),
	e("sitePersistence", "sitepersistence", aSUB, "", "ConnectionProxy", "HTTPRedirect", "NONE"),
	n("cookieTimeout", "cookietimeout", OpAdd, 0, 1440, ""),
	s("sitePrefix", "siteprefix", aSUB),
	n("cltTimeout", "clttimeout", OpAdd, 0, 31536000, ""),
	n("svrTimeout", "svrtimeout", OpAdd, 0, 31536000, ""),
	n("maxBandwidth", "maxbandwidth", aSUB, 0, 4294967287, ""),
	e("downStateFlush", "downstateflush", aSUB, "ENABLED"),
	n("maxAAAUsers", "maxaaausers", aSUB, 0, 65535, ""),
	n("monThreshold", "monthreshold", aSUB, 0, 65535, ""),
	n("hashId", "hashid", aSUB, 1, 4294967295, ""),
	s("comment", "comment", aSUB),
	e("appflowLog", "appflowlog", aSUB, "ENABLED"),
	s("naptrReplacement", "naptrreplacement", aSUB),
	n("naptrDomainTTL", "naptrdomainttl", aSUB, 1, 2147483647, "3600"),
	n("naptrOrder", "naptrorder", aSUB, 1, 65535, "1"),
	s("naptrServices", "naptrservices", aSUB),
	n("naptrPreference", "naptrpreference", aSUB, 1, 65535, "1"),
	{Name: "viewName", NITRO: "viewname", Kind: Name, Ops: OpSet, Extra: &Arg{Name: "viewIP", NITRO: "viewip", Kind: IP}},
	{Name: "weight", NITRO: "weight", Kind: Int, Min: 1, Max: 100, Ops: OpSet,
		Extra: &Arg{Name: "monitorName", NITRO: "monitor_name_svc", Kind: Name}},
	n("td", "td", OpAdd, 0, 4094, ""),
	// gslbd extension: where the service's load comes from (docs/monitors.md).
	e("loadSource", "loadsource", aSUB, "NONE", "NONE", "HAPROXY", "NGINX", "ENVOY", "PROMETHEUS", "NITRO"),
	s("loadURL", "loadurl", aSUB),
	{Name: "loadFilter", NITRO: "loadfilter", Kind: String, List: true, Ops: aSUB},
	timed("loadInterval", "loadinterval", "loadintervalunits", "2", 3600000),
}

// GSLB vserver arguments (docs §3.4).
var vserverArgs = []Arg{
	e("iptype", "iptype", aSUB, "IPV4", "IPV4", "IPV6"),
	e("dnsRecordType", "dnsrecordtype", aSUB, "A", "A", "AAAA", "CNAME", "NAPTR"),
	{Name: "lbMethod", NITRO: "lbmethod", Kind: Enum, Enum: LBMethods, Ops: aSUB, Default: "LEASTCONNECTION"},
	{Name: "backupLBMethod", NITRO: "backuplbmethod", Kind: Enum, Enum: LBMethods, Ops: aSUB},
	{Name: "netmask", NITRO: "netmask", Kind: Mask, Ops: aSUB, Default: "255.255.255.255"},
	n("v6netmasklen", "v6netmasklen", aSUB, 1, 128, "128"),
	s("rule", "rule", aSUB),
	n("tolerance", "tolerance", aSUB, 0, 100, ""),
	e("persistenceType", "persistencetype", aSUB, "NONE", "SOURCEIP", "NONE"),
	n("persistenceId", "persistenceid", aSUB, 0, 65535, ""),
	{Name: "persistMask", NITRO: "persistmask", Kind: Mask, Ops: aSUB, Default: "255.255.255.255"},
	n("v6persistmasklen", "v6persistmasklen", aSUB, 1, 128, "128"),
	n("timeout", "timeout", aSUB, 2, 1440, "2"),
	e("EDR", "edr", aSUB, "DISABLED"),
	e("ECS", "ecs", aSUB, "DISABLED"),
	e("ecsAddrValidation", "ecsaddrvalidation", aSUB, "DISABLED"),
	e("MIR", "mir", aSUB, "DISABLED"),
	e("disablePrimaryOnDown", "disableprimaryondown", aSUB, "DISABLED"),
	e("dynamicWeight", "dynamicweight", aSUB, "DISABLED", "SERVICECOUNT", "SERVICEWEIGHT", "DISABLED"),
	e("state", "state", OpAdd, "ENABLED"),
	e("considerEffectiveState", "considereffectivestate", aSUB, "NONE", "NONE", "STATE_ONLY"),
	s("comment", "comment", aSUB),
	e("soMethod", "somethod", aSUB, "", "CONNECTION", "DYNAMICCONNECTION", "BANDWIDTH", "HEALTH", "NONE"),
	n("soThreshold", "sothreshold", aSUB, 1, 4294967287, ""),
	e("soPersistence", "sopersistence", aSUB, "DISABLED"),
	n("soPersistenceTimeOut", "sopersistencetimeout", aSUB, 2, 1440, "2"),
	e("soBackupAction", "sobackupaction", aSUB, "", "DROP", "ACCEPT", "REDIRECT"),
	e("appflowLog", "appflowlog", aSUB, "ENABLED"),
	n("backupSessionTimeout", "backupsessiontimeout", aSUB, 0, 1440, ""),
	e("toggleOrder", "toggleorder", aSUB, "ASCENDING", "ASCENDING", "DESCENDING"),
	n("orderThreshold", "orderthreshold", aSUB, 0, 100, ""),
	k(Name, "backupVServer", "backupvserver", sU),
	// set gslb vserver -serviceName s -weight w / -domainName d ... change bindings.
	k(Name, "serviceName", "servicename", sU),
	n("weight", "weight", sU, 1, 100, ""),
	k(FQDN, "domainName", "domainname", OpSet),
	n("TTL", "ttl", OpSet, 1, 2147483647, ""),
	k(IPOrStar, "backupIP", "backupip", OpSet),
	s("cookieDomain", "cookie_domain", OpSet),
	n("cookieTimeout", "cookietimeout", OpSet, 0, 1440, ""),
	n("sitedomainTTL", "sitedomainttl", OpSet, 1, 2147483647, "3600"),
}

// bind gslb vserver arguments.
var vserverBindArgs = []Arg{
	k(Name, "serviceName", "servicename", OpBind|OpUnbind),
	n("weight", "weight", OpBind, 1, 100, "1"),
	n("order", "order", OpBind, 1, 8192, ""),
	k(Name, "serviceGroupName", "servicegroupname", OpBind|OpUnbind),
	k(FQDN, "domainName", "domainname", OpBind|OpUnbind),
	n("TTL", "ttl", OpBind, 1, 2147483647, ""),
	{Name: "backupIP", NITRO: "backupip", Kind: IPOrStar, Ops: OpBind},
	s("cookieDomain", "cookie_domain", OpBind),
	n("cookieTimeout", "cookietimeout", OpBind, 0, 1440, ""),
	n("sitedomainTTL", "sitedomainttl", OpBind, 1, 2147483647, "3600"),
	s("policyName", "policyname", OpBind|OpUnbind),
	n("priority", "priority", OpBind, 1, 2147483647, ""),
	s("gotoPriorityExpression", "gotopriorityexpression", OpBind),
	e("type", "type", OpBind, "", "REQUEST", "RESPONSE"),
}

// unbind gslb vserver: -domainName d [-backupIP] [-cookieDomain] remove only that attribute.
var vserverUnbindArgs = []Arg{
	k(Name, "serviceName", "servicename", OpUnbind),
	k(Name, "serviceGroupName", "servicegroupname", OpUnbind),
	k(FQDN, "domainName", "domainname", OpUnbind),
	k(Flag, "backupIP", "backupipflag", OpUnbind),
	k(Flag, "cookieDomain", "cookie_domainflag", OpUnbind),
	s("policyName", "policyname", OpUnbind),
}

// LocationFormats are `add locationFile -format`'s values, and
// LocationFormats6 `add locationFile6`'s (docs §3.10).
var (
	LocationFormats = []string{"netscaler", "ip-country", "ip-country-isp", "ip-country-region-city",
		"ip-country-region-city-isp", "geoip-country", "geoip-region", "geoip-city", "geoip-country-org",
		"geoip-country-isp", "geoip-city-isp-org"}
	LocationFormats6 = []string{"netscaler6", "geoip-country6"}
)

// DNSActionTypes are add dns action's types; DNSBindTypes the global
// bind points of DNS policies.
var (
	DNSActionTypes = []string{"ViewName", "GslbPrefLoc", "noop", "Drop", "Cache_Bypass", "Rewrite_Response"}
	DNSBindTypes   = []string{"REQ_OVERRIDE", "REQ_DEFAULT", "RES_OVERRIDE", "RES_DEFAULT"}
)

// dnsActionArgs and dnsPolicyArgs are add/set dns action's and policy's.
var dnsActionArgs = []Arg{
	k(Name, "viewName", "viewname", aSUB),
	{Name: "IPAddress", NITRO: "ipaddress", Kind: IP, List: true, Ops: aSUB},
	{Name: "TTL", NITRO: "ttl", Kind: Int, Min: 0, Max: 2147483647, Ops: aSUB, Default: "3600"},
	{Name: "preferredLocList", NITRO: "preferredloclist", Kind: String, List: true, Ops: aSUB},
	s("dnsProfileName", "dnsprofilename", aSUB),
}

var dnsPolicyArgs = []Arg{
	k(Name, "viewName", "viewname", aSUB),
	s("preferredLocation", "preferredlocation", aSUB),
	{Name: "preferredLocList", NITRO: "preferredloclist", Kind: String, List: true, Ops: aSUB},
	e("drop", "drop", aSUB, "NO", yesNo...),
	e("cacheBypass", "cachebypass", aSUB, "NO", yesNo...),
	s("logAction", "logaction", aSUB),
}

// webhookArgs are add/set gslb webhook's (gslbd's own).
var webhookArgs = []Arg{
	{Name: "secret", NITRO: "secret", Kind: String, Ops: aSUB, Secret: true},
	{Name: "events", NITRO: "events", Kind: Enum, Enum: []string{"service", "vserver", "site", "config"}, List: true, Ops: aSUB},
}

// dnsParamArgs are the options of set dns parameter that gslbd acts on:
// the appliance's NXDOMAIN rate limit and gslbd's response rate limiting
// (docs/operations.md); the appliance's other options are kept as they
// are (the command is loose).
var dnsParamArgs = []Arg{
	n("NXDOMAINRateLimitThreshold", "nxdomainratelimitthreshold", sU, 0, 4294967295, "0"),
	n("rrlResponsesPerSecond", "rrlresponsespersecond", sU, 0, 1000000, "0"),
	n("rrlNXDOMAINsPerSecond", "rrlnxdomainspersecond", sU, 0, 1000000, "0"),
	n("rrlErrorsPerSecond", "rrlerrorspersecond", sU, 0, 1000000, "0"),
	n("rrlWindow", "rrlwindow", sU, 1, 3600, "15"),
	n("rrlSlip", "rrlslip", sU, 0, 10, "2"),
	n("rrlIPv4PrefixLength", "rrlipv4prefixlength", sU, 8, 32, "24"),
	n("rrlIPv6PrefixLength", "rrlipv6prefixlength", sU, 16, 128, "56"),
	e("rrlLogOnly", "rrllogonly", sU, "NO", "YES", "NO"),
	{Name: "rrlExempt", NITRO: "rrlexempt", Kind: String, List: true, Ops: sU},
}

// locationParamArgs are set locationParameter's (docs §3.10).
var locationParamArgs = []Arg{
	e("context", "context", sU, "geographic", "geographic", "custom"),
	s("q1label", "q1label", sU), s("q2label", "q2label", sU), s("q3label", "q3label", sU),
	s("q4label", "q4label", sU), s("q5label", "q5label", sU), s("q6label", "q6label", sU),
	e("matchWildcardtoany", "matchwildcardtoany", sU, "NO", "YES", "NO", "Expression"),
}

// GSLB parameter (docs §3.5).
var parameterArgs = []Arg{
	n("ldnsEntryTimeout", "ldnsentrytimeout", sU, 30, 65534, "180"),
	n("RTTTolerance", "rtttolerance", sU, 1, 100, "5"),
	{Name: "ldnsMask", NITRO: "ldnsmask", Kind: Mask, Ops: sU, Default: "255.255.255.255"},
	n("v6ldnsmasklen", "v6ldnsmasklen", sU, 1, 128, "128"),
	{Name: "ldnsProbeOrder", NITRO: "ldnsprobeorder", Kind: Enum, Enum: []string{"PING", "DNS", "TCP"}, List: true, Ops: sU},
	e("dropLdnsReq", "dropldnsreq", sU, "DISABLED"),
	n("GSLBSvcStateDelayTime", "gslbsvcstatedelaytime", sU, 0, 3600, "0"),
	n("SvcStateLearningTime", "svcstatelearningtime", sU, 0, 3600, "0"),
	e("AutomaticConfigSync", "automaticconfigsync", sU, "DISABLED"),
	n("MEPKeepAliveTimeout", "mepkeepalivetimeout", sU, 1, 3600, "10"),
	n("GSLBSyncInterval", "gslbsyncinterval", sU, 1, 3600, "10"),
	e("GSLBSyncMode", "gslbsyncmode", sU, "IncrementalSync", "IncrementalSync", "FullSync"),
	e("GSLBSyncLocFiles", "gslbsynclocfiles", sU, "ENABLED"),
	e("GslbConfigSyncMonitor", "gslbconfigsyncmonitor", sU, "DISABLED"),
	e("GSLBSyncSaveConfigCommand", "gslbsyncsaveconfigcommand", sU, "DISABLED"),
	e("undefAction", "undefaction", sU, "NOLBACTION", "NOLBACTION", "RESET", "DROP"),
	// Undocumented: 13.x writes it on every save (set gslb parameter
	// -incarnation 278); NITRO shows it read-only. Kept as given.
	n("incarnation", "incarnation", sU, 0, 4294967295, ""),
	// gslbd extension: probe local services without a monitor with their
	// type's default monitor, or through their LB vserver (docs/migration.md).
	e("defaultMonitors", "defaultmonitors", sU, "ENABLED"),
	// gslbd: the clients that may ask _explain.<domain> TXT (the decision
	// trace over DNS, docs/explain.md); none by default.
	{Name: "explainFrom", NITRO: "explainfrom", Kind: String, List: true, Ops: sU},
}

// Service group arguments (docs §3.3).
var serviceGroupArgs = []Arg{
	k(Name, "siteName", "sitename", OpAdd),
	n("maxClient", "maxclient", aSUB, 0, 4294967294, ""),
	{Name: "cip", NITRO: "cip", Kind: Enum, Enum: enabledDisabled, Ops: aSUB,
		Extra: &Arg{Name: "cipHeader", NITRO: "cipheader", Kind: String}},
	e("healthMonitor", "healthmonitor", aSUB, "YES", yesNo...),
	n("cltTimeout", "clttimeout", aSUB, 0, 31536000, ""),
	n("svrTimeout", "svrtimeout", aSUB, 0, 31536000, ""),
	n("maxBandwidth", "maxbandwidth", aSUB, 0, 4294967287, ""),
	n("monThreshold", "monthreshold", aSUB, 0, 65535, ""),
	e("state", "state", OpAdd, "ENABLED"),
	e("downStateFlush", "downstateflush", aSUB, "ENABLED"),
	s("comment", "comment", aSUB),
	e("appflowLog", "appflowlog", aSUB, "ENABLED"),
	e("autoScale", "autoscale", aSUB, "DISABLED", "DISABLED", "DNS"),
	e("sitePersistence", "sitepersistence", aSUB, "", "ConnectionProxy", "HTTPRedirect", "NONE"),
	s("sitePrefix", "siteprefix", aSUB),
}

// bind gslb serviceGroup <g> <ip|server> <port> member arguments.
var memberArgs = []Arg{
	n("weight", "weight", OpBind, 1, 100, "1"),
	n("hashId", "hashid", OpBind, 1, 4294967295, ""),
	k(IP, "publicIP", "publicip", OpBind),
	num("publicPort", "publicport", OpBind, 1, 65535, ""),
	s("sitePrefix", "siteprefix", OpBind),
	e("state", "state", OpBind, "ENABLED"),
	n("order", "order", OpBind, 1, 8192, ""),
	k(Name, "monitorName", "monitor_name", OpBind|OpUnbind),
	e("monState", "monstate", OpBind, "ENABLED"),
	k(Flag, "passive", "passive", OpBind),
}

// MonitorTypes are the lb monitor types (docs §3.9). gslbd probes the ones in
// ProbedMonitorTypes; the others are accepted and probed with a TCP connect
// (a warning says so).
var MonitorTypes = []string{"PING", "TCP", "HTTP", "TCP-ECV", "HTTP-ECV", "UDP-ECV", "DNS", "FTP", "LDNS-PING",
	"LDNS-TCP", "LDNS-DNS", "RADIUS", "USER", "HTTP-INLINE", "SIP-UDP", "SIP-TCP", "LOAD", "FTP-EXTENDED", "SMTP",
	"SNMP", "NNTP", "MYSQL", "MYSQL-ECV", "MSSQL-ECV", "ORACLE-ECV", "LDAP", "POP3", "CITRIX-XML-SERVICE",
	"CITRIX-WEB-INTERFACE", "DNS-TCP", "RTSP", "ARP", "CITRIX-AG", "CITRIX-AAC-LOGINPAGE", "CITRIX-AAC-LAS",
	"CITRIX-XD-DDC", "ND6", "CITRIX-WI-EXTENDED", "DIAMETER", "RADIUS_ACCOUNTING", "STOREFRONT", "APPC", "SMPP",
	"CITRIX-XNC-ECV", "CITRIX-XDM", "CITRIX-STA-SERVICE", "CITRIX-STA-SERVICE-NHOP", "HTTP2", "MQTT",
	"DTLS", "QUIC", "KAFKA-AUTODISCOVER"}

// TimeUnits are the units a monitor time may carry (-interval 500 MSEC).
var TimeUnits = []string{"SEC", "MSEC", "MIN"}

func timed(name, nitro, unitNITRO, def string, max int64) Arg {
	return Arg{Name: name, NITRO: nitro, Kind: Int, Min: 0, Max: max, Ops: aSUB, Default: def, Number: nitro != "deviation",
		Extra: &Arg{Name: "units", NITRO: unitNITRO, Kind: Enum, Enum: TimeUnits}}
}

// lb monitor arguments (docs §3.9). Times are checked against their unit
// when the configuration is built.
var monitorArgs = []Arg{
	e("LRTM", "lrtm", aSUB, "ENABLED"),
	timed("deviation", "deviation", "units1", "", 20939000),
	timed("interval", "interval", "units3", "5", 20940000),
	timed("resptimeout", "resptimeout", "units4", "2", 20939000),
	n("resptimeoutThresh", "resptimeoutthresh", aSUB, 0, 100, ""),
	num("retries", "retries", aSUB, 1, 127, "3"),
	num("failureRetries", "failureretries", aSUB, 0, 32, "0"),
	num("alertRetries", "alertretries", aSUB, 0, 32, ""),
	num("successRetries", "successretries", aSUB, 1, 32, "1"),
	timed("downTime", "downtime", "units2", "30", 20939000),
	k(IP, "destIP", "destip", aSUB),
	num("destPort", "destport", aSUB, 0, 65535, ""),
	e("state", "state", OpAdd, "ENABLED"),
	e("reverse", "reverse", aSUB, "NO", yesNo...),
	e("transparent", "transparent", aSUB, "NO", yesNo...),
	e("ipTunnel", "iptunnel", aSUB, "NO", yesNo...),
	e("tos", "tos", aSUB, "", yesNo...),
	n("tosId", "tosid", aSUB, 1, 63, ""),
	e("secure", "secure", aSUB, "NO", yesNo...),
	s("sslProfile", "sslprofile", aSUB),
	s("netProfile", "netprofile", aSUB),
	s("httpRequest", "httprequest", aSUB),
	{Name: "respCode", NITRO: "respcode", Kind: String, List: true, Ops: aSUB},
	s("customHeaders", "customheaders", aSUB),
	s("send", "send", aSUB),
	s("recv", "recv", aSUB),
	e("action", "action", aSUB, "", "NONE", "LOG", "DOWN"),
	k(FQDN, "query", "query", aSUB),
	e("queryType", "querytype", aSUB, "", "Address", "Zone", "AAAA"),
	{Name: "IPAddress", NITRO: "ipaddress", Kind: IP, List: true, Ops: aSUB},
	s("snmpOID", "Snmpoid", aSUB),
	s("snmpCommunity", "snmpcommunity", aSUB),
	n("snmpThreshold", "snmpthreshold", aSUB, 0, 4294967295, ""),
	e("snmpVersion", "snmpversion", aSUB, "", "V1", "V2"),
	k(Name, "metricTable", "metrictable", aSUB),
	n("trofscode", "trofscode", aSUB, 0, 65535, ""),
	s("trofsstring", "trofsstring", aSUB),
	s("storename", "storename", aSUB),
	e("storefrontacctservice", "storefrontacctservice", aSUB, "YES", yesNo...),
	e("storefrontcheckbackendservices", "storefrontcheckbackendservices", aSUB, "NO", yesNo...),
	// RADIUS: the user and password of the probe's Access-Request, the
	// shared secret, and the NAS identity it gives. Secrets are never
	// returned by GETs.
	s("userName", "username", aSUB),
	{Name: "password", NITRO: "password", Kind: String, Ops: aSUB, Secret: true},
	{Name: "radKey", NITRO: "radkey", Kind: String, Ops: aSUB, Secret: true},
	s("radNASid", "radnasid", aSUB),
	k(IP, "radNASip", "radnasip", aSUB),
	// gslbd extension: verify the server certificate of secure probes
	// (NetScaler never does; off by default for compatibility).
	e("sslVerify", "sslverify", aSUB, "NO", yesNo...),
	s("sslServerName", "sslservername", aSUB),
}

var monitorKey = pos(Name, "monitorName", "monitorname")
var monitorType = Arg{Name: "type", NITRO: "type", Kind: Enum, Enum: MonitorTypes}

// lb monitor metric binding (LOAD monitors).
var monitorBindArgs = []Arg{
	s("metric", "metric", OpBind|OpUnbind),
	n("metricThreshold", "metricthreshold", OpBind, 0, 4294967295, ""),
	n("metricWeight", "metricweight", OpBind, 1, 100, "1"),
}

var ttlArg = n("TTL", "ttl", aSUB, 0, 2147483647, "3600")

func cmd(verb, group string, posArgs []Arg, opts []Arg) *Command {
	return &Command{Verb: verb, Group: group, Pos: posArgs, Opts: opts}
}

func loose(c *Command) *Command { c.Loose = true; return c }

var siteKey = pos(Name, "siteName", "sitename")
var svcKey = pos(Name, "serviceName", "servicename")
var vsKey = pos(Name, "name", "name")
var sgKey = pos(Name, "serviceGroupName", "servicegroupname")
var newName = pos(Name, "newName", "newname")

var commands = []*Command{
	// gslb site
	cmd("add", "gslb site", []Arg{siteKey,
		{Name: "siteType", NITRO: "sitetype", Kind: Enum, Enum: []string{"LOCAL", "REMOTE"}, Optional: true},
		pos(IP, "siteIPAddress", "siteipaddress")}, filter(OpAdd, siteArgs)),
	cmd("set", "gslb site", []Arg{siteKey}, filter(OpSet, siteArgs)),
	cmd("unset", "gslb site", []Arg{siteKey}, filter(OpUnset, siteArgs)),
	cmd("rm", "gslb site", []Arg{siteKey}, nil),
	cmd("rename", "gslb site", []Arg{siteKey, newName}, nil),

	// gslb service
	cmd("add", "gslb service", []Arg{svcKey,
		{Name: "IP", NITRO: "ip", Kind: IPOrName, Optional: true},
		{Name: "serviceType", NITRO: "servicetype", Kind: Enum, Enum: ServiceTypes, Optional: true},
		{Name: "port", NITRO: "port", Kind: Port, Optional: true}}, filter(OpAdd, gslbServiceArgs)),
	cmd("set", "gslb service", []Arg{svcKey}, filter(OpSet, gslbServiceArgs)),
	cmd("unset", "gslb service", []Arg{svcKey}, filter(OpUnset, gslbServiceArgs)),
	cmd("rm", "gslb service", []Arg{svcKey}, nil),
	cmd("rename", "gslb service", []Arg{svcKey, newName}, nil),
	// Deviation: NetScaler has no enable/disable for GSLB services (the local
	// LB vserver decides); gslbd offers them as the admin switch.
	cmd("enable", "gslb service", []Arg{svcKey}, nil),
	cmd("disable", "gslb service", []Arg{svcKey}, nil),
	cmd("bind", "gslb service", []Arg{svcKey}, []Arg{
		{Name: "viewName", NITRO: "viewname", Kind: Name, Ops: OpBind, Extra: &Arg{Name: "viewIP", NITRO: "viewip", Kind: IP}},
		k(Name, "monitorName", "monitor_name", OpBind),
		e("monState", "monstate", OpBind, "ENABLED"),
		n("weight", "weight", OpBind, 1, 100, "1"),
	}),
	cmd("unbind", "gslb service", []Arg{svcKey}, []Arg{
		k(Name, "viewName", "viewname", OpUnbind),
		k(Name, "monitorName", "monitor_name", OpUnbind),
	}),

	// gslb serviceGroup
	cmd("add", "gslb serviceGroup", []Arg{sgKey, {Name: "serviceType", NITRO: "servicetype", Kind: Enum, Enum: ServiceTypes}},
		filter(OpAdd, serviceGroupArgs)),
	cmd("set", "gslb serviceGroup", []Arg{sgKey}, filter(OpSet, serviceGroupArgs)),
	cmd("unset", "gslb serviceGroup", []Arg{sgKey}, filter(OpUnset, serviceGroupArgs)),
	cmd("rm", "gslb serviceGroup", []Arg{sgKey}, nil),
	cmd("rename", "gslb serviceGroup", []Arg{sgKey, newName}, nil),
	cmd("enable", "gslb serviceGroup", []Arg{sgKey}, nil),
	cmd("disable", "gslb serviceGroup", []Arg{sgKey}, nil),
	cmd("bind", "gslb serviceGroup", []Arg{sgKey,
		{Name: "IP", NITRO: "ip", Kind: IPOrName, Optional: true},
		{Name: "port", NITRO: "port", Kind: Port, Optional: true}}, filter(OpBind, memberArgs)),
	cmd("unbind", "gslb serviceGroup", []Arg{sgKey,
		{Name: "IP", NITRO: "ip", Kind: IPOrName, Optional: true},
		{Name: "port", NITRO: "port", Kind: Port, Optional: true}}, filter(OpUnbind, memberArgs)),

	// gslb vserver
	cmd("add", "gslb vserver", []Arg{vsKey, {Name: "serviceType", NITRO: "servicetype", Kind: Enum, Enum: ServiceTypes}},
		filter(OpAdd, vserverArgs)),
	cmd("set", "gslb vserver", []Arg{vsKey}, filter(OpSet, vserverArgs)),
	cmd("unset", "gslb vserver", []Arg{vsKey}, filter(OpUnset, vserverArgs)),
	cmd("rm", "gslb vserver", []Arg{vsKey}, nil),
	cmd("enable", "gslb vserver", []Arg{vsKey}, nil),
	cmd("disable", "gslb vserver", []Arg{vsKey}, nil),
	cmd("rename", "gslb vserver", []Arg{vsKey, newName}, nil),
	cmd("bind", "gslb vserver", []Arg{vsKey}, filter(OpBind, vserverBindArgs)),
	cmd("unbind", "gslb vserver", []Arg{vsKey}, vserverUnbindArgs),

	// lb monitor and lb metricTable (docs §3.9). Loose: type-specific
	// options of types gslbd does not probe are kept as written.
	loose(cmd("add", "lb monitor", []Arg{monitorKey, monitorType}, filter(OpAdd, monitorArgs))),
	loose(cmd("set", "lb monitor", []Arg{monitorKey, monitorType}, filter(OpSet, monitorArgs))),
	cmd("unset", "lb monitor", []Arg{monitorKey, monitorType}, filter(OpUnset, monitorArgs)),
	cmd("rm", "lb monitor", []Arg{monitorKey, {Name: "type", NITRO: "type", Kind: Enum, Enum: MonitorTypes, Optional: true}}, nil),
	cmd("enable", "lb monitor", []Arg{monitorKey}, nil),
	cmd("disable", "lb monitor", []Arg{monitorKey}, nil),
	// bind lb monitor <m> -metric ... (LOAD), or the legacy
	// bind lb monitor <m> <serviceName> (stored as a service binding).
	cmd("bind", "lb monitor", []Arg{monitorKey, {Name: "serviceName", NITRO: "servicename", Kind: Name, Optional: true}},
		append(filter(OpBind, monitorBindArgs), e("monState", "state", OpBind, "ENABLED"), n("weight", "weight", OpBind, 1, 100, "1"))),
	cmd("unbind", "lb monitor", []Arg{monitorKey, {Name: "serviceName", NITRO: "servicename", Kind: Name, Optional: true}},
		filter(OpUnbind, monitorBindArgs)),
	cmd("add", "lb metricTable", []Arg{pos(Name, "metricTable", "metrictable")}, nil),
	cmd("rm", "lb metricTable", []Arg{pos(Name, "metricTable", "metrictable")}, nil),
	cmd("bind", "lb metricTable", []Arg{pos(Name, "metricTable", "metrictable"), pos(String, "metric", "metric"),
		pos(String, "snmpOID", "Snmpoid")}, nil),
	cmd("set", "lb metricTable", []Arg{pos(Name, "metricTable", "metrictable"), pos(String, "metric", "metric"),
		pos(String, "snmpOID", "Snmpoid")}, nil),
	cmd("unbind", "lb metricTable", []Arg{pos(Name, "metricTable", "metrictable"), pos(String, "metric", "metric")}, nil),

	// gslb parameter
	cmd("set", "gslb parameter", nil, filter(OpSet, parameterArgs)),
	cmd("unset", "gslb parameter", nil, filter(OpUnset, parameterArgs)),

	// dns parameter: the rate limits modelled, the rest kept.
	loose(cmd("set", "dns parameter", nil, filter(OpSet, dnsParamArgs))),
	loose(cmd("unset", "dns parameter", nil, filter(OpUnset, dnsParamArgs))),

	// gslbd: webhooks for state-change events (docs/events.md).
	cmd("add", "gslb webhook", []Arg{pos(Name, "name", "name"), pos(String, "URL", "url")}, filter(OpAdd, webhookArgs)),
	cmd("set", "gslb webhook", []Arg{pos(Name, "name", "name")}, filter(OpSet, webhookArgs)),
	cmd("unset", "gslb webhook", []Arg{pos(Name, "name", "name")}, filter(OpUnset, webhookArgs)),
	cmd("rm", "gslb webhook", []Arg{pos(Name, "name", "name")}, nil),

	// Static proximity's location database (docs §3.10).
	cmd("add", "location", []Arg{pos(IP, "IPfrom", "ipfrom"), pos(IP, "IPto", "ipto"), pos(String, "preferredLocation", "preferredlocation")},
		// Coordinates: integers on the appliance (NITRO <Integer>), decimals
		// in gslbd.
		[]Arg{{Name: "longitude", NITRO: "longitude", Kind: String, Ops: OpAdd, Number: true},
			{Name: "latitude", NITRO: "latitude", Kind: String, Ops: OpAdd, Number: true}}),
	cmd("rm", "location", []Arg{pos(IP, "IPfrom", "ipfrom"), pos(IP, "IPto", "ipto")}, nil),
	cmd("set", "locationParameter", nil, filter(OpSet, locationParamArgs)),
	cmd("unset", "locationParameter", nil, filter(OpUnset, locationParamArgs)),
	cmd("add", "locationFile", []Arg{pos(String, "Locationfile", "Locationfile")},
		[]Arg{e("format", "format", OpAdd, "netscaler", LocationFormats...)}),
	cmd("rm", "locationFile", []Arg{{Name: "Locationfile", NITRO: "Locationfile", Kind: String, Optional: true}}, nil),
	cmd("add", "locationFile6", []Arg{pos(String, "Locationfile", "Locationfile")},
		[]Arg{e("format", "format", OpAdd, "netscaler6", LocationFormats6...)}),
	cmd("rm", "locationFile6", []Arg{{Name: "Locationfile", NITRO: "Locationfile", Kind: String, Optional: true}}, nil),

	// ADNS listeners and servers: modelled in part (Loose).
	loose(cmd("add", "service", []Arg{pos(Name, "name", "name"), pos(IPOrName, "IP", "ip"),
		{Name: "serviceType", NITRO: "servicetype", Kind: Enum, Enum: AppServiceTypes}, pos(Port, "port", "port")},
		[]Arg{e("state", "state", OpAdd, "ENABLED"), s("comment", "comment", OpAdd)})),
	loose(cmd("set", "service", []Arg{pos(Name, "name", "name")}, nil)),
	cmd("rm", "service", []Arg{pos(Name, "name", "name")}, nil),
	cmd("enable", "service", []Arg{pos(Name, "name", "name")}, nil),
	// disable service <name> [-delay s] [-graceFul YES|NO]: NITRO clients
	// send delay (0) to a GSLB service too.
	loose(cmd("disable", "service", []Arg{pos(Name, "name", "name")}, []Arg{
		n("delay", "delay", OpAdd, 0, 31536000, ""), e("graceFul", "graceful", OpAdd, "NO", yesNo...)})),
	loose(cmd("add", "server", []Arg{pos(Name, "name", "name"), pos(String, "IPAddress", "ipaddress")},
		[]Arg{e("state", "state", OpAdd, "ENABLED"), s("comment", "comment", OpAdd)})),
	cmd("rm", "server", []Arg{pos(Name, "name", "name")}, nil),
	loose(cmd("add", "ns ip", []Arg{pos(IP, "IPAddress", "ipaddress"), pos(Mask, "netmask", "netmask")}, nil)),
	loose(cmd("add", "ns ip6", []Arg{pos(String, "IPv6Address", "ipv6address")}, nil)),
	cmd("enable", "ns feature", []Arg{{Name: "feature", NITRO: "feature", Kind: String, List: true}}, nil),
	cmd("disable", "ns feature", []Arg{{Name: "feature", NITRO: "feature", Kind: String, List: true}}, nil),

	// DNS views and the policies that choose them (split horizon).
	cmd("add", "dns view", []Arg{pos(Name, "viewName", "viewname")}, nil),
	cmd("rm", "dns view", []Arg{pos(Name, "viewName", "viewname")}, nil),
	loose(cmd("add", "dns action", []Arg{pos(Name, "actionName", "actionname"),
		{Name: "actionType", NITRO: "actiontype", Kind: Enum, Enum: DNSActionTypes}}, filter(OpAdd, dnsActionArgs))),
	loose(cmd("set", "dns action", []Arg{pos(Name, "actionName", "actionname")}, filter(OpSet, dnsActionArgs))),
	cmd("rm", "dns action", []Arg{pos(Name, "actionName", "actionname")}, nil),
	cmd("add", "dns policy", []Arg{pos(Name, "name", "name"), {Name: "rule", NITRO: "rule", Kind: String, Quoted: true},
		{Name: "actionName", NITRO: "actionname", Kind: Name, Optional: true}}, filter(OpAdd, dnsPolicyArgs)),
	cmd("set", "dns policy", []Arg{pos(Name, "name", "name")},
		append(filter(OpSet, dnsPolicyArgs), Arg{Name: "rule", NITRO: "rule", Kind: String, Ops: OpSet, Quoted: true}, k(Name, "actionName", "actionname", OpSet))),
	cmd("unset", "dns policy", []Arg{pos(Name, "name", "name")}, filter(OpUnset, dnsPolicyArgs)),
	cmd("rm", "dns policy", []Arg{pos(Name, "name", "name")}, nil),
	loose(cmd("bind", "dns global", []Arg{pos(Name, "policyName", "policyname"), {Name: "priority", NITRO: "priority", Kind: Int, Min: 1, Max: 2147483647, Number: true}},
		[]Arg{s("gotoPriorityExpression", "gotopriorityexpression", OpBind), always(e("type", "type", OpBind, "REQ_DEFAULT", DNSBindTypes...))})),
	cmd("unbind", "dns global", []Arg{pos(Name, "policyName", "policyname")}, []Arg{e("type", "type", OpUnbind, "REQ_DEFAULT", DNSBindTypes...)}),

	// DNS zones and records (docs §3.8).
	cmd("add", "dns zone", []Arg{pos(FQDN, "zoneName", "zonename")}, []Arg{
		e("proxyMode", "proxymode", aSUB, "", yesNo...), e("dnssecOffload", "dnssecoffload", aSUB, "DISABLED"),
		e("nsec", "nsec", aSUB, "DISABLED")}),
	cmd("set", "dns zone", []Arg{pos(FQDN, "zoneName", "zonename")}, []Arg{
		e("proxyMode", "proxymode", aSUB, "", yesNo...), e("dnssecOffload", "dnssecoffload", aSUB, "DISABLED"),
		e("nsec", "nsec", aSUB, "DISABLED")}),
	cmd("rm", "dns zone", []Arg{pos(FQDN, "zoneName", "zonename")}, nil),
	cmd("add", "dns soaRec", []Arg{pos(FQDN, "domain", "domain")}, soaArgs(OpAdd)),
	cmd("set", "dns soaRec", []Arg{pos(FQDN, "domain", "domain")}, soaArgs(OpSet)),
	cmd("unset", "dns soaRec", []Arg{pos(FQDN, "domain", "domain")}, soaArgs(OpUnset)),
	cmd("rm", "dns soaRec", []Arg{pos(FQDN, "domain", "domain")}, nil),
	cmd("add", "dns nsRec", []Arg{pos(FQDN, "domain", "domain"), pos(FQDN, "nameServer", "nameserver")}, []Arg{ttlArg}),
	cmd("rm", "dns nsRec", []Arg{pos(FQDN, "domain", "domain"), pos(FQDN, "nameServer", "nameserver")}, nil),
	cmd("add", "dns addRec", []Arg{pos(FQDN, "hostName", "hostname"), {Name: "IPAddress", NITRO: "ipaddress", Kind: IP, List: true}}, []Arg{ttlArg}),
	cmd("rm", "dns addRec", []Arg{pos(FQDN, "hostName", "hostname"), {Name: "IPAddress", NITRO: "ipaddress", Kind: IP, List: true, Optional: true}}, nil),
	cmd("add", "dns aaaaRec", []Arg{pos(FQDN, "hostName", "hostname"), {Name: "IPv6Address", NITRO: "ipv6address", Kind: IP, List: true}}, []Arg{ttlArg}),
	cmd("rm", "dns aaaaRec", []Arg{pos(FQDN, "hostName", "hostname"), {Name: "IPv6Address", NITRO: "ipv6address", Kind: IP, List: true, Optional: true}}, nil),
	cmd("add", "dns cnameRec", []Arg{pos(FQDN, "aliasName", "aliasname"), pos(FQDN, "canonicalName", "canonicalname")}, []Arg{ttlArg}),
	cmd("rm", "dns cnameRec", []Arg{pos(FQDN, "aliasName", "aliasname")}, nil),
	cmd("add", "dns mxRec", []Arg{pos(FQDN, "domain", "domain")}, []Arg{
		{Name: "mx", NITRO: "mx", Kind: FQDN, Ops: aSUB}, n("pref", "pref", OpAdd|OpSet, 0, 65535, ""), ttlArg}),
	cmd("set", "dns mxRec", []Arg{pos(FQDN, "domain", "domain")}, []Arg{
		{Name: "mx", NITRO: "mx", Kind: FQDN, Ops: aSUB}, n("pref", "pref", OpAdd|OpSet, 0, 65535, ""), ttlArg}),
	cmd("rm", "dns mxRec", []Arg{pos(FQDN, "domain", "domain"), pos(FQDN, "mx", "mx")}, nil),
	cmd("add", "dns txtRec", []Arg{pos(FQDN, "domain", "domain"), {Name: "String", NITRO: "String", Kind: String, List: true}}, []Arg{ttlArg}),
	cmd("rm", "dns txtRec", []Arg{pos(FQDN, "domain", "domain"), {Name: "String", NITRO: "String", Kind: String, List: true, Optional: true}},
		[]Arg{n("recordId", "recordid", OpRm, 1, 65535, "")}),
	cmd("add", "dns srvRec", []Arg{pos(FQDN, "domain", "domain"), pos(FQDN, "target", "target")}, []Arg{
		n("priority", "priority", aSUB, 0, 65535, ""), n("weight", "weight", aSUB, 0, 65535, ""),
		n("port", "port", aSUB, 0, 65535, ""), ttlArg}),
	cmd("rm", "dns srvRec", []Arg{pos(FQDN, "domain", "domain"), pos(FQDN, "target", "target")}, nil),
	cmd("add", "dns ptrRec", []Arg{pos(FQDN, "reverseDomain", "reversedomain"), {Name: "domain", NITRO: "domain", Kind: FQDN, List: true}}, []Arg{ttlArg}),
	cmd("rm", "dns ptrRec", []Arg{pos(FQDN, "reverseDomain", "reversedomain"), {Name: "domain", NITRO: "domain", Kind: FQDN, List: true, Optional: true}}, nil),
}

func soaArgs(op Ops) []Arg {
	all := []Arg{
		{Name: "originServer", NITRO: "originserver", Kind: FQDN, Ops: OpAdd | OpSet},
		{Name: "contact", NITRO: "contact", Kind: FQDN, Ops: OpAdd | OpSet},
		n("serial", "serial", aSUB, 0, 4294967294, "100"),
		n("refresh", "refresh", aSUB, 0, 4294967294, "3600"),
		n("retry", "retry", aSUB, 0, 4294967294, "3"),
		n("expire", "expire", aSUB, 0, 4294967294, "3600"),
		n("minimum", "minimum", aSUB, 0, 2147483647, "5"),
		ttlArg,
	}
	return filter(op, all)
}

var byKey = func() map[string]*Command {
	m := make(map[string]*Command, len(commands))
	for _, c := range commands {
		m[strings.ToLower(c.Key())] = c
	}
	return m
}()

// Lookup returns the command for a canonical verb and group (case-insensitive).
func Lookup(verb, group string) *Command {
	return byKey[strings.ToLower(verb+" "+group)]
}

// KeyNITRO is the NITRO field naming an object of a group: the first
// positional argument of its add (else bind, else set) command; "name"
// when the group has none.
func KeyNITRO(group string) string {
	for _, verb := range []string{"add", "bind", "set"} {
		if c := Lookup(verb, group); c != nil && len(c.Pos) > 0 {
			return c.Pos[0].NITRO
		}
	}
	return "name"
}

// Verbs lists every verb the CLI knows, modelled or not, so that prefixes
// ("sh" for show) resolve as on the appliance.
var Verbs = []string{"add", "rm", "set", "unset", "bind", "unbind", "enable", "disable", "show", "stat",
	"rename", "sync", "clear", "import", "create", "sign", "unsign", "save", "batch", "apply", "update",
	"link", "unlink", "reset", "force", "switch", "kill", "install", "shutdown", "reboot", "expand", "diff", "send",
	"start", "stop", "check", "join", "push", "restart", "renumber", "resume", "suspend", "flush", "convert",
	"explain"} // explain: gslbd's (the decision trace)

// groups are the modelled groups in order, computed once: the parser asks
// for them on every line.
var groups = func() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range commands {
		if !seen[c.Group] {
			seen[c.Group] = true
			out = append(out, c.Group)
		}
	}
	return out
}()

// Groups lists the two-word groups gslbd models; other groups are skipped.
// The slice is shared: callers must not change it.
func Groups() []string { return groups }

// groupWords are the lower-cased words of each group of Groups, in the
// same order: the parser matches every line against them.
var groupWords = func() [][]string {
	out := make([][]string, len(groups))
	for i, g := range groups {
		out[i] = strings.Fields(strings.ToLower(g))
	}
	return out
}()

// GroupWords returns the lower-cased words of each group of Groups, in
// the same order. Shared: callers must not change it.
func GroupWords() [][]string { return groupWords }
