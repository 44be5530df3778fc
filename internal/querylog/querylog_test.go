package querylog

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/gslbd/gslbd/internal/dnsserver"
	"github.com/gslbd/gslbd/internal/dnstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// aHandler answers every query with one A record.
type aHandler struct{}

func (aHandler) ServeDNS(dst, q []byte, _ dnsserver.Request) []byte {
	var m dns.Msg
	if m.Unpack(q) != nil || len(m.Question) != 1 {
		return nil
	}
	r := new(dns.Msg).SetReply(&m)
	r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, 1)}}
	b, _ := r.PackBuffer(dst)
	return b
}

// collector is golang-dnstap's own Frame Streams reader on a Unix
// socket: the frames it decodes arrive on frames.
type collector struct {
	path   string
	frames chan *dnstap.Dnstap
}

func newCollector(t *testing.T, path string) *collector {
	t.Helper()
	c := &collector{path: path, frames: make(chan *dnstap.Dnstap, 100000)}
	serveUnix(t, path, func(conn net.Conn) {
		in, err := dnstap.NewFrameStreamInputTimeout(conn, true, 5*time.Second)
		if err != nil {
			return
		}
		raw := make(chan []byte, 1000)
		go func() { in.ReadInto(raw); close(raw) }()
		for b := range raw {
			var m dnstap.Dnstap
			if proto.Unmarshal(b, &m) == nil {
				c.frames <- &m
			}
		}
	})
	return c
}

// serveUnix listens on a Unix socket at path until the test ends and
// serves each connection with serve (closing it after).
func serveUnix(t *testing.T, path string, serve func(net.Conn)) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				serve(conn)
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
}

// next is the next decoded frame, within 10 s.
func (c *collector) next(t *testing.T) *dnstap.Dnstap {
	t.Helper()
	select {
	case m := <-c.frames:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no dnstap frame within 10s")
	}
	return nil
}

func serveTapped(t *testing.T, tap *Tap) (udp, tcp string) {
	t.Helper()
	srv := dnsserver.New(aHandler{}, dnsserver.Options{Tap: tap, UDPWorkers: 2})
	u, err := srv.ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := srv.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return u.LocalAddr().String(), l.Addr().String()
}

