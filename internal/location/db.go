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
	v4idx []uint32
	v6    []range6
	// custom4 and custom6 are the custom ranges cut into pieces that do
	// not overlap, sorted (IPv4 as IPv4-mapped addresses), pointing into
	// clocs.
	custom4, custom6 []range6
	clocs            []Location
	// qids numbers the qualifiers of locs (read-only once built): custom
	// locations added later (WithCustom) share the numbers, and number
	// theirs in extra.
	qids, extra map[string]uint32
}

// Intern returns l with its qualifiers numbered as the database's, so
// that Match compares it with the database's locations by number; a
// qualifier no location of the database has agrees with none of them.
// A nil database leaves l as it is (Match then compares the text).
func (db *DB) Intern(l Location) Location {
	if db == nil {
		return l
	}
	for i, q := range l.Q {
		if q == "" || q == "*" {
			l.id[i] = 0
			continue
		}
		k := strings.ToLower(q)
		id, ok := db.qids[k]
		if !ok {
			id, ok = db.extra[k]
		}
		if !ok {
			id = ^uint32(0)
		}
		l.id[i] = id
	}
	l.interned = true
	return l
}

type range4 struct {
	from, to uint32
	loc      uint32
}

type range6 struct {
	from, to u128
	loc      uint32
}

// Custom is one custom range (`add location`).
type Custom struct {
	From, To netip.Addr
	Loc      Location
}

type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// add adds d modulo 2^128 (d = ^0: subtracts one).
func (a u128) add(d uint64) u128 {
	if d == ^uint64(0) {
		lo, borrow := bits.Sub64(a.lo, 1, 0)
		hi, _ := bits.Sub64(a.hi, 0, borrow)
		return u128{hi, lo}
	}
	lo, carry := bits.Add64(a.lo, d, 0)
	hi, _ := bits.Add64(a.hi, 0, carry)
	return u128{hi, lo}
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
	return len(db.v4) + len(db.v6) + len(db.clocs)
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
	cs := db.custom6
	if a.Is4() {
		cs = db.custom4
	}
	if len(cs) > 0 {
		x := to128(a)
		i := sort.Search(len(cs), func(i int) bool { return cs[i].from.cmp(x) > 0 })
		if i > 0 && cs[i-1].to.cmp(x) >= 0 {
			r := &cs[i-1]
			if a.Is4() {
				return &db.clocs[r.loc], scope4(uint32(x.lo), uint32(r.from.lo), uint32(r.to.lo)), true
			}
			return &db.clocs[r.loc], scope6(x, r.from, r.to), true
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
	custom []Custom
	// Overlaps counts file ranges dropped because they overlap one
	// before them.
	Overlaps int
	// CustomContext: the qualifiers are not geographic (set
	// locationParameter -context custom, or the file's Context=custom),
	// so a missing continent is not derived from the country.
	CustomContext bool
}

// intern gives l's qualifiers their numbers (shared by every location
// of the database, so that two databases' locations never compare).
func (b *Builder) intern(l *Location) {
	if b.qids == nil {
		b.qids = map[string]uint32{}
	}
	internIn(l, nil, b.qids)
}

// internIn numbers l's qualifiers: those of base keep their number (base
// is only read), others get one in extra after every number of both.
func internIn(l *Location, base, extra map[string]uint32) {
	for i, q := range l.Q {
		if q == "" || q == "*" {
			l.id[i] = 0
			continue
		}
		k := strings.ToLower(q)
		id, ok := base[k]
		if !ok {
			id, ok = extra[k]
		}
		if !ok {
			id = uint32(len(base) + len(extra) + 1)
			extra[k] = id
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
	if !b.CustomContext {
		FillContinent(&l)
	}
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
	c := Custom{from.Unmap(), to.Unmap(), l}
	if err := c.check(); err != nil {
		return err
	}
	b.custom = append(b.custom, c)
	return nil
}

func (c Custom) check() error {
	if c.From.BitLen() != c.To.BitLen() || !c.From.IsValid() {
		return fmt.Errorf("range %v-%v: the two ends are of different families", c.From, c.To)
	}
	if c.To.Less(c.From) {
		return fmt.Errorf("range %v-%v: the end is below the start", c.From, c.To)
	}
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
	idx := make([]uint32, 1<<16+1)
	j := 0
	for h := range idx {
		for j < len(v4) && int(v4[j].from>>16) < h {
			j++
		}
		idx[h] = uint32(j)
	}
	if b.qids == nil {
		b.qids = map[string]uint32{}
	}
	db := &DB{locs: slices.Clip(b.locs), v4: slices.Clip(v4), v4idx: idx, v6: slices.Clip(v6), qids: b.qids}
	db.setCustom(b.custom)
	return db
}

// WithCustom returns a database with db's file ranges and cs as its
// custom ranges (replacing db's); db is not changed, and nil db means no
// file. It costs the custom ranges, not the file's.
func (db *DB) WithCustom(cs []Custom) (*DB, error) {
	cs = slices.Clone(cs)
	for i := range cs {
		cs[i].From, cs[i].To = cs[i].From.Unmap(), cs[i].To.Unmap()
		if err := cs[i].check(); err != nil {
			return nil, err
		}
	}
	if db == nil {
		db = (&Builder{}).Build()
	}
	n := *db
	n.setCustom(cs)
	return &n, nil
}

// setCustom cuts the custom ranges into pieces that do not overlap, the
// narrowest range taking what it covers, and numbers their qualifiers.
func (db *DB) setCustom(cs []Custom) {
	width := func(c Custom) u128 {
		f, t := to128(c.From), to128(c.To)
		lo, borrow := bits.Sub64(t.lo, f.lo, 0)
		hi, _ := bits.Sub64(t.hi, f.hi, borrow)
		return u128{hi, lo}
	}
	slices.SortStableFunc(cs, func(x, y Custom) int { return width(x).cmp(width(y)) })
	extra := map[string]uint32{}
	db.extra = extra
	db.clocs = make([]Location, len(cs))
	db.custom4, db.custom6 = nil, nil
	for ci, c := range cs {
		db.clocs[ci] = c.Loc
		internIn(&db.clocs[ci], db.qids, extra)
		list := &db.custom6
		if c.From.Is4() {
			list = &db.custom4
		}
		*list = addPiece(*list, to128(c.From), to128(c.To), uint32(ci))
	}
	db.custom4, db.custom6 = slices.Clip(db.custom4), slices.Clip(db.custom6)
}

// addPiece adds to the sorted, non-overlapping pieces the parts of
// [from, to] no piece covers yet.
func addPiece(pieces []range6, from, to u128, loc uint32) []range6 {
	i := sort.Search(len(pieces), func(i int) bool { return pieces[i].to.cmp(from) >= 0 })
	var gaps []range6
	at, done := from, false
	for j := i; j < len(pieces); j++ {
		p := pieces[j]
		if p.from.cmp(to) > 0 {
			break
		}
		if at.cmp(p.from) < 0 {
			gaps = append(gaps, range6{at, p.from.add(^uint64(0)), loc})
		}
		if p.to.cmp(to) >= 0 {
			done = true
			break
		}
		at = p.to.add(1) // p.to < to: no overflow
	}
	if !done {
		gaps = append(gaps, range6{at, to, loc})
	}
	pieces = append(pieces, gaps...)
	slices.SortFunc(pieces, func(x, y range6) int { return x.from.cmp(y.from) })
	return pieces
}
