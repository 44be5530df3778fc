package monitor

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
	"github.com/gslbd/gslbd/internal/config"
	"github.com/miekg/dns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// probeDNS asks the service for -query of -queryType (NetScaler DNS
// monitor): UP on a NOERROR answer that, when -IPAddress is given, holds at
// least one of those addresses. DNS-TCP asks over TCP.
func probeDNS(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	qt := dns.TypeA
	switch m.QueryType {
	case "Zone":
		qt = dns.TypeSOA
	case "AAAA":
		qt = dns.TypeAAAA
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(m.Query), qt)
	c := &dns.Client{Net: "udp"}
	if m.Type == "DNS-TCP" {
		c.Net = "tcp"
	}
	start := time.Now()
	r, _, err := c.ExchangeContext(ctx, q, dst.String())
	rtt := time.Since(start)
	if err != nil {
		return Result{RTT: rtt, Reason: failure(ctx, err, m.RespTimeout)}
	}
	// -respCode names the response codes that mean UP (default NOERROR).
	if ok := r.Rcode == dns.RcodeSuccess; len(m.RespCodes) > 0 && !codeOK(m.RespCodes, r.Rcode) || len(m.RespCodes) == 0 && !ok {
		return Result{RTT: rtt, Reason: fmt.Sprintf("DNS answer %s for %s", dns.RcodeToString[r.Rcode], m.Query)}
	}
	if len(m.DNSAddrs) == 0 {
		return Result{OK: true, RTT: rtt, Reason: "DNS " + dns.RcodeToString[r.Rcode]}
	}
	for _, rr := range r.Answer {
		var ip net.IP
		switch x := rr.(type) {
		case *dns.A:
			ip = x.A
		case *dns.AAAA:
			ip = x.AAAA
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		for _, want := range m.DNSAddrs {
			if a.Unmap() == want.Unmap() {
				return Result{OK: true, RTT: rtt, Reason: "DNS answer holds " + want.String()}
			}
		}
	}
	return Result{RTT: rtt, Reason: fmt.Sprintf("DNS answer for %s holds none of the expected addresses", m.Query)}
}

// probePing sends one ICMP echo. gslbd uses an unprivileged ping socket
// where net.ipv4.ping_group_range allows it, a raw socket otherwise (root).
func probePing(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	addr := dst.Addr().Unmap()
	v6 := addr.Is6()
	network, proto := "udp4", 1
	var typ icmp.Type = ipv4.ICMPTypeEcho
	if v6 {
		network, proto, typ = "udp6", 58, ipv6.ICMPTypeEchoRequest
	}
	var raddr net.Addr = &net.UDPAddr{IP: addr.AsSlice()}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		// No ping socket: raw ICMP (needs CAP_NET_RAW).
		network = "ip4:icmp"
		if v6 {
			network = "ip6:ipv6-icmp"
		}
		c, err = icmp.ListenPacket(network, "")
		if err != nil {
			return Result{RTT: time.Since(start), Reason: "cannot open an ICMP socket: " + err.Error()}
		}
		raddr = &net.IPAddr{IP: addr.AsSlice()}
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	id, seq := int(binary.BigEndian.Uint16(rnd[:2])), int(binary.BigEndian.Uint16(rnd[2:]))
	payload := []byte("gslbd-monitor")
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return Result{Reason: err.Error()}
	}
	if _, err := c.WriteTo(b, raddr); err != nil {
		return failed(ctx, m, start, err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return failed(ctx, m, start, err)
		}
		rm, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil {
			continue
		}
		fa := fromAddr(from)
		switch body := rm.Body.(type) {
		case *icmp.Echo:
			if (rm.Type == ipv4.ICMPTypeEchoReply || rm.Type == ipv6.ICMPTypeEchoReply) && fa == addr &&
				body.Seq == seq && string(body.Data) == string(payload) {
				return Result{OK: true, RTT: time.Since(start), Reason: "echo reply"}
			}
		case *icmp.DstUnreach:
			if fa == addr || strings.HasPrefix(network, "udp") {
				return Result{RTT: time.Since(start), Reason: "ICMP destination unreachable"}
			}
		}
	}
}

func fromAddr(a net.Addr) netip.Addr {
	var ip net.IP
	switch x := a.(type) {
	case *net.UDPAddr:
		ip = x.IP
	case *net.IPAddr:
		ip = x.IP
	}
	r, _ := netip.AddrFromSlice(ip)
	return r.Unmap()
}

// probeStoreFront checks a Citrix StoreFront store the way NetScaler's
// STOREFRONT monitor does: the account service (-storefrontacctservice
// YES), then the store's discovery document, then, for an authenticated
// store, the authentication endpoint the document names. Each must answer
// 200 (the authentication endpoint: any answer below 500).
func probeStoreFront(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	get := func(path string) (int, []byte, error) {
		resp, body, _, err := httpExchange(ctx, m, dst, "GET "+path, true)
		if err != nil {
			return 0, nil, err
		}
		return resp.StatusCode, body, nil
	}
	if m.StoreFrontAcct {
		code, _, err := get("/Citrix/Roaming/Accounts")
		if err != nil {
			return Result{RTT: time.Since(start), Reason: "account service: " + failure(ctx, err, m.RespTimeout)}
		}
		if code != 200 {
			return Result{RTT: time.Since(start), Reason: fmt.Sprintf("account service: HTTP %d", code)}
		}
	}
	store := strings.ReplaceAll(m.StoreName, " ", "")
	code, body, err := get("/Citrix/" + store + "/discovery")
	if err != nil {
		return Result{RTT: time.Since(start), Reason: "discovery: " + failure(ctx, err, m.RespTimeout)}
	}
	if code != 200 {
		return Result{RTT: time.Since(start), Reason: fmt.Sprintf("discovery of store %q: HTTP %d", m.StoreName, code)}
	}
	if auth := authEndpoint.FindSubmatch(body); auth != nil {
		code, _, err := get(string(auth[1]))
		if err != nil {
			return Result{RTT: time.Since(start), Reason: "authentication endpoint: " + failure(ctx, err, m.RespTimeout)}
		}
		if code >= 500 {
			return Result{RTT: time.Since(start), Reason: fmt.Sprintf("authentication endpoint: HTTP %d", code)}
		}
	}
	return Result{OK: true, RTT: time.Since(start), Reason: fmt.Sprintf("store %q answers", m.StoreName)}
}

