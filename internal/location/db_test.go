package location

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func TestParseQualifiers(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "NA.US.CA", want: "NA.US.CA.*.*.*"},
		{in: `NA.US.CA."San Jose".ATT.citrix`, want: `NA.US.CA."San Jose".ATT.citrix`},
		{in: "*.US.*.*.*.*", want: "*.US.*.*.*.*"},
		{in: "a.b.c.d.e.f.g", bad: true},
		{in: `NA."San`, bad: true},
		{in: `"a"b.c`, bad: true},
	} {
		l, err := ParseQualifiers(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%s: err %v, want bad %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && l.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.in, l.String(), tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	q := func(s string) *Location { l, _ := ParseQualifiers(s); return &l }
	for _, tc := range []struct {
		client, svc string
		want        int
	}{
		{"NA.US.CA.SanJose.ATT.x", "NA.US.CA.*.*.*", 6},
		{"NA.US.CA.SanJose.ATT.x", "NA.US.TX.*.*.*", 2},
		{"NA.US.CA", "EU.DE.BE", -1},
		{"NA.us.ca", "NA.US.CA", 6},    // case does not matter
		{"*.AU.QLD", "OC.AU.NSW", 2},   // an empty continent agrees with any
		{"NA.US.CA", "*.*.*.*.*.*", 6}, // a service without a location matches
	} {
		if got := Match(q(tc.client), q(tc.svc)); got != tc.want {
			t.Errorf("Match(%s, %s) = %d, want %d", tc.client, tc.svc, got, tc.want)
		}
	}
}

const nsFile = `NSGEO1.0
Context=geographic
Qualifier1=Continent
Start
1.0.0.0,1.0.0.255,OC,AU,Queensland,Brisbane,,,153.0281,-27.4679
10.0.0.0,10.0.1.127,NA,US,California,"San Jose",ATT,citrix,-121.89,37.33
10.0.2.0,10.0.2.255,EU,DE,bad-longitude,,,,500,1
192.0.2.0,192.0.2.255,EU,DE,Berlin
2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,EU,FR,,,,,2.35,48.85
255.255.255.0,255.255.255.255,XX,YY
not-an-ip,1.2.3.4,NA
End
`

func TestReadNetScalerFile(t *testing.T) {
	var b Builder
	st, err := ReadFile(strings.NewReader(nsFile), "netscaler", &b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 5 || st.Errors != 2 || st.Context != "geographic" || st.Labels[0] != "Continent" || len(st.FirstErrors) != 2 ||
		!strings.Contains(st.FirstErrors[0].Error(), "line 7:") || !strings.Contains(st.FirstErrors[1].Error(), "line 11:") {
		t.Fatalf("stats %+v", st)
	}
	db := b.Build()
	for _, tc := range []struct {
		addr, want string
		scope      int
	}{
		{"1.0.0.0", "OC.AU.Queensland.Brisbane.*.*", 24},
		{"1.0.0.255", "OC.AU.Queensland.Brisbane.*.*", 24},
		{"10.0.0.5", `NA.US.California."San Jose".ATT.citrix`, 24},
		{"10.0.1.5", `NA.US.California."San Jose".ATT.citrix`, 25},
		{"192.0.2.77", "EU.DE.Berlin.*.*.*", 24},
		{"2001:db8::1", "EU.FR.*.*.*.*", 48},
		{"255.255.255.255", "XX.YY.*.*.*.*", 24},
		{"::ffff:1.0.0.7", "OC.AU.Queensland.Brisbane.*.*", 24},
	} {
		l, scope, ok := db.Lookup(netip.MustParseAddr(tc.addr))
		if !ok || l.String() != tc.want || scope != tc.scope {
			t.Errorf("%s: %v %d %v, want %s /%d", tc.addr, l, scope, ok, tc.want, tc.scope)
		}
	}
	if l, _, _ := db.Lookup(netip.MustParseAddr("1.0.0.1")); !l.HasCoords || l.Lon != 153.0281 || l.Lat != -27.4679 {
		t.Errorf("coordinates %+v", l)
	}
	for _, a := range []string{"0.255.255.255", "1.0.1.0", "10.0.1.128", "2001:db9::", "0.0.0.0"} {
		if l, _, ok := db.Lookup(netip.MustParseAddr(a)); ok {
			t.Errorf("%s found: %v", a, l)
		}
	}
}

func TestReadOtherFormats(t *testing.T) {
	var b Builder
	// IP2Location quotes every field; a long name may hold a comma.
	st, err := ReadFile(strings.NewReader(`"16777216","16777471","AU","Australia"
"3405774848","3405775103","KR","Korea, Republic of"
`), "ip-country", &b)
	if err != nil || st.Entries != 2 || st.Errors != 0 {
		t.Fatalf("ip-country: %+v %v", st, err)
	}
	st, err = ReadFile(strings.NewReader(`"203.0.113.0","203.0.113.255","3405803776","3405804031","JP","Japan"`+"\n"), "geoip-country", &b)
	if err != nil || st.Entries != 1 {
		t.Fatalf("geoip-country: %+v %v", st, err)
	}
	db := b.Build()
	// The geographic context derives the continent from the country.
	for addr, want := range map[string]string{"1.0.0.9": "OC.AU.*.*.*.*", "203.0.0.1": "AS.KR.*.*.*.*", "203.0.113.9": "AS.JP.*.*.*.*"} {
		if l, _, ok := db.Lookup(netip.MustParseAddr(addr)); !ok || l.String() != want {
			t.Errorf("%s: %v, want %s", addr, l, want)
		}
	}
	if _, err := ReadFile(strings.NewReader(""), "geoip-planet", &b); err == nil || !strings.Contains(err.Error(), "unknown location file format") {
		t.Errorf("unknown format: %v", err)
	}
}

// TestCustomWins: `add location` entries win over the file's, the
// narrowest first; overlapping file ranges keep the first.
func TestCustomWins(t *testing.T) {
	var b Builder
	ReadFile(strings.NewReader("10.0.0.0,10.255.255.255,NA,US\n10.1.0.0,10.1.0.255,EU,DE\n"), "netscaler", &b)
	wide, _ := ParseQualifiers("AS.JP")
	narrow, _ := ParseQualifiers("AS.JP.Tokyo")
	b.AddCustom(netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.255.255"), wide)
	b.AddCustom(netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("10.0.1.255"), narrow)
	if err := b.AddCustom(netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("::1"), narrow); err == nil {
		t.Error("a range across families accepted")
	}
	db := b.Build()
	if b.Overlaps != 1 {
		t.Errorf("overlaps %d, want 1", b.Overlaps)
	}
	for addr, want := range map[string]string{"10.0.1.7": "AS.JP.Tokyo.*.*.*", "10.0.2.7": "AS.JP.*.*.*.*", "10.1.0.1": "NA.US.*.*.*.*", "10.200.0.1": "NA.US.*.*.*.*"} {
		if l, _, ok := db.Lookup(netip.MustParseAddr(addr)); !ok || l.String() != want {
			t.Errorf("%s: %v, want %s", addr, l, want)
		}
	}
	if _, scope, _ := db.Lookup(netip.MustParseAddr("10.0.1.7")); scope != 24 {
		t.Errorf("custom scope %d, want 24", scope)
	}
}

// writeMMDB builds a GeoIP2-City-shaped MMDB file with mmdbwriter.
func writeMMDB(t testing.TB, nets map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", IncludeReservedNetworks: true, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return p
}

func cityRecord(continent, country, region, city string, lat, lon float64) mmdbtype.Map {
	return mmdbtype.Map{
		"continent":    mmdbtype.Map{"code": mmdbtype.String(continent)},
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country)},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("X"), "names": mmdbtype.Map{"en": mmdbtype.String(region)}}},
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}},
		"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon)},
	}
}

