package mep

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gslbd/gslbd/internal/health"
	"github.com/gslbd/gslbd/internal/mep/wire"
)

// fuzzNode is a plain-port node of site dc2 that exchanges with dc1, with
// its store.
func fuzzNode(t testing.TB) (*Node, *health.Store) {
	store := health.NewStore(health.Options{Out: &sink{last: map[string]health.Report{}, metrics: map[string]*health.Metrics{}}})
	store.Update(twoSiteHealth("dc2"))
	// Network metrics go through the checks and are dropped.
	n := New(Options{Store: store, Timers: testTimers, OnLDNSNew: func(string, []netip.Prefix) {}, OnRTT: func(string, []RTT) {}})
	n.Update(Config{Site: "dc2", Role: wire.Role_PARENT, PSK: []byte("k"), Peers: []Peer{{Name: "dc1", Role: wire.Role_PARENT, NWMetrics: true}}})
	t.Cleanup(func() { n.Close(); store.Close() })
	return n, store
}

// frames turns fuzz input into frames: repeated [type][flags][len uint16]
// [payload], so that the fuzzer reaches past the frame layer.
func frames(in []byte, write func(wire.Type, uint8, []byte) error) {
	for len(in) >= 4 {
		t, fl, n := wire.Type(in[0]), in[1], int(binary.BigEndian.Uint16(in[2:4]))
		in = in[4:]
		n = min(n, len(in))
		if write(t, fl, in[:n]) != nil {
			return
		}
		in = in[n:]
	}
}

func frame(t wire.Type, m proto.Message) []byte {
	b, _ := proto.Marshal(m)
	out := []byte{byte(t), 0, 0, 0}
	binary.BigEndian.PutUint16(out[2:], uint16(len(b)))
	return append(out, b...)
}

// FuzzAcceptor: whatever a dialler sends before it is authenticated
// (HELLO and what follows on the plain port), the acceptor refuses it
// within the handshake timeout, never panics, and learns nothing.
func FuzzAcceptor(f *testing.F) {
	f.Add(frame(wire.TypeHello, &wire.Hello{Major: 1, Site: "dc1", Role: wire.Role_PARENT, Peer: "dc2", Nonce: make([]byte, 32)}))
	f.Add(frame(wire.TypeHello, &wire.Hello{Major: 2, Site: "dc1"}))
	f.Add(append(frame(wire.TypeHello, &wire.Hello{Major: 1, Site: "dc1", Role: wire.Role_PARENT, Peer: "dc2"}),
		frame(wire.TypeSiteFull, &wire.SiteUpdate{Services: []*wire.Service{{Name: "svc1", State: wire.State_UP}}})...))
	n, store := fuzzNode(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		go func() {
			defer b.Close()
			b.SetDeadline(time.Now().Add(time.Second))
			fc := wire.NewConn(b)
			go func() { // drain what the acceptor answers
				for {
					if _, err := fc.Read(); err != nil {
						return
					}
				}
			}()
			frames(in, func(t wire.Type, fl uint8, p []byte) error { return fc.WritePayload(t, fl, p) })
		}()
		c, _, err := n.accept(a, true)
		a.Close()
		if err == nil {
			t.Fatalf("an unauthenticated dialler was accepted: %+v", c.hello)
		}
		if ss, _ := store.Service("svc1"); ss.Peer != health.Unknown {
			t.Fatalf("learnt %s from an unauthenticated dialler", ss.Peer)
		}
	})
}

// FuzzPeerFrames: whatever an authenticated peer sends (any frame type,
// any payload, chunks), the reader neither panics nor lets the peer set
// the state of services that are not its own.
func FuzzPeerFrames(f *testing.F) {
	f.Add(frame(wire.TypeSiteFull, &wire.SiteUpdate{Services: []*wire.Service{{Name: "svc1", State: wire.State_UP, Has: 1, Connections: 3}}}))
	f.Add(append(frame(wire.TypeHeartbeat, &wire.Heartbeat{SentNs: 5}), frame(wire.TypeSiteDelta, &wire.SiteUpdate{Services: []*wire.Service{{Name: "svc2", State: wire.State_DOWN}}})...))
	more := frame(wire.TypeSiteFull, &wire.SiteUpdate{Services: []*wire.Service{{Name: "svc1", State: wire.State_DOWN}}})
	more[1] = wire.FlagMore
	f.Add(append(more, frame(wire.TypeGoodbye, &wire.Goodbye{Reason: wire.GoodbyeReason_SHUTDOWN})...))
	f.Add([]byte{200, wire.FlagIgnorable, 0, 1, 7, 200, 0, 0, 0})
	f.Add(append(frame(wire.TypeNWLDNSNew, &wire.NWLDNSNew{Ldns: []*wire.LDNS{{Addr: []byte{10, 0, 0, 0}, Bits: 24}}}),
		frame(wire.TypeNWMetrics, &wire.NWMetrics{Site: "dc1", Rtts: []*wire.RTT{{Ldns: &wire.LDNS{Addr: []byte{10, 0, 0, 0}, Bits: 24}, RttUs: 900, Method: wire.ProbeMethod_PROBE_DNS}}})...))
	n, store := fuzzNode(f)
	n.mu.Lock()
	l := n.links["dc1"]
	n.mu.Unlock()
	f.Fuzz(func(t *testing.T, in []byte) {
		a, b := net.Pipe()
		c := newConn(l, a, wire.NewConn(a), false, &wire.Hello{})
		go func() {
			defer b.Close()
			b.SetDeadline(time.Now().Add(time.Second))
			fc := wire.NewConn(b)
			go func() { // drain what the reader answers (ERROR)
				for {
					if _, err := fc.Read(); err != nil {
						return
					}
				}
			}()
			frames(in, func(t wire.Type, fl uint8, p []byte) error { return fc.WritePayload(t, fl, p) })
		}()
		c.readLoop()
		<-c.done
		if ss, _ := store.Service("svc2"); ss.Peer != health.Unknown {
			t.Fatalf("dc1 set the state of dc2's own service svc2: %+v", ss)
		}
	})
}
