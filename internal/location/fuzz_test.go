package location

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzReadFile: any bytes as a location file, in any format, load without
// a panic; every row counted is either an entry or an error; the database
// built answers lookups, and an address it finds lies in a range whose
// location prints and parses back to the same qualifiers.
func FuzzReadFile(f *testing.F) {
	f.Add(nsFile, "netscaler", "10.0.1.5")
	f.Add(`"16777216","16777471","AU","Australia"`, "ip-country", "1.0.0.9")
	f.Add(`"1.0.0.0","1.0.0.255","1","2","JP","Japan"`, "geoip-country", "1.0.0.1")
	f.Add("2001:db8::,2001:db8::ffff,EU,\"F.R\",\"a b\"", "netscaler6", "2001:db8::1")
	f.Add("NSGEO1.0\nContext=custom\nQualifier9=x\nStart\n1.2.3.4,1.2.3.4", "netscaler", "1.2.3.4")
	f.Fuzz(func(t *testing.T, text, format, addr string) {
		var b Builder
		st, err := ReadFile(strings.NewReader(text), format, &b)
		if err != nil {
			return
		}
		if len(st.FirstErrors) > maxFirstErrors || len(st.FirstErrors) > st.Errors {
			t.Fatalf("stats %+v", st)
		}
		db := b.Build()
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		l, scope, ok := db.Lookup(a)
		if !ok {
			return
		}
		if scope < 0 || scope > a.Unmap().BitLen() {
			t.Fatalf("scope %d for %v", scope, a)
		}
		// A qualifier holding a quote cannot be written back (NetScaler's
		// syntax has no escape); any other prints and parses back.
		if strings.Contains(strings.Join(l.Q[:], ""), `"`) {
			return
		}
		back, err := ParseQualifiers(l.String())
		if err != nil || back.Q != l.Q {
			t.Fatalf("%q printed as %q parses back as %q (%v)", l.Q, l.String(), back.Q, err)
		}
	})
}