func TestReadMMDB(t *testing.T) {
	p := writeMMDB(t, map[string]mmdbtype.Map{
		"203.0.113.0/24":  cityRecord("AS", "JP", "Tokyo", "Tokyo", 35.68, 139.69),
		"198.51.100.0/25": cityRecord("NA", "US", "California", "San Jose", 37.33, -121.89),
		"2001:db8::/32":   cityRecord("EU", "DE", "Berlin", "Berlin", 52.52, 13.40),
	})
	var b Builder
	st, err := ReadMMDB(p, &b)
	if err != nil || st.Entries < 3 || st.Errors != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	db := b.Build()
	for _, tc := range []struct {
		addr, want string
		scope      int
	}{
		{"203.0.113.9", "AS.JP.Tokyo.Tokyo.*.*", 24},
		{"198.51.100.100", `NA.US.California."San Jose".*.*`, 25},
		{"2001:db8:1::1", "EU.DE.Berlin.Berlin.*.*", 32},
	} {
		l, scope, ok := db.Lookup(netip.MustParseAddr(tc.addr))
		if !ok || l.String() != tc.want || scope != tc.scope || !l.HasCoords {
			t.Errorf("%s: %v /%d %v, want %s /%d", tc.addr, l, scope, ok, tc.want, tc.scope)
		}
	}
	if _, _, ok := db.Lookup(netip.MustParseAddr("198.51.100.200")); ok {
		t.Error("198.51.100.200 outside the /25 found")
	}
	if _, err := ReadMMDB(filepath.Join(t.TempDir(), "none.mmdb"), &b); err == nil {
		t.Error("a missing file read")
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	db := bigDB(t, 10000)
	a, a6 := netip.MustParseAddr("1.0.20.7"), netip.MustParseAddr("2001:db8::1")
	if n := testing.AllocsPerRun(1000, func() { db.Lookup(a); db.Lookup(a6) }); n != 0 {
		t.Fatalf("Lookup: %v allocations", n)
	}
}

// bigFile is a NetScaler-format file of n /24 ranges from 1.0.0.0, with
// 200 distinct locations.
func bigFile(n int) string {
	var s strings.Builder
	s.WriteString("NSGEO1.0\nStart\n")
	for i := range n {
		a := 1<<24 + i*256
		fmt.Fprintf(&s, "%d.%d.%d.0,%d.%d.%d.255,NA,US,R%d,C%d,,,-100.5,40.25\n", a>>24, a>>16&255, a>>8&255, a>>24, a>>16&255, a>>8&255, i%20, i%200)
	}
	return s.String()
}

func bigDB(t testing.TB, n int) *DB {
	var b Builder
	if _, err := ReadFile(strings.NewReader(bigFile(n)), "netscaler", &b); err != nil {
		t.Fatal(err)
	}
	return b.Build()
}

// TestScopeAgainstBruteForce: the constant-time scope is the shortest
// prefix whose block around the address lies within the range, as found
// by trying every length.
func TestScopeAgainstBruteForce(t *testing.T) {
	brute := func(x, from, to uint32) int {
		for l := 0; l <= 32; l++ {
			mask := uint32(0)
			if l > 0 {
				mask = ^uint32(0) << (32 - l)
			}
			if start, end := x&mask, x&mask|^mask; start >= from && end <= to {
				return l
			}
		}
		return 32
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		a, b := r.Uint32()>>r.IntN(32), r.Uint32()
		if r.IntN(4) == 0 {
			b = a + r.Uint32N(1<<r.IntN(20)+1)
		}
		from, to := min(a, b), max(a, b)
		x := from + uint32(r.Uint64N(uint64(to-from)+1))
		if got, want := scope4(x, from, to), brute(x, from, to); got != want {
			t.Fatalf("scope4(%d, %d, %d) = %d, want %d", x, from, to, got, want)
		}
		// The same range in IPv6 (::ffff:0:0/96 as the top), by 96 more bits.
		x6, f6, t6 := u128{0, uint64(x)}, u128{0, uint64(from)}, u128{0, uint64(to)}
		if got, want := scope6(x6, f6, t6), brute(x, from, to)+96; got != want && !(from == 0 && to == ^uint32(0)) {
			t.Fatalf("scope6(%d, %d, %d) = %d, want %d", x, from, to, got, want)
		}
	}
}

// TestWithCustom: custom ranges laid over a file's database: the
// narrowest wins where they overlap (the wider one still holds the rest
// on both sides), an IPv6 range never holds an IPv4 address, the file's
// database is left as it was, and a custom location's qualifiers compare
// with the file's.
func TestWithCustom(t *testing.T) {
	var b Builder
	ReadFile(strings.NewReader("10.0.0.0,10.255.255.255,NA,US,CA\n"), "netscaler", &b)
	file := b.Build()
	wide, _ := ParseQualifiers("AS.JP")
	narrow, _ := ParseQualifiers("AS.JP.Tokyo")
	all6, _ := ParseQualifiers("EU.DE")
	us, _ := ParseQualifiers("NA.US.NY")
	db, err := file.WithCustom([]Custom{
		{netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("10.0.255.255"), wide},
		{netip.MustParseAddr("10.0.1.0"), netip.MustParseAddr("10.0.1.255"), narrow},
		{netip.MustParseAddr("::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), all6},
		{netip.MustParseAddr("10.9.0.0"), netip.MustParseAddr("10.9.0.0"), us},
	})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"10.0.0.9": "AS.JP.*.*.*.*", "10.0.1.0": "AS.JP.Tokyo.*.*.*", "10.0.1.255": "AS.JP.Tokyo.*.*.*",
		"10.0.2.0": "AS.JP.*.*.*.*", "10.0.255.255": "AS.JP.*.*.*.*", "10.1.0.0": "NA.US.CA.*.*.*", "2001:db8::1": "EU.DE.*.*.*.*",
		"::ffff:10.0.1.1": "AS.JP.Tokyo.*.*.*"} {
		if l, _, ok := db.Lookup(netip.MustParseAddr(addr)); !ok || l.String() != want {
			t.Errorf("%s: %v, want %s", addr, l, want)
		}
	}
	if l, _, ok := file.Lookup(netip.MustParseAddr("10.0.1.1")); !ok || l.String() != "NA.US.CA.*.*.*" {
		t.Errorf("the file's database changed: %v", l)
	}
	if _, ok := func() (*Location, bool) { l, _, ok := file.Lookup(netip.MustParseAddr("2001:db8::1")); return l, ok }(); ok {
		t.Error("the file's database holds a custom IPv6 range")
	}
	fl, _, _ := db.Lookup(netip.MustParseAddr("10.1.0.0"))
	cl, _, _ := db.Lookup(netip.MustParseAddr("10.9.0.0"))
	if !fl.interned || !cl.interned || Match(fl, cl) != 2 {
		t.Errorf("file NA.US.CA vs custom NA.US.NY: depth %d (interned %v %v), want 2", Match(fl, cl), fl.interned, cl.interned)
	}
	if _, err := file.WithCustom([]Custom{{netip.MustParseAddr("10.0.0.0"), netip.MustParseAddr("::1"), wide}}); err == nil {
		t.Error("a range across families accepted")
	}
	only, err := (*DB)(nil).WithCustom([]Custom{{netip.MustParseAddr("192.0.2.0"), netip.MustParseAddr("192.0.2.127"), wide}})
	if err != nil {
		t.Fatal(err)
	}
	if _, scope, ok := only.Lookup(netip.MustParseAddr("192.0.2.5")); !ok || scope != 25 {
		t.Errorf("custom only: ok %v scope %d, want /25", ok, scope)
	}
	if _, _, ok := only.Lookup(netip.MustParseAddr("192.0.2.128")); ok {
		t.Error("custom only: an address past the range found")
	}
}

// TestCustomPiecesMatchNarrowestFirst: random overlapping custom ranges
// give every address the location of the narrowest range holding it
// (the earlier one among equals), as a plain scan would.
func TestCustomPiecesMatchNarrowestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var cs []Custom
		for i := range 1 + rng.IntN(12) {
			a, b := rng.IntN(256), rng.IntN(256)
			if b < a {
				a, b = b, a
			}
			l, _ := ParseQualifiers(fmt.Sprintf("C%d", i))
			cs = append(cs, Custom{netip.AddrFrom4([4]byte{10, 0, 0, byte(a)}), netip.AddrFrom4([4]byte{10, 0, 0, byte(b)}), l})
		}
		ref := slices.Clone(cs)
		slices.SortStableFunc(ref, func(x, y Custom) int {
			wx := int(x.To.As4()[3]) - int(x.From.As4()[3])
			wy := int(y.To.As4()[3]) - int(y.From.As4()[3])
			return wx - wy
		})
		db, err := (*DB)(nil).WithCustom(cs)
		if err != nil {
			t.Fatal(err)
		}
		for x := range 256 {
			a := netip.AddrFrom4([4]byte{10, 0, 0, byte(x)})
			want := ""
			for _, c := range ref {
				if c.From.Compare(a) <= 0 && a.Compare(c.To) <= 0 {
					want = c.Loc.String()
					break
				}
			}
			got := ""
			if l, _, ok := db.Lookup(a); ok {
				got = l.String()
			}
			if got != want {
				t.Fatalf("round %d, %v: %q, want %q (ranges %v)", round, a, got, want, cs)
			}
		}
	}
}

