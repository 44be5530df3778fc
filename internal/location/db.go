package location

import (
	"cmp"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// NumQualifiers is how many qualifiers a location has: in the geographic
// context continent, country, region, city, ISP, organisation.
const NumQualifiers = 6

// Location is where an address is: six qualifiers ("" or "*": any) and,
// when known, coordinates.
type Location struct {
	Q         [NumQualifiers]string
	Lat, Lon  float64
	HasCoords bool
	// id are the qualifiers interned by the database that holds the
	// location (case folded; 0: any), so that Match compares numbers.
	id       [NumQualifiers]uint32
	interned bool
}

// String writes the qualifiers as NetScaler does: dotted, a qualifier
// holding a dot or a space double-quoted, empty ones as "*".
func (l *Location) String() string {
	var b strings.Builder
	for i, q := range l.Q {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case q == "":
			b.WriteByte('*')
		case strings.ContainsAny(q, ". "):
			b.WriteString(`"` + q + `"`)
		default:
			b.WriteString(q)
		}
	}
	return b.String()
}

// ParseQualifiers reads a dotted qualifier list (`NA.US.CA."San
// Jose".*.*`): at most six, a quoted one may hold dots and spaces, "*"
// or a missing tail means any.
func ParseQualifiers(s string) (Location, error) {
	var l Location
	if len(s) > 256 {
		return l, fmt.Errorf("location %q: longer than 256 characters", s)
	}
	n := 0
	for i := 0; i <= len(s); {
		if n == NumQualifiers {
			return l, fmt.Errorf("location %q: more than %d qualifiers", s, NumQualifiers)
		}
		var q string
		if i < len(s) && s[i] == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return l, fmt.Errorf("location %q: unterminated quote", s)
			}
			q = s[i+1 : i+1+j]
			i += j + 2
			if i < len(s) && s[i] != '.' {
				return l, fmt.Errorf("location %q: a dot must follow a quoted qualifier", s)
			}
		} else {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				j = len(s) - i
			}
			q = s[i : i+j]
			i += j
		}
		if q == "*" {
			q = ""
		}
		l.Q[n] = q
		n++
		i++ // the dot
	}
	return l, nil
}

// Match is how many leading qualifiers of a client's and a service's
// location agree, an empty or wildcard qualifier on either side agreeing
// with anything; -1 when they disagree on the first one already (no
// match at all).
func Match(client, svc *Location) int {
	depth := 0
	if client.interned && svc.interned {
		for i := range NumQualifiers {
			c, s := client.id[i], svc.id[i]
			if c != 0 && s != 0 && c != s {
				break
			}
			depth = i + 1
		}
		if depth == 0 {
			return -1
		}
		return depth
	}
	for i := range NumQualifiers {
		c, s := client.Q[i], svc.Q[i]
		if c != "" && s != "" && !strings.EqualFold(c, s) {
			break
		}
		depth = i + 1
	}
	if depth == 0 {
		return -1
	}
	return depth
}

// DB is an immutable location database: address ranges, each with a
// location. Custom ranges (`add location`) win over the file's, and the
// narrowest custom range wins.
type DB struct {
	locs []Location // deduplicated; ranges point into it
	v4   []range4   // sorted by from, not overlapping
	// v4idx[h] is the first v4 range whose start's top 16 bits are h or
	// more (h = 65536: len(v4)): a lookup searches one bucket.
	v4idx  []uint32
	v6     []range6
	custom []custom // narrowest first
}

type range4 struct {
	from, to uint32
	loc      uint32
}

type range6 struct {
	from, to u128
	loc      uint32
}

type custom struct {
	from, to netip.Addr
	loc      Location
}

type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func to128(a netip.Addr) u128 {
	b := a.As16()
	var x u128
	for i := range 8 {
		x.hi = x.hi<<8 | uint64(b[i])
		x.lo = x.lo<<8 | uint64(b[8+i])
	}
	return x
}

