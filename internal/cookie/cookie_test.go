package cookie

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC9018Vectors checks the server cookies of RFC 9018 Appendix A
// (what BIND and Knot make from the same inputs).
func TestRFC9018Vectors(t *testing.T) {
	for _, v := range []struct {
		client, ip, secret string
		ts                 uint32
		want               string
	}{
		{"2464c4abcf10c957", "198.51.100.100", "e5e973e5a6b2a43f48e7dc849e37bfcf", 1559731985, "010000005cf79f111f8130c3eee29480"},
		{"2464c4abcf10c957", "198.51.100.100", "e5e973e5a6b2a43f48e7dc849e37bfcf", 1559734385, "010000005cf7a871d4a564a1442aca77"},
		{"fc93fc62807ddb86", "203.0.113.203", "e5e973e5a6b2a43f48e7dc849e37bfcf", 1559734700, "010000005cf7a9acf73a7810aca2381e"},
		{"22681ab97d52c298", "2001:db8:220:1:59de:d0f4:8769:82b8", "445536bcd2513298075a5d379663c962", 1559741961, "010000005cf7c609a6bb79d16625507a"},
	} {
		j := &Jar{}
		var s [16]byte
		copy(s[:], mustHex(t, v.secret))
		j.SetSecret(s)
		client := mustHex(t, v.client)
		ip := netip.MustParseAddr(v.ip)
		got := j.Append(nil, client, ip, v.ts)
		if hex.EncodeToString(got) != v.want {
			t.Errorf("%s at %s: server cookie %x, want %s", v.client, v.ip, got, v.want)
		}
		if ok, renew := j.Valid(client, got, ip, v.ts+10); !ok || renew {
			t.Errorf("%s: its own cookie is valid %v, renew %v", v.client, ok, renew)
		}
	}
	// A.3's query: another implementation set the Reserved bytes; the
	// hash covers them as received.
	j := &Jar{}
	var s [16]byte
	copy(s[:], mustHex(t, "e5e973e5a6b2a43f48e7dc849e37bfcf"))
	j.SetSecret(s)
	if ok, _ := j.Valid(mustHex(t, "fc93fc62807ddb86"), mustHex(t, "01abcdef5cf78f71a314227b6679ebf5"), netip.MustParseAddr("203.0.113.203"), 1559727985+600); !ok {
		t.Error("A.3's server cookie with Reserved bytes set is refused")
	}
}

func TestValid(t *testing.T) {
	j := NewJar()
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ip := netip.MustParseAddr("192.0.2.1")
	const now = 1_800_000_000
	sc := j.Append(nil, client, ip, now)
	for _, c := range []struct {
		name      string
		client    []byte
		ip        string
		at        uint32
		ok, renew bool
	}{
		{"same client", client, "192.0.2.1", now, true, false},
		{"other address", client, "192.0.2.2", now, false, false},
		{"other client cookie", []byte{8, 7, 6, 5, 4, 3, 2, 1}, "192.0.2.1", now, false, false},
		{"40 minutes old: renewed", client, "192.0.2.1", now + 2400, true, true},
		{"over an hour old", client, "192.0.2.1", now + 3601, false, false},
		{"4 minutes ahead (a server with a clock ahead)", client, "192.0.2.1", now - 240, true, false},
		{"6 minutes ahead", client, "192.0.2.1", now - 360, false, false},
	} {
		ok, renew := j.Valid(c.client, sc, netip.MustParseAddr(c.ip), c.at)
		if ok != c.ok || renew != c.renew {
			t.Errorf("%s: valid %v renew %v, want %v %v", c.name, ok, renew, c.ok, c.renew)
		}
	}
	bad := bytes.Clone(sc)
	bad[15] ^= 1
	if ok, _ := j.Valid(client, bad, ip, now); ok {
		t.Error("a changed hash is valid")
	}
	bad = bytes.Clone(sc)
	bad[0] = 2
	if ok, _ := j.Valid(client, bad, ip, now); ok {
		t.Error("version 2 is valid")
	}
	// After a rotation the old secret's cookies are still valid; after
	// two they are not.
	j.Rotate()
	if ok, _ := j.Valid(client, sc, ip, now); !ok {
		t.Error("a cookie of the previous secret is refused")
	}
	j.Rotate()
	if ok, _ := j.Valid(client, sc, ip, now); ok {
		t.Error("a cookie of the secret before the previous is accepted")
	}
}

