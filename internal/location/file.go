package location

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// Formats are the location file layouts `add locationFile -format`
// names (NetScaler's), each as its columns: "dot" a dotted address, "num"
// a decimal IPv4 address, "-" a column skipped, qN qualifier N (1-6),
// "lon"/"lat" coordinates. A row may end early (missing qualifiers are
// any). geoip-city and the -org/-isp variants follow MaxMind's legacy
// joined layout (NetScaler documents their columns only loosely).
var Formats = map[string][]string{
	"netscaler":                  {"dot", "dot", "q1", "q2", "q3", "q4", "q5", "q6", "lon", "lat"},
	"netscaler6":                 {"dot", "dot", "q1", "q2", "q3", "q4", "q5", "q6", "lon", "lat"},
	"ip-country":                 {"num", "num", "q2", "-"},
	"ip-country-isp":             {"num", "num", "q2", "-", "q5"},
	"ip-country-region-city":     {"num", "num", "q2", "-", "q3", "q4"},
	"ip-country-region-city-isp": {"num", "num", "q2", "-", "q3", "q4", "q5"},
	"geoip-country":              {"dot", "dot", "-", "-", "q2", "-"},
	"geoip-country6":             {"dot", "dot", "-", "-", "q2", "-"},
	"geoip-region":               {"dot", "dot", "-", "-", "q2", "q3"},
	"geoip-city":                 {"dot", "dot", "-", "-", "q2", "q3", "q4", "-", "lat", "lon"},
	"geoip-country-org":          {"dot", "dot", "-", "-", "q2", "q6"},
	"geoip-country-isp":          {"dot", "dot", "-", "-", "q2", "q5"},
	"geoip-city-isp-org":         {"dot", "dot", "-", "-", "q2", "q3", "q4", "q5", "q6"},
}

// FileStats are what loading a file found (show locationParameter:
// lines, errors, warnings, entries).
type FileStats struct {
	Lines, Entries, Errors int
	// Context and Labels come from a NetScaler-format header
	// (Context=custom, QualifierN=label).
	Context string
	Labels  [NumQualifiers]string
	// FirstErrors are up to five errors, each with its line.
	FirstErrors []error
}

// maxFirstErrors bounds FileStats.FirstErrors.
const maxFirstErrors = 5

// ReadFile reads a location file of format into b. Rows that do not parse
// are counted and skipped (the first few kept with their line numbers);
// an unknown format, or a read error, fails.
func ReadFile(r io.Reader, format string, b *Builder) (FileStats, error) {
	var st FileStats
	cols, ok := Formats[strings.ToLower(format)]
	if !ok {
		return st, fmt.Errorf("unknown location file format %q (one of netscaler, netscaler6, ip-country, ip-country-isp, ip-country-region-city, ip-country-region-city-isp, geoip-country, geoip-region, geoip-city, geoip-country-org, geoip-country-isp, geoip-city-isp-org)", format)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var fields [16][]byte
	header := true
	for sc.Scan() {
		st.Lines++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if header {
			// NetScaler's tag header: NSGEO1.0, Context=..., QualifierN=...,
			// Start. Without it, data starts at once.
			s := string(line)
			switch {
			case s == "NSGEO1.0" || s == "Start" || s == "End":
				if s == "Start" {
					header = false
				}
				continue
			case strings.HasPrefix(s, "Context="):
				st.Context = strings.ToLower(strings.TrimPrefix(s, "Context="))
				b.CustomContext = b.CustomContext || st.Context == "custom"
				continue
			case strings.HasPrefix(s, "Qualifier") && strings.Contains(s, "="):
				k, v, _ := strings.Cut(strings.TrimPrefix(s, "Qualifier"), "=")
				if n, err := strconv.Atoi(k); err == nil && n >= 1 && n <= NumQualifiers {
					st.Labels[n-1] = v
				}
				continue
			}
			header = false
		}
		if string(line) == "End" {
			continue
		}
		n, err := split(line, fields[:])
		if err == nil {
			err = row(fields[:n], cols, b)
		}
		if err != nil {
			st.Errors++
			if len(st.FirstErrors) < maxFirstErrors {
				st.FirstErrors = append(st.FirstErrors, fmt.Errorf("line %d: %w", st.Lines, err))
			}
			continue
		}
		st.Entries++
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("line %d: %w", st.Lines+1, err)
	}
	return st, nil
}

// split cuts a CSV row into fields without allocating: a field may be
// double-quoted (and then hold commas; "" is a quote, kept doubled, which
// location data never holds).
func split(line []byte, out [][]byte) (int, error) {
	n := 0
	for i := 0; i <= len(line); {
		if n == len(out) {
			return n, nil // columns past the last one a format reads
		}
		if i < len(line) && line[i] == '"' {
			j := bytes.IndexByte(line[i+1:], '"')
			if j < 0 {
				return n, errors.New("unterminated quote")
			}
			out[n] = line[i+1 : i+1+j]
			n++
			i += j + 2
			if i < len(line) && line[i] != ',' {
				return n, errors.New("text after a closing quote")
			}
			i++
			continue
		}
		j := bytes.IndexByte(line[i:], ',')
		if j < 0 {
			j = len(line) - i
		}
		out[n] = bytes.TrimSpace(line[i : i+j])
		n++
		i += j + 1
	}
	return n, nil
}

// row reads one row by its format's columns.
func row(f [][]byte, cols []string, b *Builder) error {
	if len(f) < 2 {
		return errors.New("fewer than two columns")
	}
	var from, to netip.Addr
	var l Location
	var lat, lon float64
	var hasLat, hasLon bool
	for i, c := range cols {
		if i >= len(f) {
			break
		}
		v := f[i]
		switch c {
		case "dot", "num":
			var a netip.Addr
			var err error
			if c == "dot" {
				a, err = netip.ParseAddr(string(v))
			} else {
				var x uint64
				x, err = strconv.ParseUint(string(v), 10, 32)
				a = netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
			}
			if err != nil {
				return fmt.Errorf("column %d: not an address: %q", i+1, v)
			}
			if i == 0 {
				from = a
			} else {
				to = a
			}
		case "lat", "lon":
			if len(v) == 0 {
				continue
			}
			x, err := strconv.ParseFloat(string(v), 64)
			if err != nil || c == "lat" && (x < -90 || x > 90) || c == "lon" && (x < -180 || x > 180) {
				return fmt.Errorf("column %d: not a %s: %q", i+1, map[string]string{"lat": "latitude", "lon": "longitude"}[c], v)
			}
			if c == "lat" {
				lat, hasLat = x, true
			} else {
				lon, hasLon = x, true
			}
		case "-":
		default:
			q := string(v)
			if q == "*" || q == "-" {
				q = ""
			}
			l.Q[c[1]-'1'] = q
		}
	}
	if !to.IsValid() {
		return errors.New("no end address")
	}
	if hasLat && hasLon {
		l.Lat, l.Lon, l.HasCoords = lat, lon, true
	}
	return b.Add(from, to, l)
}
