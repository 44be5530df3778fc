package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gslbd/gslbd/internal/nsconf"
	"github.com/gslbd/gslbd/internal/nserr"
)

// Monitor is an `lb monitor`. Built-in monitors exist without being added;
// a `set lb monitor` on one stores it here with Builtin set.
type Monitor struct {
	Name    string
	Type    string
	Builtin bool
	Args    Args
	Metrics []MetricBinding // LOAD monitors: bind lb monitor m -metric ...
	Pos     nsconf.Pos
}

// MetricBinding is `bind lb monitor <m> -metric <name> -metricThreshold n [-metricWeight n]`.
type MetricBinding struct {
	Metric string
	Args   Args
	Pos    nsconf.Pos
}

// MetricTable is `add lb metricTable` with its metric -> SNMP OID bindings.
type MetricTable struct {
	Name    string
	Metrics []MetricOID
	Pos     nsconf.Pos
}

// MetricOID maps a metric name to an SNMP OID.
type MetricOID struct {
	Metric string
	OID    string
	Pos    nsconf.Pos
}

// builtinMonitors are the monitors a 14.1 appliance has without
// configuration, with their types and the settings they have there (saved
// files set them with `set lb monitor <name> <TYPE> ...`; 13.x writes
// those settings out in full, e.g. `set lb monitor sta
// CITRIX-STA-SERVICE -deviation 0 -interval 2 MIN -resptimeout 4
// -downTime 5`). tcp-default and ping-default are what the appliance binds
// to services without a monitor (TCP and non-TCP services).
var builtinMonitors = []struct{ name, typ, args string }{
	{"ping-default", "PING", ""}, {"tcp-default", "TCP", ""}, {"quic-default", "QUIC", ""},
	{"kafka-autodiscover", "KAFKA-AUTODISCOVER", ""}, {"arp", "ARP", ""}, {"nd6", "ND6", ""},
	{"ping", "PING", ""}, {"tcp", "TCP", ""}, {"http", "HTTP", ""}, {"tcp-ecv", "TCP-ECV", ""},
	{"http-ecv", "HTTP-ECV", ""}, {"udp-ecv", "UDP-ECV", ""}, {"dns", "DNS", ""}, {"ftp", "FTP", ""},
	{"tcps", "TCP", "-secure YES"}, {"https", "HTTP", "-secure YES"}, {"tcps-ecv", "TCP-ECV", "-secure YES"},
	{"https-ecv", "HTTP-ECV", "-secure YES"}, {"xdm", "CITRIX-XDM", ""}, {"xnc", "CITRIX-XNC-ECV", ""},
	{"mqtt", "MQTT", ""}, {"mqtt-tls", "MQTT", "-secure YES"}, {"http2direct", "HTTP2", ""},
	{"http2ssl", "HTTP2", "-secure YES"}, {"dtls", "DTLS", ""}, {"ldns-ping", "LDNS-PING", ""},
	{"ldns-tcp", "LDNS-TCP", ""},
	{"ldns-dns", "LDNS-DNS", "-query . -queryType Address -interval 6 -resptimeout 3 -downTime 20"},
	{"stasecure", "CITRIX-STA-SERVICE", "-secure YES -interval 2 MIN -resptimeout 4 -downTime 5"},
	{"sta", "CITRIX-STA-SERVICE", "-interval 2 MIN -resptimeout 4 -downTime 5"},
}

// builtinArgs are the built-in monitors' own settings, parsed once.
var builtinArgs = sync.OnceValue(func() map[string]Args {
	out := map[string]Args{}
	for _, b := range builtinMonitors {
		var args Args
		if b.args != "" {
			cmd, err := nsconf.ParseLine("set lb monitor " + b.name + " " + b.typ + " " + b.args)
			if err != nil {
				panic("built-in monitor " + b.name + ": " + err.Error())
			}
			for _, v := range cmd.Opts {
				args.Set(v)
			}
		}
		out[b.name] = args
	}
	return out
})

