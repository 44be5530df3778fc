package location

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// mmdbRecord is what gslbd reads of a MaxMind GeoIP2/GeoLite2 City or
// Country record (DB-IP's MMDB files use the same names), and of the
// ISP and ASN databases.
type mmdbRecord struct {
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
	ISP          string `maxminddb:"isp"`
	Organization string `maxminddb:"organization"`
	ASOrg        string `maxminddb:"autonomous_system_organization"`
}

func (r *mmdbRecord) location() Location {
	var l Location
	l.Q[0], l.Q[1] = r.Continent.Code, r.Country.ISOCode
	if len(r.Subdivisions) > 0 {
		s := r.Subdivisions[0]
		l.Q[2] = s.Names["en"]
		if l.Q[2] == "" {
			l.Q[2] = s.ISOCode
		}
	}
	l.Q[3] = r.City.Names["en"]
	l.Q[4] = r.ISP
	l.Q[5] = r.Organization
	if l.Q[5] == "" {
		l.Q[5] = r.ASOrg
	}
	if r.Location.Latitude != nil && r.Location.Longitude != nil {
		l.Lat, l.Lon, l.HasCoords = *r.Location.Latitude, *r.Location.Longitude, true
	}
	return l
}

// ReadMMDB reads every network of an MMDB file into b, mapping its
// records onto the six qualifiers (continent code, country ISO code, the
// first subdivision's English name, the city's English name, ISP,
// organisation) and coordinates. Each distinct record is decoded once.
func ReadMMDB(path string, b *Builder) (FileStats, error) {
	var st FileStats
	db, err := maxminddb.Open(path)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	seen := map[uintptr]Location{}
	for res := range db.Networks() {
		if err := res.Err(); err != nil {
			return st, fmt.Errorf("%s: %w", path, err)
		}
		l, ok := seen[res.Offset()]
		if !ok {
			var rec mmdbRecord
			if err := res.Decode(&rec); err != nil {
				st.Errors++
				if len(st.FirstErrors) < maxFirstErrors {
					st.FirstErrors = append(st.FirstErrors, fmt.Errorf("network %v: %w", res.Prefix(), err))
				}
				continue
			}
			l = rec.location()
			seen[res.Offset()] = l
		}
		p := res.Prefix()
		from := p.Masked().Addr()
		to := lastAddr(p)
		if err := b.Add(from, to, l); err != nil {
			return st, err
		}
		st.Entries++
	}
	st.Lines = st.Entries + st.Errors
	return st, nil
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	n := p.Bits()
	if p.Addr().Is4() {
		n += 96
	}
	for i := n; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return a
}
