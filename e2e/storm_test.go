package e2e

import (
	"math/rand/v2"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// TestMalformedPacketStorm sends bounded garbage through the real sockets:
// random and mutated UDP packets, and TCP abuse (short bodies, zero
// lengths, random bytes, half-sent messages). The server must answer a
// normal query afterwards and return to its goroutine baseline.
func TestMalformedPacketStorm(t *testing.T) {
	d := start(t, mirConf())
	base := runtime.NumGoroutine()
	rng := rand.New(rand.NewPCG(1, 2))
	valid, _ := dnstest.Msg("app.example.test", dns.TypeA, dnstest.EDNS(1232)).Pack()

	const udpPackets = 20000
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("udp", d.UDPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := range udpPackets {
		var b []byte
		switch i % 4 {
		case 0: // random bytes, random length
			b = make([]byte, rng.IntN(600))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
		case 1: // a valid query with a few bytes flipped
			b = append([]byte(nil), valid...)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		case 2: // truncated valid query
			b = valid[:rng.IntN(len(valid))]
		case 3: // header claiming many records, then garbage
			b = append([]byte{byte(i), byte(i >> 8), 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, valid[12:]...)
		}
		conns[i%len(conns)].Write(b)
		if time.Now().After(deadline) {
			t.Fatalf("storm took too long at packet %d", i)
		}
	}
	// TCP abuse.
	abuse := [][]byte{
		{0xff, 0xff, 1, 2, 3}, // claims 65535 bytes, sends 3
		{0, 0},                // zero length
		{0, 5, 1, 2, 3, 4, 5}, // 5 random bytes as a message
		append([]byte{0, byte(len(valid))}, valid[:10]...), // half a message
	}
	for i := range 200 {
		c, err := net.Dial("tcp", d.TCPAddr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write(abuse[i%len(abuse)])
		c.Close()
	}
	// Still serving, over both transports. A datagram may be lost while
	// the socket's queue still holds the storm (UDP, as a resolver
	// knows): ask again, as a resolver would, for up to 10 s.
	for _, proto := range dnstest.Protos {
		var r *dns.Msg
		var err error
		for try := 0; try < 10; try++ {
			if r, err = dnstest.TryExchange(proto, addr(d, string(proto)), dnstest.Msg("app.example.test", dns.TypeA), time.Second); err == nil {
				break
			}
		}
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("%s after the storm: %v %v", proto, r, err)
		}
	}
	waitFor(t, "goroutines back to baseline", 15*time.Second, func() bool { return runtime.NumGoroutine() <= base+2 })
}
