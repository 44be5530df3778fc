package dnsserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// handlerFunc makes a function a Handler.
type handlerFunc func(dst, q []byte, r Request) []byte

func (f handlerFunc) ServeDNS(dst, q []byte, r Request) []byte { return f(dst, q, r) }

// serveWith is serve with another handler.
func serveWith(t *testing.T, h Handler, opts Options) (*Server, string, string) {
	t.Helper()
	s := New(h, opts)
	u, err := s.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, u.LocalAddr().String(), l.Addr().String()
}

// sized returns a query of n bytes: query(id) padded with zeros.
func sized(id uint16, n int) []byte {
	return append(query(id), make([]byte, n-19)...)
}

// TestUDPQuerySizeLimit: a UDP query of 4096 bytes is answered, one byte
// more is dropped and counted, in both UDP modes; the server goes on.
func TestUDPQuerySizeLimit(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(map[bool]string{false: "batched", true: "plain"}[plain], func(t *testing.T) {
			s, u, _ := serve(t, Options{PlainUDP: plain, UDPWorkers: 1})
			r := dnstest.RawUDP(t, u, sized(4, querySlot), 3*time.Second)
			if len(r) != querySlot || binary.BigEndian.Uint16(r) != 4 {
				t.Fatalf("a %d-byte query: got a %d-byte reply, want its echo", querySlot, len(r))
			}
			dnstest.NoReplyUDP(t, u, sized(5, querySlot+1))
			if n := s.Stats.Dropped(); n != 1 {
				t.Fatalf("dropped %d queries, want 1", n)
			}
		})
	}
}

// TestHandlerSeesClient: the handler gets the client's address (IPv4, not
// IPv4-mapped) and whether the query came over TCP.
func TestHandlerSeesClient(t *testing.T) {
	type seen struct {
		client netip.Addr
		tcp    bool
	}
	for _, plain := range []bool{false, true} {
		got := make(chan seen, 4)
		h := handlerFunc(func(dst, q []byte, r Request) []byte {
			got <- seen{r.Src, r.TCP}
			return echoHandler{}.ServeDNS(dst, q, r)
		})
		_, u, a := serveWith(t, h, Options{PlainUDP: plain})
		dnstest.RawUDP(t, u, query(1), 3*time.Second)
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(framed(query(2)))
		readMsg(t, c)
		c.Close()
		want := netip.MustParseAddr("127.0.0.1")
		for _, tcp := range []bool{false, true} {
			if s := <-got; s.client != want || s.tcp != tcp {
				t.Errorf("plain UDP %v: handler saw %v, want %v over TCP %v", plain, s, want, tcp)
			}
		}
	}
}

// TestTCPMessageSizes: TCP queries larger than the connection's first
// buffer and of the largest size (65535) are answered; a response that
// cannot be framed (over 65535 bytes) closes the connection.
func TestTCPMessageSizes(t *testing.T) {
	h := handlerFunc(func(dst, q []byte, r Request) []byte {
		if binary.BigEndian.Uint16(q) == 0xbeef {
			return append(dst[:0], make([]byte, 65536)...)
		}
		return echoHandler{}.ServeDNS(dst, q, r)
	})
	_, _, a := serveWith(t, h, Options{})
	c, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, n := range []int{1000, 65535, 600} {
		q := sized(uint16(n), n)
		c.Write(framed(q))
		r := readMsg(t, c)
		if len(r) != n || r[2]&0x80 == 0 || !bytes.Equal(r[3:], q[3:]) {
			t.Fatalf("a %d-byte query: got a %d-byte reply, want its echo", n, len(r))
		}
	}
	c.Write(framed(query(0xbeef)))
	if !closedWithin(c, 5*time.Second) {
		t.Fatal("a response over 65535 bytes did not close the connection")
	}
}

// TestRequestLocal: the handler learns the address each query arrived
// on: over TCP and UDP, on a socket bound to one address and on a
// wildcard one (per datagram, batched and plain workers), for IPv4 and
// IPv6; the answer to a datagram on a wildcard socket leaves from the
// address it was sent to (a connected client accepts no other source).
func TestRequestLocal(t *testing.T) {
	for _, tc := range []struct {
		name, listen string
		to           []string
		plain        bool
	}{
		{"bound", "127.0.0.7:0", []string{"127.0.0.7"}, false},
		{"wildcard v4 batched", "0.0.0.0:0", []string{"127.0.0.5", "127.0.0.6"}, false},
		{"wildcard v6 batched", "[::]:0", []string{"::1", "127.0.0.8"}, false},
		{"bound plain", "127.0.0.9:0", []string{"127.0.0.9"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan Request, 10)
			h := handlerFunc(func(dst, q []byte, r Request) []byte {
				got <- r
				return echoHandler{}.ServeDNS(dst, q, r)
			})
			s := New(h, Options{PlainUDP: tc.plain, UDPWorkers: 1})
			t.Cleanup(func() { s.Close() })
			u, err := s.ListenUDP(tc.listen)
			if err != nil {
				t.Fatal(err)
			}
			port := u.LocalAddr().(*net.UDPAddr).Port
			l, err := net.Listen("tcp", net.JoinHostPort(strings.Trim(strings.TrimSuffix(tc.listen, ":0"), "[]"), "0"))
			if err != nil {
				t.Fatal(err)
			}
			s.ServeTCP(l)
			tport := l.Addr().(*net.TCPAddr).Port
			for _, to := range tc.to {
				if dnstest.RawUDP(t, net.JoinHostPort(to, fmt.Sprint(port)), query(1), 3*time.Second) == nil {
					t.Errorf("UDP to %s: no answer from that address", to)
				}
				if r := <-got; r.Local != netip.MustParseAddr(to) || r.TCP {
					t.Errorf("UDP to %s: Local %v", to, r.Local)
				}
				c, err := net.Dial("tcp", net.JoinHostPort(to, fmt.Sprint(tport)))
				if err != nil {
					t.Fatal(err)
				}
				q := query(2)
				c.Write(append([]byte{byte(len(q) >> 8), byte(len(q))}, q...))
				if r := <-got; r.Local != netip.MustParseAddr(to) || !r.TCP {
					t.Errorf("TCP to %s: Local %v", to, r.Local)
				}
				c.Close()
			}
		})
	}
}

// TestTruncated: a slipped response keeps the header and the question,
// has TC set and no records; a response without a plain question is
// not slipped.
func TestTruncated(t *testing.T) {
	m := dnstest.Msg("www.rrl.test", 1)
	r := m.Copy()
	r.Response = true
	rr, _ := dns.NewRR("www.rrl.test. 5 IN A 192.0.2.1")
	r.Answer = append(r.Answer, rr)
	r.SetEdns0(1232, false)
	b, _ := r.Pack()
	got := truncated(b)
	var out dns.Msg
	if err := out.Unpack(got); err != nil {
		t.Fatal(err)
	}
	if !out.Truncated || len(out.Answer)+len(out.Ns)+len(out.Extra) != 0 || len(out.Question) != 1 || out.Question[0].Name != "www.rrl.test." || out.Id != m.Id {
		t.Errorf("slip: %v", &out)
	}
	if truncated(b[:14]) != nil {
		t.Error("a cut response was slipped")
	}
}
