package dnsserver

import (
	"net"
	"testing"
	"time"

	"github.com/gslbd/gslbd/internal/dnstest"
	"github.com/miekg/dns"
)

// statsHandler answers by the question name: "nx" NXDOMAIN, "tc" a
// truncated answer, "big" 600 bytes, "drop" nothing; the rest echo.
type statsHandler struct{}

func (statsHandler) ServeDNS(dst, q []byte, _ Request) []byte {
	m := new(dns.Msg)
	if m.Unpack(q) != nil || len(m.Question) != 1 {
		return nil
	}
	r := new(dns.Msg)
	r.SetReply(m)
	switch m.Question[0].Name {
	case "drop.test.":
		return nil
	case "nx.test.":
		r.Rcode = dns.RcodeNameError
	case "tc.test.":
		r.Truncated = true
	case "big.test.":
		r.Answer = append(r.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: "big.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{string(make([]byte, 250)), string(make([]byte, 250))}})
	}
	b, _ := r.PackBuffer(dst)
	return b
}

// TestStatsCount: each transport counts its queries, answers by RCODE,
// question types, truncations, sizes and queries left unanswered, as a
// scrape reads them (flushed by each worker after its batch).
func TestStatsCount(t *testing.T) {
	s, udpAddr, tcpAddr := serveWith(t, statsHandler{}, Options{})
	ask := []struct {
		name  string
		qtype uint16
	}{{"a.test", dns.TypeA}, {"a.test", dns.TypeAAAA}, {"nx.test", dns.TypeA}, {"tc.test", dns.TypeTXT}, {"big.test", dns.TypeTXT}, {"a.test", dns.TypeCAA}}
	for _, proto := range []dnstest.Proto{dnstest.UDP, dnstest.TCP} {
		addr := udpAddr
		if proto == dnstest.TCP {
			addr = tcpAddr
		}
		for _, a := range ask {
			dnstest.Exchange(t, proto, addr, dnstest.Msg(a.name, a.qtype))
		}
		// No answer: the client times out.
		c, err := net.Dial(map[dnstest.Proto]string{dnstest.UDP: "udp", dnstest.TCP: "tcp"}[proto], addr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := dnstest.Msg("drop.test", dns.TypeA).Pack()
		if proto == dnstest.TCP {
			b = framed(b)
		}
		c.Write(b)
		c.Close()
	}
	want := func(tr int) bool {
		st := s.Stats.Transport(tr)
		return st.Queries == 7 && st.Dropped == 1
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(want(UDP) && want(TCP)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for tr, name := range []string{"udp", "tcp"} {
		st := s.Stats.Transport(tr)
		idx := map[string]int{}
		for i, n := range QTypeNames {
			idx[n] = i
		}
		if st.Queries != 7 || st.Dropped != 1 || st.Truncated != 1 || st.Rcode[dns.RcodeSuccess] != 5 || st.Rcode[dns.RcodeNameError] != 1 {
			t.Errorf("%s: %+v", name, st)
		}
		if st.QType[idx["A"]] != 3 || st.QType[idx["AAAA"]] != 1 || st.QType[idx["TXT"]] != 2 || st.QType[idx["other"]] != 1 {
			t.Errorf("%s: types %v", name, st.QType)
		}
		var answers uint64
		for _, n := range st.Size {
			answers += n
		}
		if answers != 6 || st.Size[len(SizeBounds)-3] != 1 || st.SizeSum < 600 {
			t.Errorf("%s: sizes %v (sum %d)", name, st.Size, st.SizeSum)
		}
	}
	if s.Stats.TCPConnections.Load() != 7 {
		t.Errorf("TCP connections %d, want 7", s.Stats.TCPConnections.Load())
	}
}