// TestContinentFromCountry: in the geographic context a location without
// a continent gets its country's, so that a country-only client agrees
// with a service of its continent; the custom context (set by the
// builder, or by the file's Context=custom) leaves the qualifiers alone.
func TestContinentFromCountry(t *testing.T) {
	kr, jp, us := Location{Q: [6]string{"", "kr"}}, Location{Q: [6]string{"AS", "JP"}}, Location{Q: [6]string{"", "US"}}
	FillContinent(&kr)
	FillContinent(&us)
	if kr.Q[0] != "AS" || us.Q[0] != "NA" {
		t.Fatalf("KR %q, US %q", kr.Q[0], us.Q[0])
	}
	if Match(&kr, &jp) != 1 || Match(&kr, &us) != -1 {
		t.Errorf("Korea vs Japan %d, vs the US %d; want 1 and -1", Match(&kr, &jp), Match(&kr, &us))
	}
	for _, x := range [][6]string{{"", "ZZ"}, {"", "USA"}, {"EU", "US"}} {
		l := Location{Q: x}
		FillContinent(&l)
		if l.Q[0] != x[0] {
			t.Errorf("%q: continent %q, want it left", x, l.Q[0])
		}
	}
	var b Builder
	ReadFile(strings.NewReader("NSGEO1.0\nContext=custom\nStart\n10.0.0.0,10.0.0.255,,JP\n"), "netscaler", &b)
	c := Builder{CustomContext: true}
	ReadFile(strings.NewReader("10.0.0.0,10.0.0.255,,JP\n"), "netscaler", &c)
	for _, db := range []*DB{b.Build(), c.Build()} {
		if l, _, _ := db.Lookup(netip.MustParseAddr("10.0.0.1")); l.String() != "*.JP.*.*.*.*" {
			t.Errorf("custom context: %v", l)
		}
	}
	var g Builder
	ReadFile(strings.NewReader("10.0.0.0,10.0.0.255,,JP\n"), "netscaler", &g)
	if l, _, _ := g.Build().Lookup(netip.MustParseAddr("10.0.0.1")); l.String() != "AS.JP.*.*.*.*" {
		t.Errorf("geographic: %v", l)
	}
}