// authEndpoint finds the path of the authentication service's endpoint
// document in a discovery document.
var authEndpoint = regexp.MustCompile(`(?i)https?://[^/"'<\s]+(/[^"'<\s]*auth[^"'<\s]*)`)

// probeSNMP serves the SNMP and LOAD monitor types. SNMP: UP while the
// value of -snmpOID stays at or under -snmpThreshold (any value when no
// threshold). LOAD: the service's custom load is the weighted mean of each
// metric's value as a percentage of its threshold; a metric at or above its
// threshold takes the service out of CUSTOMLOAD choices. LOAD never
// changes the service's state (NetScaler).
func probeSNMP(ctx context.Context, m *config.MonitorInfo, dst netip.AddrPort) Result {
	start := time.Now()
	timeout := time.Until(deadline(ctx))
	g := &gosnmp.GoSNMP{Target: dst.Addr().String(), Port: dst.Port(), Community: m.SNMPCommunity, Version: gosnmp.Version2c,
		Timeout: timeout, Retries: 0, Context: ctx, MaxOids: gosnmp.MaxOids}
	if m.SNMPVersion == "V1" {
		g.Version = gosnmp.Version1
	}
	connect := g.ConnectIPv4
	if dst.Addr().Is6() {
		connect = g.ConnectIPv6
	}
	if err := connect(); err != nil {
		return Result{RTT: time.Since(start), Reason: "SNMP: " + err.Error()}
	}
	defer g.Conn.Close()
	var oids []string
	if m.Type == "SNMP" {
		oids = []string{m.SNMPOID}
	} else {
		for _, mt := range m.Metrics {
			oids = append(oids, mt.OID)
		}
		if len(oids) == 0 {
			return Result{OK: true, RTT: time.Since(start), Reason: "no metric bound"}
		}
	}
	pkt, err := g.Get(oids)
	rtt := time.Since(start)
	if err != nil {
		return Result{RTT: rtt, Reason: "SNMP: " + failure(ctx, err, m.RespTimeout)}
	}
	if len(pkt.Variables) != len(oids) {
		return Result{RTT: rtt, Reason: fmt.Sprintf("SNMP: %d values for %d OIDs", len(pkt.Variables), len(oids))}
	}
	vals := make([]uint64, len(oids))
	for i, v := range pkt.Variables {
		n, ok := snmpNumber(v)
		if !ok {
			return Result{RTT: rtt, Reason: fmt.Sprintf("SNMP: OID %s is not a number (%s)", oids[i], v.Type)}
		}
		vals[i] = n
	}
	if m.Type == "SNMP" {
		if m.SNMPThreshold > 0 && vals[0] > m.SNMPThreshold {
			return Result{RTT: rtt, Reason: fmt.Sprintf("SNMP %s = %d, above threshold %d", m.SNMPOID, vals[0], m.SNMPThreshold)}
		}
		return Result{OK: true, RTT: rtt, Reason: fmt.Sprintf("SNMP %s = %d", m.SNMPOID, vals[0])}
	}
	var sum, weights float64
	over := ""
	for i, mt := range m.Metrics {
		if mt.Threshold == 0 {
			continue // threshold 0: the metric is ignored
		}
		pct := float64(vals[i]) * 100 / float64(mt.Threshold)
		sum += pct * float64(mt.Weight)
		weights += float64(mt.Weight)
		if vals[i] >= mt.Threshold && over == "" {
			over = fmt.Sprintf("%s = %d reaches threshold %d", mt.Metric, vals[i], mt.Threshold)
		}
	}
	load := uint64(0)
	if weights > 0 {
		load = uint64(math.Round(sum / weights))
	}
	r := Result{OK: true, RTT: rtt, HasLoad: true, Load: load, Reason: fmt.Sprintf("load %d", load)}
	if over != "" {
		r.Over, r.Reason = true, fmt.Sprintf("load %d; %s", load, over)
	}
	return r
}

func snmpNumber(v gosnmp.SnmpPDU) (uint64, bool) {
	switch v.Type {
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		b := gosnmp.ToBigInt(v.Value)
		if b.Sign() < 0 {
			return 0, true
		}
		return b.Uint64(), true
	case gosnmp.OctetString:
		// Many agents (UCD-SNMP laLoad) report numbers as strings.
		s, _ := v.Value.([]byte)
		var f float64
		if _, err := fmt.Sscan(string(s), &f); err == nil && f >= 0 {
			return uint64(math.Round(f)), true
		}
	}
	return 0, false
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(2 * time.Second)
}