// withBuiltin returns a built-in monitor with its own settings under what
// the configuration set.
func withBuiltin(m *Monitor) *Monitor {
	def, ok := builtinArgs()[strings.ToLower(m.Name)]
	if !ok || len(def.vals) == 0 {
		return m
	}
	x := *m
	x.Args = def.clone()
	for _, v := range m.Args.vals {
		x.Args.Set(v)
	}
	return &x
}

func builtinType(name string) (string, bool) {
	for _, b := range builtinMonitors {
		if strings.EqualFold(b.name, name) {
			return b.typ, true
		}
	}
	return "", false
}

// monitor returns a configured or built-in monitor. A built-in one not yet
// changed is returned fresh (not stored).
func (c *Config) monitor(name string) (*Monitor, bool) {
	if m, ok := c.Monitors.Get(name); ok {
		return m, true
	}
	typ, ok := builtinType(name)
	if !ok {
		return nil, false
	}
	return &Monitor{Name: strings.ToLower(name), Type: typ, Builtin: true}, true
}

// monitorCmd applies add/set/unset/rm/enable/disable/bind/unbind lb monitor.
func (a *applier) monitorCmd() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("monitorName")
	typ := a.pos("type")
	verb := cmd.Spec.Verb
	if verb == "add" {
		if _, ok := c.monitor(name); ok {
			return a.errf(nserr.Exist, "lb monitor %q: already exists", name)
		}
		m := &Monitor{Name: name, Type: typ, Args: a.optArgs(), Pos: cmd.Pos}
		c.Monitors.Put(name, m)
		a.owner = m
		return nil
	}
	m, ok := c.monitor(name)
	if !ok {
		return a.errf(nserr.NoEnt, "lb monitor %q: no such monitor", name)
	}
	if typ != "" && typ != m.Type {
		return a.errf(nserr.ArgValBad, "lb monitor %q: is of type %s, not %s", name, m.Type, typ)
	}
	if (verb == "bind" || verb == "unbind") && a.pos("serviceName") != "" {
		return a.monitorBind(m) // the legacy service binding changes the service, not the monitor
	}
	if verb != "rm" {
		// A built-in monitor being changed becomes a stored one, placed at
		// the first line that changes it.
		if m.Builtin && m.Pos.Line == 0 {
			m.Pos = cmd.Pos
			c.Monitors.Put(m.Name, m)
		}
		m, _ = c.Monitors.Edit(name)
	}
	a.owner = m
	switch verb {
	case "set":
		a.merge(&m.Args)
	case "unset":
		a.unset(&m.Args)
	case "enable":
		m.Args.Unset("state")
	case "disable":
		m.Args.SetValue("state", "DISABLED", cmd.Pos)
	case "rm":
		if m.Builtin {
			return a.errf(nserr.Inval, "lb monitor %q: built-in monitors cannot be removed", name)
		}
		if user := c.monitorUser(name); user != "" {
			return a.errf(nserr.Inval, "lb monitor %q: still bound to %s; unbind it first", name, user)
		}
		c.Monitors.Delete(name)
	case "bind", "unbind":
		return a.monitorBind(m)
	}
	return nil
}

