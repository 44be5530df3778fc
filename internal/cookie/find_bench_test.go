package cookie

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkFind: the cost on every query when cookies are on, for a
// resolver's usual EDNS query without a cookie (the common case).
func BenchmarkFind(b *testing.B) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.SetEdns0(1232, true)
	q, _ := m.Pack()
	b.ReportAllocs()
	for b.Loop() {
		if Find(q).Status != None {
			b.Fatal("a cookie")
		}
	}
}
