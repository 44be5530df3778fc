package dnsserver

import (
	"encoding/hex"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/cookie"
	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/gslbd/gslbd/internal/rrl"
	"github.com/miekg/dns"
)

// answerHandler answers every query with an A record and an OPT record
// when the query had one, as the engine does; reserve records the last
// Request.Reserve it saw.
func answerHandler(reserve *atomic.Int64) Handler {
	return handlerFunc(func(dst, q []byte, r Request) []byte {
		var m dns.Msg
		if m.Unpack(q) != nil {
			return nil
		}
		reserve.Store(int64(r.Reserve))
		resp := new(dns.Msg)
		resp.SetReply(&m)
		rr, _ := dns.NewRR(m.Question[0].Name + " 5 IN A 192.0.2.1")
		resp.Answer = append(resp.Answer, rr)
		if m.IsEdns0() != nil {
			resp.SetEdns0(1232, false)
		}
		b, _ := resp.PackBuffer(dst[:cap(dst)])
		return b
	})
}

// cookieQuery is a query for www.cookie.test with the COOKIE option
// hexCookie ("": no option, "-": no EDNS at all).
func cookieQuery(t *testing.T, hexCookie string) []byte {
	t.Helper()
	m := dnstest.Msg("www.cookie.test", dns.TypeA)
	if hexCookie != "-" {
		m.SetEdns0(1232, false)
		if hexCookie != "" {
			o := m.IsEdns0()
			o.Option = append(o.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hexCookie})
		}
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exchangeUDP(t *testing.T, addr string, q []byte) *dns.Msg {
	t.Helper()
	return exchangeWait(t, addr, q, 2*time.Second)
}

// exchangeWait is exchangeUDP waiting wait for the answer (nil: none).
func exchangeWait(t *testing.T, addr string, q []byte, wait time.Duration) *dns.Msg {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(q)
	c.SetReadDeadline(time.Now().Add(wait))
	b := make([]byte, 65535)
	n, err := c.Read(b)
	if err != nil {
		return nil
	}
	var m dns.Msg
	if err := m.Unpack(b[:n]); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return &m
}

// responseCookie returns the response's COOKIE option data in hex ("":
// none).
func responseCookie(m *dns.Msg) string {
	if o := m.IsEdns0(); o != nil {
		for _, e := range o.Option {
			if c, ok := e.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
	}
	return ""
}

const clientCookie = "0102030405060708"

// TestCookies: over UDP (both workers) and TCP, a query with a client
// cookie gets it back with a server cookie the jar accepts, and the
// handler kept room for it; the server cookie sent back is echoed as it
// is (young) and counted valid; a malformed option gets FORMERR; a query
// without a cookie gets none.
func TestCookies(t *testing.T) {
	for _, plain := range []bool{false, true} {
		jar := cookie.NewJar()
		var reserve atomic.Int64
		s, udp, tcp := serveWith(t, answerHandler(&reserve), Options{Cookies: jar, PlainUDP: plain})
		r := exchangeUDP(t, udp, cookieQuery(t, clientCookie))
		if r == nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("plain %v: answer %v", plain, r)
		}
		got := responseCookie(r)
		if len(got) != 2*(cookie.ClientLen+cookie.ServerLen) || got[:16] != clientCookie {
			t.Fatalf("plain %v: cookie %q, want the client's and a server cookie", plain, got)
		}
		server, _ := hex.DecodeString(got[16:])
		client, _ := hex.DecodeString(clientCookie)
		if ok, _ := jar.Valid(client, server, netip.MustParseAddr("127.0.0.1"), uint32(time.Now().Unix())); !ok {
			t.Errorf("plain %v: the server cookie is not the jar's", plain)
		}
		if reserve.Load() != cookie.OptionLen {
			t.Errorf("plain %v: the handler was asked to keep %d bytes, want %d", plain, reserve.Load(), cookie.OptionLen)
		}
		if r := exchangeUDP(t, udp, cookieQuery(t, got)); r == nil || responseCookie(r) != got {
			t.Errorf("plain %v: a young server cookie was not echoed: %v", plain, r)
		}
		if r := exchangeUDP(t, udp, cookieQuery(t, "01020304050607")); r == nil || r.Rcode != dns.RcodeFormatError || r.IsEdns0() == nil {
			t.Errorf("plain %v: a 7-byte cookie: %v, want FORMERR with an OPT record", plain, r)
		}
		bad := cookieQuery(t, "01020304050607")
		bad[2] |= 0x80 // a response: never answered (no reflection)
		if r := exchangeWait(t, udp, bad, 200*time.Millisecond); r != nil {
			t.Errorf("plain %v: a response with a bad cookie was answered: %v", plain, r)
		}
		for _, q := range []string{"", "-"} {
			if r := exchangeUDP(t, udp, cookieQuery(t, q)); r == nil || responseCookie(r) != "" || reserve.Load() != 0 {
				t.Errorf("plain %v, query %q: %v, reserve %d", plain, q, r, reserve.Load())
			}
		}
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(framed(cookieQuery(t, clientCookie)))
		var m dns.Msg
		if err := m.Unpack(readMsg(t, c)); err != nil || len(responseCookie(&m)) != 48 {
			t.Errorf("TCP: %v %v", err, &m)
		}
		c.Close()
		st := s.Stats.Transport(UDP)
		if st.Cookie[CookieNew] != 1 || st.Cookie[CookieValid] != 1 || st.Cookie[CookieMalformed] != 1 {
			t.Errorf("plain %v: UDP cookie counts %v", plain, st.Cookie)
		}
		if s.Stats.Transport(TCP).Cookie[CookieNew] != 1 {
			t.Errorf("TCP cookie counts %v", s.Stats.Transport(TCP).Cookie)
		}
	}
}

// TestCookiesBypassRRL: at 1 response a second (slip 2), a client that
// sends a valid server cookie gets every answer; one without a cookie
// gets one, then only slips (truncated) and nothing; one with a client
// cookie only gets BADCOOKIE with a server cookie instead of the slips,
// and with that cookie every answer from then on.
func TestCookiesBypassRRL(t *testing.T) {
	jar := cookie.NewJar()
	var reserve atomic.Int64
	s, udp, _ := serveWith(t, answerHandler(&reserve), Options{Cookies: jar})
	s.SetRRL(rrl.New(rrl.Config{ResponsesPerSecond: 1, Window: 5, Slip: 2}))
	// Limited queries get nothing half of the time: those waits are
	// short. The queries with a valid cookie wait long (each must be
	// answered).
	count := func(q []byte, wait time.Duration) (answers, slips, badcookies int, learned string) {
		for range 20 {
			r := exchangeWait(t, udp, q, wait)
			switch {
			case r == nil:
			case r.Rcode == dns.RcodeBadCookie:
				badcookies++
				learned = responseCookie(r)
			case r.Truncated:
				slips++
			case len(r.Answer) == 1:
				answers++
			}
		}
		return
	}
	a, sl, bc, _ := count(cookieQuery(t, ""), 100*time.Millisecond)
	t.Logf("no cookie: %d answers, %d slips, %d BADCOOKIE", a, sl, bc)
	if a > 3 || sl == 0 || bc != 0 {
		t.Errorf("no cookie: %d answers, %d slips, %d BADCOOKIE; want at most 3 answers and some slips", a, sl, bc)
	}
	a, sl, bc, learned := count(cookieQuery(t, clientCookie), 100*time.Millisecond)
	t.Logf("client cookie: %d answers, %d slips, %d BADCOOKIE", a, sl, bc)
	if sl != 0 || bc == 0 || len(learned) != 48 || learned[:16] != clientCookie {
		t.Fatalf("client cookie only: %d answers, %d slips, %d BADCOOKIE, cookie %q", a, sl, bc, learned)
	}
	a, sl, bc, _ = count(cookieQuery(t, learned), 2*time.Second)
	if a != 20 {
		t.Errorf("with the server cookie: %d answers of 20 (%d slips, %d BADCOOKIE)", a, sl, bc)
	}
	if st := s.Stats.Transport(UDP); st.Cookie[CookieValid] != 20 || st.Cookie[CookieBad] == 0 {
		t.Errorf("cookie counts %v: want 20 valid and some BADCOOKIE", st.Cookie)
	}
}