// monitorBind handles `bind lb monitor m -metric ...` and the legacy
// `bind lb monitor m <serviceName>`.
func (a *applier) monitorBind(m *Monitor) *nsconf.Error {
	c, cmd := a.c, a.cmd
	bind := cmd.Spec.Verb == "bind"
	if svc := a.pos("serviceName"); svc != "" {
		// Legacy form: the same as bind gslb service <svc> -monitorName <m>,
		// or, for a service of the appliance's own load balancing, a line
		// kept as written (the LB view reads it).
		if _, ok := c.Services.Get(svc); !ok {
			if _, lb := c.AppServices.Get(svc); lb {
				if a.doc {
					a.kept = true
				} else {
					c.Verbatim = append(c.Verbatim, cmd)
				}
				return nil
			}
		}
		s, ok := c.Services.Edit(svc)
		if !ok {
			return a.errf(nserr.NoService, "bind lb monitor %q: no such gslb service %q", m.Name, svc)
		}
		a.owner = s
		i := slices.IndexFunc(s.Monitors, func(b MonitorBinding) bool { return strings.EqualFold(b.Monitor, m.Name) })
		switch {
		case bind && i >= 0:
			return a.errf(nserr.Exist, "gslb service %q: monitor %q already bound", svc, m.Name)
		case bind:
			args := a.optArgs()
			s.Monitors = append(s.Monitors, MonitorBinding{Monitor: m.Name, Args: args, Pos: cmd.Pos})
		case i < 0:
			return a.errf(nserr.NoEnt, "gslb service %q: monitor %q is not bound", svc, m.Name)
		default:
			s.Monitors = slices.Delete(s.Monitors, i, i+1)
		}
		return nil
	}
	metric := cmd.Get("metric")
	if metric == "" {
		return a.errf(nserr.ArgMissing, "%s lb monitor %q: needs -metric or a service name", cmd.Spec.Verb, m.Name)
	}
	i := slices.IndexFunc(m.Metrics, func(b MetricBinding) bool { return strings.EqualFold(b.Metric, metric) })
	switch {
	case bind && i >= 0:
		return a.errf(nserr.Exist, "lb monitor %q: metric %q already bound", m.Name, metric)
	case bind:
		if !cmd.Has("metricThreshold") {
			return a.errf(nserr.ArgMissing, "bind lb monitor %q: -metric needs -metricThreshold", m.Name)
		}
		args := a.optArgs()
		args.Unset("metric")
		m.Metrics = append(m.Metrics, MetricBinding{Metric: metric, Args: args, Pos: cmd.Pos})
	case i < 0:
		return a.errf(nserr.NoEnt, "lb monitor %q: metric %q is not bound", m.Name, metric)
	default:
		m.Metrics = slices.Delete(m.Metrics, i, i+1)
	}
	return nil
}

// monitorUser names an entity a monitor is bound to, or "".
func (c *Config) monitorUser(name string) string {
	for _, s := range c.Services.All() {
		for _, b := range s.Monitors {
			if strings.EqualFold(b.Monitor, name) {
				return fmt.Sprintf("gslb service %q", s.Name)
			}
		}
	}
	for _, g := range c.ServiceGroups.All() {
		for _, b := range g.Monitors {
			if strings.EqualFold(b.Monitor, name) {
				return fmt.Sprintf("gslb serviceGroup %q", g.Name)
			}
		}
	}
	return ""
}

// metricTableCmd applies add/rm/bind/set/unbind lb metricTable.
func (a *applier) metricTableCmd() *nsconf.Error {
	c, cmd := a.c, a.cmd
	name := a.pos("metricTable")
	t, ok := c.MetricTables.Get(name)
	if ok && cmd.Spec.Verb != "rm" {
		t, _ = c.MetricTables.Edit(name)
	}
	if ok {
		a.owner = t // never a nil *MetricTable: the document would take it for an entity
	}
	if cmd.Spec.Verb == "add" {
		if ok {
			return a.errf(nserr.Exist, "lb metricTable %q: already exists", name)
		}
		t = &MetricTable{Name: name, Pos: cmd.Pos}
		c.MetricTables.Put(name, t)
		a.owner = t
		return nil
	}
	if !ok {
		return a.errf(nserr.NoEnt, "lb metricTable %q: no such metric table", name)
	}
	metric := a.pos("metric")
	i := slices.IndexFunc(t.Metrics, func(m MetricOID) bool { return strings.EqualFold(m.Metric, metric) })
	switch cmd.Spec.Verb {
	case "rm":
		for _, m := range c.Monitors.All() {
			if strings.EqualFold(m.Args.Get("metricTable"), name) {
				return a.errf(nserr.Inval, "lb metricTable %q: used by lb monitor %q", name, m.Name)
			}
		}
		c.MetricTables.Delete(name)
	case "bind":
		if i >= 0 {
			return a.errf(nserr.Exist, "lb metricTable %q: metric %q already bound", name, metric)
		}
		t.Metrics = append(t.Metrics, MetricOID{Metric: metric, OID: a.pos("snmpOID"), Pos: cmd.Pos})
	case "set":
		if i < 0 {
			return a.errf(nserr.NoEnt, "lb metricTable %q: metric %q is not bound", name, metric)
		}
		t.Metrics[i].OID = a.pos("snmpOID")
	case "unbind":
		if i < 0 {
			return a.errf(nserr.NoEnt, "lb metricTable %q: metric %q is not bound", name, metric)
		}
		t.Metrics = slices.Delete(t.Metrics, i, i+1)
	}
	return nil
}

