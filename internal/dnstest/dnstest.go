package dnstest

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Proto names a transport for table tests.
type Proto string

// Transports every DNS case runs over.
const (
	UDP Proto = "udp"
	TCP Proto = "tcp"
)

// Protos lists both transports.
var Protos = []Proto{UDP, TCP}

// Msg builds a query. Options adjust it.
func Msg(name string, qtype uint16, opts ...func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	for _, o := range opts {
		o(m)
	}
	return m
}

// EDNS adds an OPT record with the given buffer size.
func EDNS(size uint16) func(*dns.Msg) {
	return func(m *dns.Msg) { m.SetEdns0(size, false) }
}

// Exchange sends m to addr over proto and returns the reply.
func Exchange(t testing.TB, proto Proto, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	r, err := TryExchange(proto, addr, m, 3*time.Second)
	if err != nil {
		t.Fatalf("%s query %s %s: %v", proto, m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], err)
	}
	return r
}

// TryExchange is Exchange returning the error.
func TryExchange(proto Proto, addr string, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	c := &dns.Client{Net: string(proto), Timeout: timeout, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// ExchangeFrom sends a UDP query from a chosen local address (127.0.0.x),
// so tests can play several clients.
func ExchangeFrom(t testing.TB, local, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	r, err := TryExchangeFrom(UDP, local, addr, m, 3*time.Second)
	if err != nil {
		t.Fatalf("query from %s: %v", local, err)
	}
	return r
}

// TryExchangeFrom sends a query over proto from a chosen local address
// and returns the reply or the error.
func TryExchangeFrom(proto Proto, local, addr string, m *dns.Msg, timeout time.Duration) (*dns.Msg, error) {
	ip := net.ParseIP(local)
	if ip == nil {
		return nil, fmt.Errorf("local address %q is not an IP address", local)
	}
	d := &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip}}
	if proto == TCP {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	c := &dns.Client{Net: string(proto), Timeout: timeout, Dialer: d}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// RawUDP sends raw bytes and returns the raw reply, or nil after wait.
func RawUDP(t testing.TB, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// Addrs returns the sorted A/AAAA addresses (and CNAME targets) of an answer.
func Addrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		case *dns.CNAME:
			out = append(out, r.Target)
		}
	}
	slices.Sort(out)
	return out
}

// Section renders RRs as sorted zone lines, for comparing with want text.
func Section(rrs []dns.RR) string {
	var lines []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		lines = append(lines, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
