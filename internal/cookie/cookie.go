// Package cookie is DNS Cookies (RFC 7873) with the interoperable server
// cookie of RFC 9018: a client sends a random client cookie; the server
// answers with a server cookie that is a keyed hash of it, of the
// client's address and of a timestamp; a client that sends it back
// proves that it receives what is sent to its address, which a spoofed
// source cannot. The server keeps no state per client.
//
// A Jar holds the secret (and the one before it, still accepted after a
// rotation) and makes and checks server cookies. Find reads the COOKIE
// option of a query in place; Append and AppendOption write one.
package cookie

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"sync/atomic"

	"github.com/dchest/siphash"
)

// Option is the EDNS option code of COOKIE (RFC 7873 §4).
const Option = 10

// Rcode BADCOOKIE (RFC 7873 §8): 23, an extended RCODE (the header
// carries its low 4 bits, the OPT record the rest).
const BadCookie = 23

// Lengths (RFC 7873 §4, RFC 9018 §4).
const (
	ClientLen = 8
	ServerLen = 16 // version, reserved, timestamp, hash
	// OptionLen is the whole option gslbd sends: code, length, client
	// cookie, server cookie.
	OptionLen = 4 + ClientLen + ServerLen
)

// Lifetime: a server cookie is accepted for an hour after its timestamp
// and up to five minutes before it (clock skew between servers that
// share a secret), and renewed once half an hour old (RFC 9018 §4.3).
const (
	maxAge    = 3600
	maxSkew   = 300
	renewAge  = 1800
	versionV1 = 1
)

// Status is what a query's COOKIE option is.
type Status uint8

const (
	None      Status = iota // no OPT record, or no COOKIE option in it
	Client                  // a client cookie only (or with a server cookie not checked yet)
	Malformed               // a COOKIE option of a wrong length, or two (FORMERR, RFC 7873 §5.2.2)
)

// Query is the COOKIE option found in a query: slices of the query.
type Query struct {
	Status Status
	Client []byte // 8 bytes
	Server []byte // the server cookie sent back (8-32 bytes), or nil
}

// Jar makes and checks server cookies. Its methods are safe for
// concurrent use.
type Jar struct {
	keys atomic.Pointer[keys]
}

// keys is the secret server cookies are made with and the one before it,
// still accepted until cookies made with it expire. A random secret
// (auto) is replaced once it is Lifetime old, counted from since (Unix
// seconds; 0: from its first use).
type keys struct {
	cur, prev [16]byte
	hasPrev   bool
	auto      bool
	since     uint32
}

// Lifetime is how long a random secret makes cookies before a new one
// replaces it (Knot's default). Cookies of the one before stay valid
// for their hour.
const Lifetime = 26 * 3600

// NewJar returns a jar with a random secret, replaced by a new random
// one every Lifetime.
func NewJar() *Jar {
	j := &Jar{}
	j.Rotate()
	return j
}

// Rotate makes a new random secret the one cookies are made with; the
// old one is still accepted. Rotate at most every hour so that no cookie
// in use is made with a secret older than the previous one.
func (j *Jar) Rotate() { j.rotate(j.keys.Load(), 0) }

// rotate replaces old with a new random secret made at now, unless
// another caller did first.
func (j *Jar) rotate(old *keys, now uint32) {
	k := &keys{auto: true, since: now}
	_, _ = rand.Read(k.cur[:]) // crypto/rand.Read never fails (Go 1.24)
	if old != nil {
		k.prev, k.hasPrev = old.cur, true
	}
	j.keys.CompareAndSwap(old, k)
}

// SetSecret makes s the secret cookies are made with, for good (servers
// answering for the same address share it, RFC 9018 §5); the previous
// one is still accepted.
func (j *Jar) SetSecret(s [16]byte) {
	k := &keys{cur: s}
	if old := j.keys.Load(); old != nil && old.cur != s {
		k.prev, k.hasPrev = old.cur, true
	} else if old != nil {
		k.prev, k.hasPrev = old.prev, old.hasPrev
	}
	j.keys.Store(k)
}

// current returns the keys to make a cookie with at now, replacing a
// random secret that is Lifetime old.
func (j *Jar) current(now uint32) *keys {
	k := j.keys.Load()
	if !k.auto {
		return k
	}
	if k.since == 0 {
		// Its first use starts its life (a jar made before the clock
		// of the queries is known: tests, and the first query).
		nk := *k
		nk.since = now
		j.keys.CompareAndSwap(k, &nk)
		return j.keys.Load()
	}
	if int32(now-k.since) >= Lifetime { // signed: a worker's clock a second behind another's is no rotation
		j.rotate(k, now)
		return j.keys.Load()
	}
	return k
}

