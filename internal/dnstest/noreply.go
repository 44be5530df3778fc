package dnstest

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// NoReplyUDP sends b to addr over UDP and fails t if anything comes back
// for it. Instead of waiting a while for nothing, it then asks three
// ordinary questions on the same socket, one after the other. The server
// must read its socket with one worker (dnsserver.Options.UDPWorkers 1):
// it then handles datagrams in the order they came, so a reply to b, even
// a slow one, arrives before the answers to the questions asked after it
// (any datagram that is not the answer awaited is that reply). It also
// shows that the server still answers.
func NoReplyUDP(t testing.TB, addr string, b []byte) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	for i := range 3 {
		m := Msg("no-reply-follow-up.invalid", dns.TypeA)
		m.Id = uint16(0xf00d + i)
		if len(b) >= 2 && m.Id == uint16(b[0])<<8|uint16(b[1]) {
			m.Id++
		}
		wire, _ := m.Pack()
		if _, err := c.Write(wire); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer to a question asked after the packet: %v", err)
		}
		var r dns.Msg
		if r.Unpack(buf[:n]) != nil || r.Id != m.Id || len(r.Question) != 1 || r.Question[0].Name != m.Question[0].Name {
			t.Fatalf("got a %d-byte reply to the packet (%x)", n, buf[:min(n, 32)])
		}
	}
}