// MonitorInfo is a typed, checked lb monitor.
type MonitorInfo struct {
	Name           string
	Type           string
	Interval       time.Duration
	RespTimeout    time.Duration
	DownTime       time.Duration
	Retries        int
	FailureRetries int // 0: all of Retries must fail
	SuccessRetries int
	DestIP         netip.Addr // invalid: the service's address
	DestPort       uint16     // 0: the service's port
	Disabled       bool
	Reverse        bool
	Secure         bool
	LRTM           bool
	// HTTP: request line, extra header text, codes meaning UP.
	HTTPRequest   string
	CustomHeaders string
	RespCodes     [][2]int
	// ECV: payload, and what the response must contain (NetScaler -recv
	// is a string searched for, not a pattern; escapes as in -send).
	Send string
	Recv string
	// DNS: name, type (A, SOA, AAAA) and addresses that must be answered.
	Query     string
	QueryType string
	DNSAddrs  []netip.Addr
	// SNMP / LOAD.
	SNMPOID       string
	SNMPCommunity string
	SNMPVersion   string
	SNMPThreshold uint64
	Metrics       []MetricInfo
	// STOREFRONT.
	StoreName            string
	StoreFrontAcct       bool
	StoreFrontCheckBacks bool
	// TLS for secure probes.
	SSLVerify     bool
	SSLServerName string
	// Transition out of service (trofs).
	TROFSCode   int
	TROFSString string
	// RADIUS: the probe's Access-Request. Encrypted: the appliance saved
	// the secrets encrypted with its own key (-encrypted), which gslbd
	// cannot read.
	UserName, Password, RadKey, RadNASid string
	RadNASip                             netip.Addr
	Encrypted                            bool
	// Probed is false for types gslbd does not implement: they are probed
	// with a TCP connect.
	Probed bool
}

// MetricInfo is one metric of a LOAD monitor with its SNMP OID.
type MetricInfo struct {
	Metric    string
	OID       string
	Threshold uint64 // 0 = the metric is ignored
	Weight    int
}

// MonitorRef is a monitor bound to a service.
type MonitorRef struct {
	Monitor  *MonitorInfo
	Weight   int
	Disabled bool // -monState DISABLED
}

// LoadSource says where a service's load figures come from (gslbd extension).
type LoadSource struct {
	Kind     string // HAPROXY, NGINX, ENVOY, PROMETHEUS, NITRO ("" = none)
	URL      string
	Filter   []string
	Interval time.Duration
}

// OverUDP reports whether a monitor type's server answers over UDP (a
// type gslbd does not implement is then probed with a ping, not a TCP
// connect).
func OverUDP(typ string) bool {
	switch typ {
	case "RADIUS", "RADIUS_ACCOUNTING", "SIP-UDP", "UDP-ECV", "DNS", "LDNS-DNS", "SNMP", "DTLS", "QUIC":
		return true
	}
	return false
}