func to32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Len is the number of ranges (the file's and custom ones).
func (db *DB) Len() int {
	if db == nil {
		return 0
	}
	return len(db.v4) + len(db.v6) + len(db.custom)
}

// Lookup returns the location of an address and the prefix length of the
// largest aligned block around it that the matching range holds (the
// ECS scope a decision on it may claim). ok false: no range holds it.
// It allocates nothing.
func (db *DB) Lookup(a netip.Addr) (loc *Location, scope int, ok bool) {
	if db == nil || !a.IsValid() {
		return nil, 0, false
	}
	a = a.Unmap()
	for i := range db.custom {
		c := &db.custom[i]
		if c.from.BitLen() == a.BitLen() && c.from.Compare(a) <= 0 && a.Compare(c.to) <= 0 {
			if a.Is4() {
				return &c.loc, scope4(to32(a), to32(c.from), to32(c.to)), true
			}
			return &c.loc, scope6(to128(a), to128(c.from), to128(c.to)), true
		}
	}
	if a.Is4() {
		x := to32(a)
		lo, hi := int(db.v4idx[x>>16]), int(db.v4idx[x>>16+1])
		for lo < hi { // the first range of the bucket starting past x
			m := int(uint(lo+hi) >> 1)
			if db.v4[m].from > x {
				hi = m
			} else {
				lo = m + 1
			}
		}
		i := lo
		if i == 0 || db.v4[i-1].to < x {
			return nil, 0, false
		}
		r := &db.v4[i-1]
		return &db.locs[r.loc], scope4(x, r.from, r.to), true
	}
	x := to128(a)
	i := sort.Search(len(db.v6), func(i int) bool { return db.v6[i].from.cmp(x) > 0 })
	if i == 0 || db.v6[i-1].to.cmp(x) < 0 {
		return nil, 0, false
	}
	r := &db.v6[i-1]
	return &db.locs[r.loc], scope6(x, r.from, r.to), true
}

// scope4 is the shortest prefix length whose block around x lies within
// [from, to]: the block must leave out from-1 and to+1, so it is longer
// than the prefix x shares with either.
func scope4(x, from, to uint32) int {
	l := 0
	if from > 0 {
		l = max(l, bits.LeadingZeros32(x^(from-1))+1)
	}
	if to < ^uint32(0) {
		l = max(l, bits.LeadingZeros32(x^(to+1))+1)
	}
	return min(l, 32)
}

func scope6(x, from, to u128) int {
	lz := func(a, b u128) int {
		if h := a.hi ^ b.hi; h != 0 {
			return bits.LeadingZeros64(h)
		}
		return 64 + bits.LeadingZeros64(a.lo^b.lo)
	}
	l := 0
	if from != (u128{}) {
		lo, borrow := bits.Sub64(from.lo, 1, 0)
		hi, _ := bits.Sub64(from.hi, 0, borrow)
		l = max(l, lz(x, u128{hi, lo})+1)
	}
	if to != (u128{^uint64(0), ^uint64(0)}) {
		lo, carry := bits.Add64(to.lo, 1, 0)
		hi, _ := bits.Add64(to.hi, 0, carry)
		l = max(l, lz(x, u128{hi, lo})+1)
	}
	return min(l, 128)
}

// Builder collects ranges for a DB.
type Builder struct {
	qids   map[string]uint32
	locs   []Location
	index  map[Location]uint32
	v4     []range4
	v6     []range6
	custom []custom
	// Overlaps counts file ranges dropped because they overlap one
	// before them.
	Overlaps int
}

// intern gives l's qualifiers their numbers (shared by every location
// of the database, so that two databases' locations never compare).
func (b *Builder) intern(l *Location) {
	if b.qids == nil {
		b.qids = map[string]uint32{}
	}
	for i, q := range l.Q {
		if q == "" || q == "*" {
			l.id[i] = 0
			continue
		}
		k := strings.ToLower(q)
		id, ok := b.qids[k]
		if !ok {
			id = uint32(len(b.qids) + 1)
			b.qids[k] = id
		}
		l.id[i] = id
	}
	l.interned = true
}

func (b *Builder) loc(l Location) uint32 {
	if b.index == nil {
		b.index = map[Location]uint32{}
	}
	if i, ok := b.index[l]; ok {
		return i
	}
	key := l
	b.intern(&l)
	i := uint32(len(b.locs))
	b.locs = append(b.locs, l)
	b.index[key] = i
	return i
}

// Add takes a range of the location file (from <= to, one family).
func (b *Builder) Add(from, to netip.Addr, l Location) error {
	from, to = from.Unmap(), to.Unmap()
	if from.BitLen() != to.BitLen() || !from.IsValid() {
		return fmt.Errorf("range %v-%v: the two ends are of different families", from, to)
	}
	if to.Less(from) {
		return fmt.Errorf("range %v-%v: the end is below the start", from, to)
	}
	i := b.loc(l)
	if from.Is4() {
		b.v4 = append(b.v4, range4{to32(from), to32(to), i})
	} else {
		b.v6 = append(b.v6, range6{to128(from), to128(to), i})
	}
	return nil
}

// AddCustom takes an `add location` range.
func (b *Builder) AddCustom(from, to netip.Addr, l Location) error {
	from, to = from.Unmap(), to.Unmap()
	if from.BitLen() != to.BitLen() || !from.IsValid() {
		return fmt.Errorf("range %v-%v: the two ends are of different families", from, to)
	}
	if to.Less(from) {
		return fmt.Errorf("range %v-%v: the end is below the start", from, to)
	}
	b.custom = append(b.custom, custom{from, to, l})
	return nil
}

// Build sorts the ranges and returns the database; the Builder is not
// used again.
func (b *Builder) Build() *DB {
	slices.SortStableFunc(b.v4, func(x, y range4) int { return cmp.Compare(x.from, y.from) })
	slices.SortStableFunc(b.v6, func(x, y range6) int { return x.from.cmp(y.from) })
	v4 := b.v4[:0]
	for _, r := range b.v4 {
		if len(v4) > 0 && r.from <= v4[len(v4)-1].to {
			b.Overlaps++
			continue
		}
		v4 = append(v4, r)
	}
	v6 := b.v6[:0]
	for _, r := range b.v6 {
		if len(v6) > 0 && r.from.cmp(v6[len(v6)-1].to) <= 0 {
			b.Overlaps++
			continue
		}
		v6 = append(v6, r)
	}
	width := func(c custom) (w u128) {
		f, t := to128(c.from), to128(c.to)
		lo, borrow := bits.Sub64(t.lo, f.lo, 0)
		hi, _ := bits.Sub64(t.hi, f.hi, borrow)
		return u128{hi, lo}
	}
	slices.SortStableFunc(b.custom, func(x, y custom) int { return width(x).cmp(width(y)) })
	for i := range b.custom {
		b.intern(&b.custom[i].loc)
	}
	idx := make([]uint32, 1<<16+1)
	j := 0
	for h := range idx {
		for j < len(v4) && int(v4[j].from>>16) < h {
			j++
		}
		idx[h] = uint32(j)
	}
	return &DB{locs: slices.Clip(b.locs), v4: slices.Clip(v4), v4idx: idx, v6: slices.Clip(v6), custom: b.custom}
}
