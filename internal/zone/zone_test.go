package zone

import (
	"testing"

	"github.com/miekg/dns"
)

// The lookups themselves are tested where they are served: internal/gslb
// answers real queries from these zones (TestStaticAnswers), and
// `make mutation` measures this package with those tests. Here: what the
// engine never does, a lookup without a Dynamic callback.

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLookupWithoutDynamic: with no callback, a dynamic name is a name
// without data of its own: NODATA with the SOA for every type, ANY too.
func TestLookupWithoutDynamic(t *testing.T) {
	soa := rr(t, "example.test. 300 IN SOA ns1.example.test. h.example.test. 1 3600 3 3600 60")
	set := NewSet()
	set.Add(New("example.test.", []dns.RR{soa, rr(t, "host.example.test. 3600 IN A 192.0.2.1")}, []string{"app.example.test"}))
	for _, qtype := range []uint16{dns.TypeA, dns.TypeANY, dns.TypeTXT} {
		res := set.Lookup("app.example.test.", qtype, nil)
		if res.Rcode != dns.RcodeSuccess || len(res.Answer) != 0 || len(res.Ns) != 1 || res.Ns[0].Header().Rrtype != dns.TypeSOA ||
			res.Ns[0].Header().Ttl != 60 {
			t.Errorf("%s: got rcode %d, answer %v, authority %v; want NODATA with the SOA (TTL 60)", dns.TypeToString[qtype], res.Rcode, res.Answer, res.Ns)
		}
	}
}