// ProbedMonitorTypes are the monitor types gslbd implements.
var ProbedMonitorTypes = []string{"PING", "TCP", "HTTP", "TCP-ECV", "HTTP-ECV", "UDP-ECV", "DNS", "DNS-TCP",
	"LDNS-PING", "LDNS-TCP", "LDNS-DNS", "STOREFRONT", "LOAD", "SNMP", "RADIUS"}

// duration reads a monitor time argument with its unit (default SEC).
func (b *builder) duration(m *Monitor, name string) time.Duration {
	g := "lb monitor"
	v, ok := m.Args.Val(name)
	n, _ := strconv.ParseInt(get(&m.Args, g, name), 10, 64)
	unit := time.Second
	max := int64(20940)
	if ok {
		switch v.Extra {
		case "MSEC":
			unit, max = time.Millisecond, 20940000
		case "MIN":
			unit, max = time.Minute, 349
		}
		if (n < 1 && name != "deviation") || n > max {
			b.errf(v.Pos, nserr.ArgValBad, "lb monitor %q: -%s %d %s is out of range (1-%d)", m.Name, name, n,
				orDefault(v.Extra, "SEC"), max)
		}
	}
	return time.Duration(n) * unit
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// monitors types every monitor that is configured or bound.
func (b *builder) monitors() map[string]*MonitorInfo {
	out := map[string]*MonitorInfo{}
	for _, bi := range builtinMonitors {
		if _, ok := b.c.Monitors.Get(bi.name); !ok {
			out[bi.name] = b.monitor(&Monitor{Name: bi.name, Type: bi.typ, Builtin: true})
		}
	}
	for _, m := range b.c.Monitors.All() {
		out[key(m.Name)] = b.monitor(m)
	}
	return out
}

func (b *builder) monitor(m *Monitor) *MonitorInfo {
	if m.Builtin {
		m = withBuiltin(m)
	}
	g := "lb monitor"
	a := &m.Args
	what := fmt.Sprintf("lb monitor %q", m.Name)
	mi := &MonitorInfo{Name: m.Name, Type: m.Type,
		Interval: b.duration(m, "interval"), RespTimeout: b.duration(m, "resptimeout"), DownTime: b.duration(m, "downTime"),
		Retries: getInt(a, g, "retries"), FailureRetries: getInt(a, g, "failureRetries"),
		SuccessRetries: getInt(a, g, "successRetries"), Disabled: a.Get("state") == "DISABLED",
		Reverse: enabled(a, g, "reverse"), Secure: enabled(a, g, "secure"), LRTM: enabled(a, g, "LRTM"),
		HTTPRequest: unescape(a.Get("httpRequest")), CustomHeaders: unescape(a.Get("customHeaders")), Send: unescape(a.Get("send")),
		Query: a.Get("query"), QueryType: a.Get("queryType"),
		SNMPOID: a.Get("snmpOID"), SNMPCommunity: a.Get("snmpCommunity"), SNMPVersion: a.Get("snmpVersion"),
		StoreName: a.Get("storename"), StoreFrontAcct: enabled(a, g, "storefrontacctservice"),
		StoreFrontCheckBacks: enabled(a, g, "storefrontcheckbackendservices"),
		SSLVerify:            enabled(a, g, "sslVerify"), SSLServerName: a.Get("sslServerName"),
		TROFSCode: getInt(a, g, "trofscode"), TROFSString: a.Get("trofsstring"),
		UserName: a.Get("userName"), Password: a.Get("password"), RadKey: a.Get("radKey"), RadNASid: a.Get("radNASid"),
		Encrypted: slices.ContainsFunc(a.Loose, func(v nsconf.Val) bool { return strings.EqualFold(v.Name, "encrypted") }),
		Probed:    slices.Contains(ProbedMonitorTypes, m.Type)}
	if mi.RespTimeout >= mi.Interval {
		b.errf(posOr(a.Pos("resptimeout"), m.Pos), nserr.ArgValBad, "%s: -resptimeout (%s) must be less than -interval (%s)",
			what, mi.RespTimeout, mi.Interval)
	}
	if ip := a.Get("radNASip"); ip != "" {
		mi.RadNASip, _ = netip.ParseAddr(ip)
	}
	if m.Type == "RADIUS" && mi.Encrypted && !m.Builtin {
		b.warnf(m.Pos, "%s: its secrets were saved encrypted by the appliance, which gslbd cannot read: it pings the server instead (set lb monitor %s RADIUS -password ... -radKey ... in plain text to send Access-Requests)", what, m.Name)
	}
	if ip := a.Get("destIP"); ip != "" {
		mi.DestIP, _ = netip.ParseAddr(ip)
	}
	mi.DestPort = uint16(getInt(a, g, "destPort"))
	if th := a.Get("snmpThreshold"); th != "" {
		mi.SNMPThreshold, _ = strconv.ParseUint(th, 10, 64)
	}
	if v, ok := a.Val("respCode"); ok {
		min, max, kind := respCodes(m.Type)
		for _, c := range v.Values {
			lo, hi, found := strings.Cut(c, "-")
			l, err1 := strconv.Atoi(lo)
			h, err2 := l, error(nil)
			if found {
				h, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || l < min || h > max || h < l {
				b.errf(v.Pos, nserr.ArgValBad, "%s: -respCode %q is not a %s or range of them (%d-%d)", what, c, kind, min, max)
				continue
			}
			mi.RespCodes = append(mi.RespCodes, [2]int{l, h})
		}
	}
	mi.Recv = unescape(a.Get("recv"))
	if v, ok := a.Val("IPAddress"); ok {
		for _, s := range v.Values {
			ip, _ := netip.ParseAddr(s)
			mi.DNSAddrs = append(mi.DNSAddrs, ip)
		}
	}
	switch m.Type {
	case "HTTP":
		if mi.HTTPRequest == "" {
			mi.HTTPRequest = "HEAD /"
		}
		if mi.RespCodes == nil {
			mi.RespCodes = [][2]int{{200, 200}}
		}
	case "DNS", "DNS-TCP", "LDNS-DNS":
		if mi.Query == "" && !m.Builtin {
			b.errf(m.Pos, nserr.ArgMissing, "%s: a %s monitor needs -query", what, m.Type)
		}
		if mi.Query == "" {
			mi.Query = "."
		}
		if mi.QueryType == "" {
			mi.QueryType = "Address"
		}
	case "STOREFRONT":
		if mi.StoreName == "" {
			b.errf(m.Pos, nserr.ArgMissing, "%s: a STOREFRONT monitor needs -storename", what)
		}
	case "LOAD":
		b.loadMetrics(m, mi)
	case "SNMP":
		if mi.SNMPOID == "" {
			b.errf(m.Pos, nserr.ArgMissing, "%s: an SNMP monitor needs -snmpOID", what)
		}
	}
	if mi.SNMPCommunity == "" {
		mi.SNMPCommunity = "public"
	}
	if !mi.Probed && !m.Builtin {
		how := "a TCP connect"
		if OverUDP(m.Type) {
			how = "a ping"
		}
		b.warnf(m.Pos, "%s: type %s is not implemented; gslbd probes it with %s", what, m.Type, how)
	}
	return mi
}

// respCodes returns the codes -respCode may name for a monitor type:
// HTTP status codes for HTTP monitors, RADIUS packet codes (2
// Access-Accept, 3 Access-Reject: `-respCode 2-3` marks a RADIUS server UP
// when it answers at all), DNS response codes (0 NOERROR, 3 NXDOMAIN...),
// SIP and Diameter result codes; any 16-bit number for other types.
func respCodes(typ string) (min, max int, kind string) {
	switch typ {
	case "RADIUS", "RADIUS_ACCOUNTING":
		return 1, 255, "RADIUS code"
	case "DNS", "DNS-TCP", "LDNS-DNS":
		return 0, 4095, "DNS response code"
	case "SIP-UDP", "SIP-TCP":
		return 100, 699, "SIP status code"
	case "DIAMETER":
		return 1000, 5999, "Diameter result code"
	case "HTTP", "HTTP-ECV", "HTTP-INLINE", "HTTP2", "CITRIX-WEB-INTERFACE", "CITRIX-WI-EXTENDED", "STOREFRONT",
		"CITRIX-XML-SERVICE", "CITRIX-XD-DDC", "CITRIX-STA-SERVICE", "CITRIX-STA-SERVICE-NHOP":
		return 100, 599, "HTTP status code"
	}
	return 0, 65535, "response code"
}

// unescape turns the C escapes NetScaler accepts in -send, -httpRequest and
// -customHeaders (\r \n \t \\ \xHH) into the bytes they stand for.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteString(`\x`)
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// loadMetrics resolves a LOAD monitor's metric bindings through its table.
func (b *builder) loadMetrics(m *Monitor, mi *MonitorInfo) {
	what := fmt.Sprintf("lb monitor %q", m.Name)
	tname := m.Args.Get("metricTable")
	if tname == "" {
		b.errf(m.Pos, nserr.ArgMissing, "%s: a LOAD monitor needs -metricTable", what)
		return
	}
	t, ok := b.c.MetricTables.Get(tname)
	if !ok {
		b.errf(m.Args.Pos("metricTable"), nserr.NoEnt, "%s: no such metric table %q", what, tname)
		return
	}
	for _, mb := range m.Metrics {
		i := slices.IndexFunc(t.Metrics, func(x MetricOID) bool { return strings.EqualFold(x.Metric, mb.Metric) })
		if i < 0 {
			b.errf(mb.Pos, nserr.NoEnt, "%s: metric %q is not in metric table %q", what, mb.Metric, tname)
			continue
		}
		th, _ := strconv.ParseUint(mb.Args.Get("metricThreshold"), 10, 64)
		mi.Metrics = append(mi.Metrics, MetricInfo{Metric: mb.Metric, OID: t.Metrics[i].OID, Threshold: th,
			Weight: getInt(&mb.Args, "lb monitor", "metricWeight")})
	}
	if len(mi.Metrics) == 0 {
		b.warnf(m.Pos, "%s: no metric bound (bind lb monitor %s -metric <m> -metricThreshold <n>): it reports no load", what, m.Name)
	}
}

// posOr returns p, or def when p is unset.
func posOr(p, def nsconf.Pos) nsconf.Pos {
	if p.Line == 0 {
		return def
	}
	return p
}

// bindMonitors resolves an entity's monitor bindings.
func (b *builder) bindMonitors(mons map[string]*MonitorInfo, what string, bs []MonitorBinding) []MonitorRef {
	var out []MonitorRef
	for _, mb := range bs {
		mi, ok := mons[key(mb.Monitor)]
		if !ok {
			b.errf(mb.Pos, nserr.NoEnt, "%s: no such lb monitor %q", what, mb.Monitor)
			continue
		}
		w := 1 // bind's default; get() would find set's -weight (no default) first
		if v := mb.Args.Get("weight"); v != "" {
			w, _ = strconv.Atoi(v)
		}
		out = append(out, MonitorRef{Monitor: mi, Weight: w, Disabled: mb.Args.Get("monState") == "DISABLED"})
	}
	return out
}

// loadSource reads a service's -loadSource options.
func (b *builder) loadSource(a *Args, what string) LoadSource {
	kind := a.Get("loadSource")
	if kind == "" || kind == "NONE" {
		return LoadSource{}
	}
	ls := LoadSource{Kind: kind, URL: a.Get("loadURL")}
	if v, ok := a.Val("loadFilter"); ok {
		ls.Filter = v.Values
	}
	n, _ := strconv.ParseInt(get(a, "gslb service", "loadInterval"), 10, 64)
	v, _ := a.Val("loadInterval")
	switch v.Extra {
	case "MSEC":
		ls.Interval = time.Duration(n) * time.Millisecond
	case "MIN":
		ls.Interval = time.Duration(n) * time.Minute
	default:
		ls.Interval = time.Duration(n) * time.Second
	}
	if ls.Interval < 100*time.Millisecond {
		b.errf(posOr(a.Pos("loadInterval"), a.Pos("loadSource")), nserr.ArgValBad, "%s: -loadInterval must be at least 100 MSEC", what)
	}
	schemes := "http:// or https://"
	if kind == "HAPROXY" {
		schemes += " (or unix:<socket path>)"
	}
	switch {
	case ls.URL == "":
		b.errf(a.Pos("loadSource"), nserr.ArgMissing, "%s: -loadSource %s needs -loadURL", what, kind)
	case !strings.HasPrefix(ls.URL, "http://") && !strings.HasPrefix(ls.URL, "https://") &&
		!(kind == "HAPROXY" && strings.HasPrefix(ls.URL, "unix:")):
		b.errf(a.Pos("loadURL"), nserr.ArgValBad, "%s: -loadURL %q must start with %s", what, ls.URL, schemes)
	}
	if kind == "NITRO" && ls.URL != "" && !strings.Contains(ls.URL, "/nitro/v1/stat/lbvserver/") && !strings.Contains(ls.URL, "/nitro/v1/stat/csvserver/") {
		b.errf(a.Pos("loadURL"), nserr.ArgValBad, "%s: -loadSource NITRO reads an appliance's vserver: -loadURL https://<appliance>/nitro/v1/stat/lbvserver/<name> (or csvserver)", what)
	}
	if want := map[string]string{"HAPROXY": "<backend>/<server>", "PROMETHEUS": "connections=<metric>{<labels>}"}[kind]; want != "" && len(ls.Filter) == 0 {
		b.errf(a.Pos("loadSource"), nserr.ArgMissing, "%s: -loadSource %s needs -loadFilter %s", what, kind, want)
	}
	return ls
}

func (m *Monitor) clone() *Monitor {
	x := *m
	x.Args = m.Args.clone()
	x.Metrics = slices.Clone(m.Metrics)
	for i := range x.Metrics {
		x.Metrics[i].Args = m.Metrics[i].Args.clone()
	}
	return &x
}

func (t *MetricTable) clone() *MetricTable { x := *t; x.Metrics = slices.Clone(t.Metrics); return &x }

// monitors writes the metric tables first (a LOAD monitor names its
// table), the monitors, then their metric bindings.
func (w *writer) monitors(c *Config) {
	for _, t := range c.MetricTables.All() {
		if w.raw(t, slotMain) {
			continue
		}
		text, _ := format("add", "lb metricTable", []string{t.Name}, nil, nil, nil)
		w.add(text, w.key(t.Pos))
		for _, m := range t.Metrics {
			w.bindLine("lb metricTable", []string{t.Name, m.Metric, m.OID}, nil, m.Pos)
		}
	}
	for _, m := range c.Monitors.All() {
		if w.raw(m, slotMain) {
			continue
		}
		if !m.Builtin {
			w.putEntity(w.entity("lb monitor", []string{m.Name, m.Type}, nil, &m.Args, m.Pos, true))
			continue
		}
		// A built-in monitor has set lines only; its state is a disable line.
		args := m.Args.clone()
		state, _ := args.Val("state")
		args.Unset("state")
		w.putEntity(w.entity("lb monitor", []string{m.Name, m.Type}, nil, &args, m.Pos, false))
		if state.Value() == "DISABLED" {
			w.add("disable lb monitor "+nsconf.Quote(m.Name), w.key(state.Pos))
		}
	}
	for _, m := range c.Monitors.All() {
		if w.raw(m, slotMetricBind) {
			continue
		}
		for _, b := range m.Metrics {
			w.bind("lb monitor", m.Name, "metric", b.Metric, b.Args, b.Pos)
		}
	}
}