// hash is RFC 9018 §4.4's: SipHash-2-4 of the client cookie, the
// server cookie's version, reserved and timestamp bytes, and the
// client's address (4 or 16 bytes).
func hash(key *[16]byte, client []byte, head *[8]byte, ip netip.Addr) uint64 {
	var in [8 + 8 + 16]byte
	n := copy(in[:], client)
	n += copy(in[n:], head[:])
	if ip.Is4() {
		a := ip.As4()
		n += copy(in[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(in[n:], a[:])
	}
	k0 := binary.LittleEndian.Uint64(key[0:8])
	k1 := binary.LittleEndian.Uint64(key[8:16])
	return siphash.Hash(k0, k1, in[:n])
}

// Valid reports whether server is a server cookie this jar (with the
// current or the previous secret) made for client at ip, within its
// lifetime at now (Unix seconds), and whether it is old enough to be
// renewed.
func (j *Jar) Valid(client, server []byte, ip netip.Addr, now uint32) (ok, renew bool) {
	if len(client) != ClientLen || len(server) != ServerLen || server[0] != versionV1 {
		return false, false
	}
	ts := binary.BigEndian.Uint32(server[4:8])
	// Serial number arithmetic (RFC 1982): the timestamp may wrap.
	age := int32(now - ts)
	if age > maxAge || age < -maxSkew {
		return false, false
	}
	var head [8]byte
	copy(head[:], server[:8])
	// The hash is written as SipHash's output bytes, little end first
	// (as BIND and Knot write it).
	want := binary.LittleEndian.Uint64(server[8:16])
	k := j.keys.Load()
	if hash(&k.cur, client, &head, ip) != want && !(k.hasPrev && hash(&k.prev, client, &head, ip) == want) {
		return false, false
	}
	return true, age > renewAge
}

// Append appends a new server cookie for client at ip, at now, to b.
func (j *Jar) Append(b, client []byte, ip netip.Addr, now uint32) []byte {
	head := [8]byte{versionV1, 0, 0, 0, byte(now >> 24), byte(now >> 16), byte(now >> 8), byte(now)}
	h := hash(&j.current(now).cur, client, &head, ip)
	b = append(b, head[:]...)
	return binary.LittleEndian.AppendUint64(b, h)
}

// AppendOption appends the whole COOKIE option of a response to b: the
// query's client cookie and the server cookie, the one the query sent
// back when it is valid and young, else a new one. valid reports whether
// the query's server cookie was valid.
func (j *Jar) AppendOption(b []byte, q *Query, ip netip.Addr, now uint32) (out []byte, valid bool) {
	b = append(b, 0, Option, 0, ClientLen+ServerLen)
	b = append(b, q.Client...)
	if q.Server != nil {
		ok, renew := j.Valid(q.Client, q.Server, ip, now)
		if ok && !renew {
			return append(b, q.Server...), true
		}
		valid = ok
	}
	return j.Append(b, q.Client, ip, now), valid
}

// Find reads the COOKIE option of query q in place. It walks the
// question and the additional section; a query it cannot walk has no
// cookie for it (the handler answers such a query FORMERR on its own).
func Find(q []byte) Query {
	if len(q) < 12 || q[10] != 0 || q[11] == 0 {
		return Query{} // no additional record: no OPT
	}
	i := 12
	for range u16(q[4:]) {
		i = skipName(q, i) + 4
		if i > len(q) {
			return Query{}
		}
	}
	for range u16(q[6:]) + u16(q[8:]) {
		if i = skipRR(q, i); i < 0 {
			return Query{}
		}
	}
	var found Query
	for range int(q[11]) {
		start := skipName(q, i)
		if start < 0 || start+10 > len(q) {
			return Query{}
		}
		rdlen := int(q[start+8])<<8 | int(q[start+9])
		end := start + 10 + rdlen
		if end > len(q) {
			return Query{}
		}
		if q[start] == 0 && q[start+1] == 41 { // OPT
			for j := start + 10; j+4 <= end; {
				ol := int(q[j+2])<<8 | int(q[j+3])
				if j+4+ol > end {
					return Query{}
				}
				if q[j] == 0 && q[j+1] == Option {
					if found.Status != None {
						return Query{Status: Malformed}
					}
					found = parse(q[j+4 : j+4+ol])
				}
				j += 4 + ol
			}
		}
		i = end
	}
	return found
}

// parse reads a COOKIE option's data: a client cookie of 8 bytes and
// perhaps a server cookie of 8 to 32.
func parse(d []byte) Query {
	switch {
	case len(d) == ClientLen:
		return Query{Status: Client, Client: d}
	case len(d) >= ClientLen+8 && len(d) <= ClientLen+32:
		return Query{Status: Client, Client: d[:ClientLen], Server: d[ClientLen:]}
	}
	return Query{Status: Malformed}
}

// skipName returns the offset past the name at i, or -1.
func skipName(b []byte, i int) int {
	for i >= 0 && i < len(b) {
		l := int(b[i])
		switch {
		case l == 0:
			return i + 1
		case l&0xc0 == 0xc0:
			return i + 2
		case l&0xc0 != 0:
			return -1
		}
		i += 1 + l
	}
	return -1
}

// skipRR returns the offset past the resource record at i, or -1.
func skipRR(b []byte, i int) int {
	i = skipName(b, i)
	if i < 0 || i+10 > len(b) {
		return -1
	}
	i += 10 + (int(b[i+8])<<8 | int(b[i+9]))
	if i > len(b) {
		return -1
	}
	return i
}

// LastOPT returns the offset of the OPT record when it is the last record
// of message m (as gslbd writes its responses), or -1.
func LastOPT(m []byte) int {
	if len(m) < 12 {
		return -1
	}
	i := 12
	for range u16(m[4:]) {
		if i = skipName(m, i); i < 0 || i+4 > len(m) {
			return -1
		}
		i += 4
	}
	n := u16(m[6:]) + u16(m[8:]) + u16(m[10:])
	last := -1
	for range n {
		last = i
		if i = skipRR(m, i); i < 0 {
			return -1
		}
	}
	if last < 0 || i != len(m) || u16(m[10:]) == 0 || m[last] != 0 || last+3 > len(m) || m[last+1] != 0 || m[last+2] != 41 {
		return -1
	}
	return last
}

func u16(b []byte) int { return int(b[0])<<8 | int(b[1]) }