// TestQueriesReachTheCollector: UDP and TCP queries to a real listener
// reach golang-dnstap's reader as AUTH_QUERY and AUTH_RESPONSE messages
// with the client's address and port, the listener's address, the
// transport, the time and the exact bytes of both messages.
func TestQueriesReachTheCollector(t *testing.T) {
	col := newCollector(t, filepath.Join(t.TempDir(), "tap.sock"))
	tap, err := New(Options{Addr: "unix:" + col.path, Identity: "gslbd-test", Version: "gslbd 1"})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	udp, tcp := serveTapped(t, tap)
	waitConnected(t, tap)
	for _, tc := range []struct {
		proto dnstest.Proto
		addr  string
		sp    dnstap.SocketProtocol
	}{{dnstest.UDP, udp, dnstap.SocketProtocol_UDP}, {dnstest.TCP, tcp, dnstap.SocketProtocol_TCP}} {
		c := dns.Client{Net: string(tc.proto), Timeout: 2 * time.Second}
		conn, err := c.Dial(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		q := dnstest.Msg("www.tap.test", dns.TypeA)
		r, _, err := c.ExchangeWithConn(q, conn)
		clientPort := netip.MustParseAddrPort(conn.LocalAddr().String()).Port()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantQ, _ := q.Pack()
		wantR, _ := r.Pack()
		for _, typ := range []dnstap.Message_Type{dnstap.Message_AUTH_QUERY, dnstap.Message_AUTH_RESPONSE} {
			f := col.next(t)
			m := f.GetMessage()
			if string(f.GetIdentity()) != "gslbd-test" || string(f.GetVersion()) != "gslbd 1" || f.GetType() != dnstap.Dnstap_MESSAGE {
				t.Errorf("%s: frame identity %q version %q type %v", tc.proto, f.GetIdentity(), f.GetVersion(), f.GetType())
			}
			if m.GetType() != typ || m.GetSocketProtocol() != tc.sp || m.GetSocketFamily() != dnstap.SocketFamily_INET {
				t.Errorf("%s: message %v over %v/%v, want %v over %v/INET", tc.proto, m.GetType(), m.GetSocketProtocol(), m.GetSocketFamily(), typ, tc.sp)
			}
			if a, _ := netip.AddrFromSlice(m.GetQueryAddress()); a.String() != "127.0.0.1" || m.GetQueryPort() != uint32(clientPort) {
				t.Errorf("%s %v: query address %v port %d, want 127.0.0.1 port %d", tc.proto, typ, a, m.GetQueryPort(), clientPort)
			}
			if a, _ := netip.AddrFromSlice(m.GetResponseAddress()); a.String() != "127.0.0.1" {
				t.Errorf("%s %v: response address %v", tc.proto, typ, a)
			}
			at := time.Unix(int64(m.GetQueryTimeSec()), int64(m.GetQueryTimeNsec()))
			if d := at.Sub(sent); d < -time.Second || d > 5*time.Second {
				t.Errorf("%s %v: query time %v, sent at %v", tc.proto, typ, at, sent)
			}
			switch typ {
			case dnstap.Message_AUTH_QUERY:
				if string(m.GetQueryMessage()) != string(wantQ) || m.ResponseMessage != nil {
					t.Errorf("%s: the query message is not the query", tc.proto)
				}
			default:
				if string(m.GetResponseMessage()) != string(wantR) || m.GetResponseTimeSec() == 0 {
					t.Errorf("%s: the response message is not the response", tc.proto)
				}
			}
		}
	}
	tap.Close() // the writer counts a batch once its write returned
	if tap.Frames.Load() != 4 || tap.Dropped.Load() != 0 {
		t.Errorf("frames %d dropped %d, want 4 and 0", tap.Frames.Load(), tap.Dropped.Load())
	}
}

func waitConnected(t *testing.T, tap *Tap) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !tap.Connected.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the tap did not connect within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStuckCollector: a collector that completes the handshake and then
// never reads. Answers keep coming as fast as without a tap (every one
// of 3,000 queries answered, none waiting on the log), the frames that
// do not fit are dropped and counted, and Close still returns.
func TestStuckCollector(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stuck.sock")
	var handshakes atomic.Int32
	stuck := make(chan struct{})
	defer close(stuck)
	// Answer READY with ACCEPT, read START, then nothing more.
	serveUnix(t, path, func(conn net.Conn) {
		in, err := dnstap.NewFrameStreamInputTimeout(&stopAfterHandshake{Conn: conn, stuck: stuck}, true, 5*time.Second)
		if err == nil && in != nil {
			handshakes.Add(1)
		}
		<-stuck
	})
	tap, err := New(Options{Addr: path, Slots: 64, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	udp, _ := serveTapped(t, tap)
	waitConnected(t, tap)
	c := dns.Client{Timeout: 2 * time.Second}
	conn, err := c.Dial(udp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	const n = 3000
	for i := range n {
		if _, _, err := c.ExchangeWithConn(dnstest.Msg("stuck.tap.test", dns.TypeA), conn); err != nil {
			t.Fatalf("query %d: %v (the stuck collector held the answer)", i, err)
		}
	}
	took := time.Since(start)
	if handshakes.Load() != 1 {
		t.Errorf("%d handshakes", handshakes.Load())
	}
	closed := make(chan struct{})
	go func() { tap.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a stuck collector")
	}
	t.Logf("%d queries answered in %v with a stuck collector: %d frames written, %d dropped", n, took, tap.Frames.Load(), tap.Dropped.Load())
	if tap.Dropped.Load() < n {
		t.Error("less than half the frames were dropped: the collector read them?")
	}
	if tap.Frames.Load()+tap.Dropped.Load() != 2*n {
		t.Errorf("frames %d + dropped %d != %d", tap.Frames.Load(), tap.Dropped.Load(), 2*n)
	}
}

// stopAfterHandshake is a connection that reads the handshake (READY,
// START) and then blocks every read, so the socket buffer fills.
type stopAfterHandshake struct {
	net.Conn
	n     int
	stuck chan struct{}
}

func (s *stopAfterHandshake) Read(b []byte) (int, error) {
	if s.n >= 2 {
		<-s.stuck // never reads again while the test runs
		return 0, net.ErrClosed
	}
	s.n++
	return s.Conn.Read(b)
}

// TestCollectorComesBack: no collector at first (queries answered, the
// frames dropped), then one: the tap connects by itself and frames flow.
func TestCollectorComesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.sock")
	tap, err := New(Options{Addr: path})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	udp, _ := serveTapped(t, tap)
	dnstest.Exchange(t, dnstest.UDP, udp, dnstest.Msg("early.tap.test", dns.TypeA))
	col := newCollector(t, path)
	waitConnected(t, tap)
	dnstest.Exchange(t, dnstest.UDP, udp, dnstest.Msg("late.tap.test", dns.TypeA))
	for {
		m := col.next(t).GetMessage()
		var q dns.Msg
		if q.Unpack(m.GetQueryMessage()) == nil && len(q.Question) == 1 && strings.HasPrefix(q.Question[0].Name, "late.") {
			break
		}
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"unix:/run/tap.sock": "unix /run/tap.sock", "/run/tap.sock": "unix /run/tap.sock",
		"tcp:127.0.0.1:6000": "tcp 127.0.0.1:6000", "tcp:nohost": "error", "127.0.0.1:6000": "error", "unix:": "error",
	} {
		n, a, err := ParseAddr(in)
		got := n + " " + a
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseAddr(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}

// BenchmarkLog is the answer path's cost of the tap: a copy of the
// query and the response into a ring cell, a compare-and-swap and a
// store; no allocation. (The ring is emptied every 1,024 queries with
// the timer stopped, as the writer would.)
func BenchmarkLog(b *testing.B) {
	tap := &Tap{ring: newRing(4096)}
	q, _ := dnstest.Msg("www.bench.test", dns.TypeA).Pack()
	resp := aHandler{}.ServeDNS(nil, q, dnsserver.Request{})
	r := dnsserver.Request{Src: netip.MustParseAddr("192.0.2.7"), SrcPort: 5353, Local: netip.MustParseAddr("127.0.0.1"), Now: time.Now()}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		tap.Log(q, resp, r)
		if n++; n == 1024 {
			b.StopTimer()
			for c := tap.ring.next(); c != nil; c = tap.ring.next() {
				tap.ring.release(c)
			}
			n = 0
			b.StartTimer()
		}
	}
	if tap.Dropped.Load() != 0 {
		b.Fatalf("%d dropped", tap.Dropped.Load())
	}
}

// TestEncodeMatchesGenerated: the hand-written wire format decodes, with
// golang-dnstap's generated messages, to exactly the message those
// would marshal: queries and responses, IPv4 and IPv6, UDP and TCP,
// with and without identity, port and local address.
func TestEncodeMatchesGenerated(t *testing.T) {
	now := time.Unix(1764870000, 123456789)
	q, _ := dnstest.Msg("www.enc.test", dns.TypeAAAA).Pack()
	r := aHandler{}.ServeDNS(nil, q, dnsserver.Request{})
	u32 := func(v uint32) *uint32 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	for _, s := range []slot{
		{q: q, resp: r, hasResp: true, src: netip.MustParseAddr("192.0.2.7"), srcPort: 5353, local: netip.MustParseAddr("127.0.0.1"), now: now},
		{q: q, resp: r, hasResp: true, src: netip.MustParseAddr("2001:db8::7"), srcPort: 1, tcp: true, now: now},
		{q: q, src: netip.MustParseAddr("198.51.100.1"), now: now},
	} {
		for _, identity := range []string{"", "ns1"} {
			e := newEncoder(identity, "gslbd test")
			for _, resp := range []bool{false, true} {
				if resp && !s.hasResp {
					continue
				}
				var got dnstap.Dnstap
				if err := proto.Unmarshal(e.encode(&s, resp), &got); err != nil {
					t.Fatalf("%+v: %v", s, err)
				}
				typ, fam, sp := dnstap.Message_AUTH_QUERY, dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP
				if resp {
					typ = dnstap.Message_AUTH_RESPONSE
				}
				if s.src.Is6() {
					fam = dnstap.SocketFamily_INET6
				}
				if s.tcp {
					sp = dnstap.SocketProtocol_TCP
				}
				m := &dnstap.Message{Type: &typ, SocketFamily: &fam, SocketProtocol: &sp, QueryAddress: s.src.AsSlice(),
					QueryTimeSec: u64(uint64(now.Unix())), QueryTimeNsec: u32(uint32(now.Nanosecond()))}
				if s.local.IsValid() {
					m.ResponseAddress = s.local.AsSlice()
				}
				if s.srcPort != 0 {
					m.QueryPort = u32(uint32(s.srcPort))
				}
				if resp {
					m.ResponseTimeSec, m.ResponseTimeNsec, m.ResponseMessage = m.QueryTimeSec, m.QueryTimeNsec, s.resp
				} else {
					m.QueryMessage = s.q
				}
				dt := dnstap.Dnstap_MESSAGE
				want := &dnstap.Dnstap{Type: &dt, Version: []byte("gslbd test"), Message: m}
				if identity != "" {
					want.Identity = []byte(identity)
				}
				if !proto.Equal(&got, want) {
					t.Errorf("resp=%v identity=%q:\n got %v\nwant %v", resp, identity, &got, want)
				}
			}
		}
	}
}

// BenchmarkEncode is the writer's cost of one frame.
func BenchmarkEncode(b *testing.B) {
	q, _ := dnstest.Msg("www.bench.test", dns.TypeA).Pack()
	s := slot{q: q, resp: aHandler{}.ServeDNS(nil, q, dnsserver.Request{}), hasResp: true,
		src: netip.MustParseAddr("192.0.2.7"), srcPort: 5353, local: netip.MustParseAddr("127.0.0.1"), now: time.Now()}
	e := newEncoder("bench", "gslbd")
	b.ReportAllocs()
	for b.Loop() {
		e.encode(&s, true)
	}
}