// TestLifetime: a random secret is replaced once Lifetime old; cookies
// of the one before stay valid, those of the one before that do not.
func TestLifetime(t *testing.T) {
	j := NewJar()
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ip := netip.MustParseAddr("2001:db8::1")
	const t0 = 1_800_000_000
	j.Append(nil, client, ip, t0) // the secret's life starts
	late := j.Append(nil, client, ip, t0+Lifetime-10)
	if ok, _ := j.Valid(client, late, ip, t0+Lifetime-5); !ok {
		t.Fatal("a cookie made just before the secret's end is refused")
	}
	renewed := j.Append(nil, client, ip, t0+Lifetime)
	if ok, _ := j.Valid(client, late, ip, t0+Lifetime+5); !ok {
		t.Error("a cookie of the previous secret is refused after the rotation")
	}
	if ok, _ := j.Valid(client, renewed, ip, t0+Lifetime+5); !ok {
		t.Error("a cookie of the new secret is refused")
	}
	j.Append(nil, client, ip, t0+2*Lifetime)
	if ok, _ := j.Valid(client, late, ip, t0+2*Lifetime-Lifetime+5); ok {
		t.Error("a cookie two secrets old is accepted")
	}
	// A worker whose clock reads a second before the secret's start (it
	// read the time before another worker rotated) does not rotate again.
	k := j.keys.Load()
	j.Append(nil, client, ip, k.since-1)
	if j.keys.Load() != k {
		t.Error("a clock a second behind the secret's start rotated it")
	}
	// A secret that is set is never replaced.
	j.SetSecret([16]byte{9})
	a := j.Append(nil, client, ip, t0)
	j.Append(nil, client, ip, t0+10*Lifetime)
	if ok, _ := j.Valid(client, a, ip, t0+10); !ok {
		t.Error("a set secret was replaced")
	}
}

func query(t *testing.T, opts ...dns.EDNS0) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	if opts != nil {
		m.SetEdns0(1232, false)
		o := m.IsEdns0()
		o.Option = append(o.Option, opts...)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFind(t *testing.T) {
	ecs := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: netip.MustParseAddr("192.0.2.0").AsSlice()}
	for _, c := range []struct {
		name   string
		q      []byte
		status Status
		client string
		server string
	}{
		{"no EDNS", query(t), None, "", ""},
		{"EDNS without a cookie", query(t, ecs), None, "", ""},
		{"a client cookie", query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}), Client, "0102030405060708", ""},
		{"after ECS, with a server cookie", query(t, ecs, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708" + "01000000aabbccdd1122334455667788"}),
			Client, "0102030405060708", "01000000aabbccdd1122334455667788"},
		{"7 bytes", query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "01020304050607"}), Malformed, "", ""},
		{"a server cookie of 4 bytes", query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "010203040506070801020304"}), Malformed, "", ""},
		{"41 bytes", query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708" + hex.EncodeToString(make([]byte, 33))}), Malformed, "", ""},
		{"two", query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}), Malformed, "", ""},
	} {
		got := Find(c.q)
		if got.Status != c.status || hex.EncodeToString(got.Client) != c.client || hex.EncodeToString(got.Server) != c.server {
			t.Errorf("%s: %+v, want %v %s %s", c.name, got, c.status, c.client, c.server)
		}
	}
	// Truncated anywhere: never a panic, never a cookie past the end.
	q := query(t, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	for n := range len(q) {
		if got := Find(q[:n]); got.Status == Client {
			t.Errorf("cut at %d: %+v", n, got)
		}
	}
}

func TestLastOPT(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.Response = true
	m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: []byte{192, 0, 2, 1}})
	m.Compress = true
	plain, _ := m.Pack()
	if LastOPT(plain) != -1 {
		t.Error("an OPT found in a message without one")
	}
	m.SetEdns0(1232, false)
	b, _ := m.Pack()
	if got := LastOPT(b); got != len(plain) {
		t.Errorf("OPT at %d, want %d", got, len(plain))
	}
	m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: "ns.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: []byte{192, 0, 2, 2}})
	b, _ = m.Pack()
	if LastOPT(b) != -1 {
		t.Error("an OPT found that is not last")
	}
}

func BenchmarkAppendOption(b *testing.B) {
	j := NewJar()
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	ip := netip.MustParseAddr("192.0.2.1")
	q := Query{Status: Client, Client: client, Server: j.Append(nil, client, ip, 1_800_000_000)}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = j.AppendOption(buf[:0], &q, ip, 1_800_000_100)
	}
}

// FuzzFind: any bytes as a query or a response: no panic, and a cookie
// found has the lengths RFC 7873 allows.
func FuzzFind(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		q := Find(b)
		if q.Status == Client && (len(q.Client) != ClientLen || q.Server != nil && (len(q.Server) < 8 || len(q.Server) > 32)) {
			t.Fatalf("cookie of %d and %d bytes", len(q.Client), len(q.Server))
		}
		if at := LastOPT(b); at >= 0 && (at+11 > len(b) || b[at+2] != 41) {
			t.Fatalf("OPT at %d in %d bytes", at, len(b))
		}
	})
}
