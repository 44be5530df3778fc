package dnsserver

import "sync/atomic"

// Transport indexes Stats' per-transport counters.
const (
	UDP = iota
	TCP
	NumTransports
)

// QTypes are the question types counted apart, QTypeNames their names;
// every other type counts under the last name, "other".
var (
	QTypes     = [...]uint16{1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 65, 255}
	QTypeNames = [...]string{"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "NAPTR", "HTTPS", "ANY", "other"}
)

// SizeBounds are the upper bounds, in bytes, of the response size
// histogram's buckets (a last bucket holds the rest).
var SizeBounds = [...]int{64, 128, 256, 512, 1232, 1500, 4096}

const (
	numQTypes = len(QTypeNames)
	numSizes  = len(SizeBounds) + 1
)

// qtypeIndex maps a question type to its counter.
var qtypeIndex = func() (m [256]uint8) {
	for i := range m {
		m[i] = uint8(numQTypes - 1)
	}
	for i, t := range QTypes {
		m[t] = uint8(i)
	}
	return m
}()

// Counts are one worker's figures since it last flushed: plain fields,
// written by that worker only, so that a query costs no atomic
// operation; Flush adds them to the shared Stats once per batch.
type Counts struct {
	queries, dropped, truncated, sizeSum uint64
	rcode                                [16]uint64
	qtype                                [numQTypes]uint64
	size                                 [numSizes]uint64
	cookie                               [NumCookieResults]uint64
}

// Count notes one query and its response (nil: none sent).
func (c *Counts) Count(q, resp []byte) {
	c.queries++
	c.qtype[questionType(q)]++
	if resp == nil {
		c.dropped++
		return
	}
	if len(resp) >= 4 {
		c.rcode[resp[3]&0x0f]++
		if resp[2]&0x02 != 0 {
			c.truncated++
		}
	}
	c.sizeSum += uint64(len(resp))
	i := 0
	for i < len(SizeBounds) && len(resp) > SizeBounds[i] {
		i++
	}
	c.size[i]++
}

// questionType returns the counter of a query's question type (other
// when the query has no readable question).
func questionType(q []byte) int {
	if len(q) < 12 || q[4] != 0 || q[5] == 0 {
		return numQTypes - 1
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		if q[i]&0xc0 != 0 { // a pointer: not in a question
			return numQTypes - 1
		}
		i += 1 + int(q[i])
	}
	if i+2 >= len(q) || q[i+1] != 0 {
		return numQTypes - 1
	}
	return int(qtypeIndex[q[i+2]])
}

// transportStats are one transport's shared counters.
type transportStats struct {
	queries, dropped, truncated, sizeSum atomic.Uint64
	rcode                                [16]atomic.Uint64
	qtype                                [numQTypes]atomic.Uint64
	size                                 [numSizes]atomic.Uint64
	cookie                               [NumCookieResults]atomic.Uint64
}

// Flush adds a worker's counts to the server's counters of a transport
// and clears them.
func (c *Counts) Flush(s *Stats, transport int) {
	t := &s.t[transport]
	if c.queries == 0 {
		return
	}
	add := func(a *atomic.Uint64, v *uint64) {
		if *v != 0 {
			a.Add(*v)
			*v = 0
		}
	}
	add(&t.queries, &c.queries)
	add(&t.dropped, &c.dropped)
	add(&t.truncated, &c.truncated)
	add(&t.sizeSum, &c.sizeSum)
	for i := range c.rcode {
		add(&t.rcode[i], &c.rcode[i])
	}
	for i := range c.qtype {
		add(&t.qtype[i], &c.qtype[i])
	}
	for i := range c.size {
		add(&t.size[i], &c.size[i])
	}
	for i := range c.cookie {
		add(&t.cookie[i], &c.cookie[i])
	}
}

// Stats are the server's counters, read at scrape time.
type Stats struct {
	t [NumTransports]transportStats
	// TCPRefused counts connections closed at once (their client's
	// TCPMaxPerSource); TCPEvicted the idlest connections closed to
	// make room at TCPMaxConns; TCPConnections those accepted.
	TCPRefused, TCPEvicted, TCPConnections atomic.Uint64
}

// TransportCounts is a snapshot of one transport's counters.
type TransportCounts struct {
	// Queries were read; Dropped got no answer (too long, or the handler
	// sent none, or the socket refused it); Truncated answers had TC set.
	Queries, Dropped, Truncated uint64
	// Rcode counts the answers by RCODE (the header's four bits), QType
	// the queries by question type (QTypeNames' order; one too long to
	// read counts as other).
	Rcode [16]uint64
	QType [numQTypes]uint64
	// Size counts the answers by size bucket (SizeBounds, then the
	// rest), SizeSum is their total size in bytes.
	Size    [numSizes]uint64
	SizeSum uint64
	// Cookie counts the queries with a DNS cookie by what became of it
	// (CookieResultNames' order).
	Cookie [NumCookieResults]uint64
}

// Transport returns a transport's counters (UDP or TCP).
func (s *Stats) Transport(i int) TransportCounts {
	t := &s.t[i]
	out := TransportCounts{Queries: t.queries.Load(), Dropped: t.dropped.Load(), Truncated: t.truncated.Load(), SizeSum: t.sizeSum.Load()}
	for i := range out.Rcode {
		out.Rcode[i] = t.rcode[i].Load()
	}
	for i := range out.QType {
		out.QType[i] = t.qtype[i].Load()
	}
	for i := range out.Size {
		out.Size[i] = t.size[i].Load()
	}
	for i := range out.Cookie {
		out.Cookie[i] = t.cookie[i].Load()
	}
	return out
}

// Dropped is every query that got no answer, both transports.
func (s *Stats) Dropped() uint64 { return s.t[UDP].dropped.Load() + s.t[TCP].dropped.Load() }

// dropped adds queries that got no answer after they were counted (a
// send that failed).
func (s *Stats) dropped(tr int, n uint64) { s.t[tr].dropped.Add(n) }
